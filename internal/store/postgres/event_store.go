package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
)

// AppendEvent stores e (as JSON) and sets its ID.
func (d *DB) AppendEvent(ctx context.Context, e *bindery.Event) error {
	return d.tx(ctx, func(tx pgx.Tx) error { return appendEvent(ctx, tx, e) })
}

// appendEvent stores e inside tx (so that a run's state change and its
// event commit together) and sets its ID.
//
// The events lock is taken before the id is drawn and held to the commit:
// a sequence hands out ids in order but transactions commit in any order,
// and a reader resuming "after id N" must never see N+1 before N exists
// (it would skip N for good). With the lock, ids become visible in the
// order they were drawn, on every node, as SQLite's single writer gives.
// It is always the last lock a transaction takes (ChangeRun locks the run
// row first), so it cannot deadlock.
func appendEvent(ctx context.Context, tx pgx.Tx, e *bindery.Event) error {
	if err := lock(ctx, tx, lockEvents); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('events', 'id'))`).Scan(&e.ID); err != nil {
		return err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err = tx.Exec(ctx, `INSERT INTO events (id, at, type, run_id, book_id, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, ts(e.Timestamp), e.Type, e.RunID, e.BookID, string(body)); err != nil {
		return err
	}
	// Every node's feed (cluster.Feed) learns that there is something to
	// read; PostgreSQL delivers it at the commit, and not at all on a
	// rollback.
	_, err = tx.Exec(ctx, `SELECT pg_notify(`+channelSQL+`, $2::text)`, "events", strconv.FormatInt(e.ID, 10))
	return err
}

// channelSQL is the SQL of the deployment's channel named $1: channels
// are database-wide, so the schema the tables are in is part of the name.
const channelSQL = `'bindery_' || $1::text || '_' || current_schema()`

// Channel returns the name of this deployment's notification channel
// name (cluster.EventsChannel, cluster.RevocationsChannel), for a
// cluster.Listener.
func (d *DB) Channel(ctx context.Context, name string) (string, error) {
	var ch string
	err := d.pool.QueryRow(ctx, `SELECT `+channelSQL, name).Scan(&ch)
	return ch, err
}

// Notify sends payload on this deployment's channel name (a revocation,
// for every node's sockets).
func (d *DB) Notify(ctx context.Context, name, payload string) error {
	_, err := d.pool.Exec(ctx, `SELECT pg_notify(`+channelSQL+`, $2::text)`, name, payload)
	return err
}

func (d *DB) queryEvents(ctx context.Context, q string, args ...any) ([]*bindery.Event, error) {
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*bindery.Event{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var e bindery.Event
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return nil, err
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}

func eventLimit(limit int) int {
	if limit <= 0 || limit > 10000 {
		return 10000
	}
	return limit
}

// EventsAfter returns events with ID > after, oldest first.
func (d *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]*bindery.Event, error) {
	return d.queryEvents(ctx, `SELECT body FROM events WHERE id > $1 ORDER BY id LIMIT $2`, after, eventLimit(limit))
}

// RecentEvents returns the last limit events, oldest first.
func (d *DB) RecentEvents(ctx context.Context, limit int) ([]*bindery.Event, error) {
	return d.queryEvents(ctx, `SELECT body FROM (SELECT id, body FROM events ORDER BY id DESC LIMIT $1) AS recent ORDER BY id`, eventLimit(limit))
}

// RunLogs returns the log events of a run, oldest first.
func (d *DB) RunLogs(ctx context.Context, runID int64, limit int) ([]*bindery.Event, error) {
	return d.queryEvents(ctx, `SELECT body FROM events WHERE run_id = $1 AND type = $2 ORDER BY id LIMIT $3`, runID, bindery.EventLog, eventLimit(limit))
}

// OldestEventID returns the smallest stored event id, 0 when there is none.
func (d *DB) OldestEventID(ctx context.Context) (int64, error) {
	var id int64
	err := d.pool.QueryRow(ctx, `SELECT COALESCE(MIN(id), 0) FROM events`).Scan(&id)
	return id, err
}

// DeleteEventsBefore removes events older than t.
func (d *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	return affected(d.pool.Exec(ctx, `DELETE FROM events WHERE at < $1`, ts(t)))
}

// Listen opens a connection of its own (outside the pool, with the pool's
// settings) for a cluster.Listener: LISTEN holds its connection for as
// long as it listens.
func (d *DB) Listen(ctx context.Context) (*pgx.Conn, error) {
	return pgx.ConnectConfig(ctx, d.pool.Config().ConnConfig.Copy())
}
