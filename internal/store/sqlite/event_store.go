package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// AppendEvent stores e (as JSON) and sets its ID.
func (d *DB) AppendEvent(ctx context.Context, e *bindery.Event) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := appendEvent(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// appendEvent stores e inside tx (so that a run's state change and its
// event commit together) and sets its ID.
func appendEvent(ctx context.Context, tx *sql.Tx, e *bindery.Event) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO events (at, type, run_id, book_id, body) VALUES (?, ?, ?, ?, '')`, ts(e.Timestamp), e.Type, e.RunID, e.BookID)
	if err != nil {
		return err
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE events SET body = ? WHERE id = ?`, string(body), e.ID)
	return err
}

func (d *DB) queryEvents(ctx context.Context, q string, args ...any) ([]*bindery.Event, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
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
	return d.queryEvents(ctx, `SELECT body FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, eventLimit(limit))
}

// RecentEvents returns the last limit events, oldest first.
func (d *DB) RecentEvents(ctx context.Context, limit int) ([]*bindery.Event, error) {
	return d.queryEvents(ctx, `SELECT body FROM (SELECT id, body FROM events ORDER BY id DESC LIMIT ?) ORDER BY id`, eventLimit(limit))
}

// RunLogs returns the log events of a run, oldest first.
func (d *DB) RunLogs(ctx context.Context, runID int64, limit int) ([]*bindery.Event, error) {
	return d.queryEvents(ctx, `SELECT body FROM events WHERE run_id = ? AND type = ? ORDER BY id LIMIT ?`, runID, bindery.EventLog, eventLimit(limit))
}

// OldestEventID returns the smallest stored event id, 0 when there is none.
func (d *DB) OldestEventID(ctx context.Context) (int64, error) {
	var id int64
	err := d.db.QueryRowContext(ctx, `SELECT COALESCE(MIN(id), 0) FROM events`).Scan(&id)
	return id, err
}

// DeleteEventsBefore removes events older than t.
func (d *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	return affected(d.db.ExecContext(ctx, `DELETE FROM events WHERE at < ?`, ts(t)))
}
