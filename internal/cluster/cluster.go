// Package cluster carries what the nodes of one Bindery deployment must
// tell each other, over PostgreSQL's LISTEN/NOTIFY — no home-made
// protocol, no extra service: every node already holds a connection to
// the database.
//
// Three things travel:
//
//   - "an event was stored": the events table is the source of truth;
//     a notification only says "look". Each node's Feed then reads the
//     events after the last one it published, in id order, and fans them
//     out to its own sockets. A lost or merged notification costs nothing
//     (the next read catches up), a duplicate costs one empty query, and
//     ids that commit in order (the store serialises event inserts) make
//     "after the last id" gap-free.
//   - "close these sockets": sign-out, password and role changes revoke
//     sessions in the database (checked on every request by every node);
//     the notification makes the other nodes close the live sockets of the
//     revoked sessions at once, rather than at their next check.
//   - "this book is gone": a node that deleted a book says so, and every
//     node removes its own copies of the book's files and outputs at once
//     (after checking that the book's row is indeed gone), rather than at
//     its next sweep.
//
// Notifications are not authenticated beyond the database's own access
// control: anyone who can NOTIFY on the deployment's database can already
// rewrite its tables. A payload is only ever an instruction to re-read the
// database or to disconnect; it carries no data a node would trust.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bindery/bindery/internal/auth"
)

// The names of the channels, before the store makes them the
// deployment's own (postgres.DB.Channel: deployments or tests sharing one
// PostgreSQL server in different schemas do not hear each other).
const (
	EventsChannel      = "events"
	RevocationsChannel = "revocations"
	BooksChannel       = "books"
)

// Listener holds one dedicated connection that LISTENs on the channels
// it has handlers for, and calls the handler of each notification, one at
// a time, in the order PostgreSQL delivers them. It reconnects by itself
// (with jittered backoff) and calls OnConnect after every (re)connection:
// notifications sent while it was away are lost, so OnConnect catches up
// (the Feed re-reads the events table).
type Listener struct {
	// Connect opens the dedicated connection (pgx.Connect with the
	// deployment's database URL).
	Connect func(ctx context.Context) (*pgx.Conn, error)
	// Handlers are called by channel (full names).
	Handlers  map[string]func(payload string)
	OnConnect func()
	Logger    *slog.Logger
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) error {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := l.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("cluster listener connection lost; reconnecting", "err", err, "in", backoff)
		t := time.NewTimer(backoff/2 + rand.N(backoff/2+1)) // #nosec G404 -- reconnection jitter, not a secret
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

// session is one connection's life: LISTEN, catch up, then wait.
func (l *Listener) session(ctx context.Context) error {
	conn, err := l.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for ch := range l.Handlers {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	if l.OnConnect != nil {
		l.OnConnect()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if h := l.Handlers[n.Channel]; h != nil {
			h(n.Payload)
		}
	}
}

// Execer is what Notify sends with: a pool, a connection or a
// transaction (in which case the notification is delivered at commit).
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// maxPayload is PostgreSQL's limit on a notification's payload, less a
// margin.
const maxPayload = 7900

// Notify sends payload on channel.
func Notify(ctx context.Context, db Execer, channel, payload string) error {
	if len(payload) > maxPayload {
		return errors.New("cluster: notification payload too large")
	}
	_, err := db.Exec(ctx, "SELECT pg_notify($1, $2)", channel, payload)
	return err
}

// RevocationPayload is r as a notification on the revocations channel
// tells every node to close the sockets it names.
func RevocationPayload(r auth.Revocation) string {
	data, _ := json.Marshal(revocation{UserID: r.UserID, SessionID: r.SessionID, TokenID: r.TokenID, All: r.All}) // cannot fail: ints, strings, a bool
	return string(data)
}

// revocation is auth.Revocation on the wire. Session and token ids are
// the database's identifiers of the rows (never the secrets), which any
// node can already read.
type revocation struct {
	UserID    int64  `json:"user_id"`
	SessionID string `json:"session_id,omitempty"`
	TokenID   string `json:"token_id,omitempty"`
	All       bool   `json:"all,omitempty"`
}

// Revocations returns the handler of RevocationsChannel: it decodes each
// revocation and calls disconnect. A payload that does not decode is
// ignored (logged).
func Revocations(disconnect func(auth.Revocation), log *slog.Logger) func(string) {
	return func(payload string) {
		var r revocation
		if err := json.Unmarshal([]byte(payload), &r); err != nil || r.UserID <= 0 {
			if log != nil {
				log.Warn("ignored a malformed revocation notification")
			}
			return
		}
		disconnect(auth.Revocation{UserID: r.UserID, SessionID: r.SessionID, TokenID: r.TokenID, All: r.All})
	}
}

// BookPayload is the notification on BooksChannel that book id was
// deleted.
func BookPayload(id int64) string { return strconv.FormatInt(id, 10) }

// BooksDeleted returns the handler of BooksChannel: it decodes each book
// id and calls deleted. A payload that is not a positive decimal id is
// ignored (logged). deleted must not trust the id further than "re-read
// the database": the notification is an instruction to look, not proof.
func BooksDeleted(deleted func(id int64), log *slog.Logger) func(string) {
	return func(payload string) {
		id, err := strconv.ParseInt(payload, 10, 64)
		if err != nil || id <= 0 || BookPayload(id) != payload {
			if log != nil {
				log.Warn("ignored a malformed book notification")
			}
			return
		}
		deleted(id)
	}
}
