package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/cluster"
	"github.com/bindery/bindery/internal/realtime"
	"github.com/bindery/bindery/internal/server"
	"github.com/bindery/bindery/internal/store/postgres"
)

// nodeEvents is how a server's live sockets learn of events and
// revocations.
//
// With SQLite one process serves the data folder, so the pipeline
// publishes each event to the hub itself, and a revocation closes the
// sockets of this process. With PostgreSQL several nodes share the
// database: the events table is the one source, and every node's feed
// reads it whenever the database notifies that an event was stored (by
// any node, this one included) — so a dashboard on one node sees a run
// executing on another, in order, once; and a revocation is also
// notified, so that every node closes the sockets it names.
type nodeEvents struct {
	// publish hands a stored event to the sockets (the pipeline's
	// Publisher).
	publish func(*bindery.Event)
	// revoked is called after a revocation, to tell the other nodes.
	revoked func(auth.Revocation)
	// run listens and feeds until ctx ends (nil: nothing to run).
	run func(ctx context.Context)
	// catchUp waits until the feed has read event id (nil with one
	// process: its hub publishes every event as it is stored).
	catchUp func(ctx context.Context, id int64)
	// bookDeleted is called after this node deleted a book, to tell the
	// other nodes; deletedBooks yields the books other nodes (and this
	// one) said they deleted, for pruneCopies (nil with one process).
	bookDeleted  func(id int64)
	deletedBooks <-chan int64
}

// newNodeEvents wires the hub for db. last is the id of the last event the
// hub was preloaded with.
func newNodeEvents(ctx context.Context, db bindery.Store, hub *realtime.Hub, last int64, log *slog.Logger) (*nodeEvents, error) {
	pg, ok := db.(*postgres.DB)
	if !ok {
		return &nodeEvents{
			publish: func(ev *bindery.Event) {
				if err := hub.Publish(ev); err != nil {
					log.Error("publishing an event", "type", ev.Type, "err", err)
				}
			},
			revoked:     func(auth.Revocation) {},
			bookDeleted: bookDeletedNotifier(ctx, db, log),
		}, nil
	}
	events, err := pg.Channel(ctx, cluster.EventsChannel)
	if err != nil {
		return nil, err
	}
	revocations, err := pg.Channel(ctx, cluster.RevocationsChannel)
	if err != nil {
		return nil, err
	}
	booksCh, err := pg.Channel(ctx, cluster.BooksChannel)
	if err != nil {
		return nil, err
	}
	// The handler must not block the listener: a deletion it cannot
	// queue is left to the next sweep.
	deleted := make(chan int64, 64)
	feed := cluster.NewFeed(db, last, hub.Publish, log)
	listener := &cluster.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) { return pg.Listen(ctx) },
		Handlers: map[string]func(string){
			events:      func(string) { feed.Wake() },
			revocations: cluster.Revocations(func(r auth.Revocation) { server.Disconnect(hub, r) }, log),
			booksCh: cluster.BooksDeleted(func(id int64) {
				select {
				case deleted <- id:
				default:
					log.Warn("too many book deletions at once; this node removes its copy at its next sweep", "book_id", id)
				}
			}, log),
		},
		OnConnect: feed.Wake, // notifications missed while away: read what is new
		Logger:    log,
	}
	return &nodeEvents{
		// The event is stored already; the feed reads it from the table
		// (at once: this wake does not wait for the notification).
		publish: func(*bindery.Event) { feed.Wake() },
		revoked: func(r auth.Revocation) {
			nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := pg.Notify(nctx, cluster.RevocationsChannel, cluster.RevocationPayload(r)); err != nil {
				log.Error("telling the other nodes of a revocation; their sockets close at their next check", "err", err)
			}
		},
		bookDeleted:  bookDeletedNotifier(ctx, db, log),
		deletedBooks: deleted,
		catchUp:      func(ctx context.Context, id int64) { feed.WaitFor(ctx, id) },
		run: func(ctx context.Context) {
			go feed.Run(ctx)
			go func() {
				if err := listener.Run(ctx); err != nil {
					log.Error("cluster listener stopped", "err", err)
				}
			}()
		},
	}, nil
}

// bookDeletedNotifier returns what tells the nodes sharing db that a book
// was deleted (cluster.BooksChannel), so that they remove their copies of
// it at once: the server's and the shell's (`bindery user delete`) book
// service call it. With SQLite there is one process and nothing to tell.
func bookDeletedNotifier(ctx context.Context, db bindery.Store, log *slog.Logger) func(id int64) {
	pg, ok := db.(*postgres.DB)
	if !ok {
		return func(int64) {}
	}
	return func(id int64) {
		nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := pg.Notify(nctx, cluster.BooksChannel, cluster.BookPayload(id)); err != nil {
			log.Error("telling the other nodes of a book's deletion; they remove their copies at their next sweep", "book_id", id, "err", err)
		}
	}
}
