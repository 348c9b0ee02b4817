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
			revoked: func(auth.Revocation) {},
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
	feed := cluster.NewFeed(db, last, hub.Publish, log)
	listener := &cluster.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) { return pg.Listen(ctx) },
		Handlers: map[string]func(string){
			events:      func(string) { feed.Wake() },
			revocations: cluster.Revocations(func(r auth.Revocation) { server.Disconnect(hub, r) }, log),
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
		catchUp: func(ctx context.Context, id int64) { feed.WaitFor(ctx, id) },
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
