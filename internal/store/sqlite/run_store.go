package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// CreateRun inserts r and its pending stages in one transaction.
func (d *DB) CreateRun(ctx context.Context, r *bindery.Run) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertRun(ctx, tx, r); err != nil {
		return err
	}
	return tx.Commit()
}

// insertRun inserts r and its pending stages in tx and sets r.ID.
func insertRun(ctx context.Context, tx *sql.Tx, r *bindery.Run) error {
	formats, err := json.Marshal(r.Formats)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (book_id, state, formats, publish, draft, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.BookID, r.State, string(formats), r.Publish, r.Draft, r.CreatedBy, ts(r.CreatedAt))
	if isForeignKey(err) {
		return bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
	} else if err != nil {
		return err
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	r.Stages = r.Stages[:0]
	for i, name := range bindery.Stages {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_stages (run_id, position, name, state) VALUES (?, ?, ?, 'pending')`, r.ID, i, name); err != nil {
			return err
		}
		r.Stages = append(r.Stages, bindery.StageState{Name: name, State: "pending"})
	}
	return nil
}

// QueueRun implements bindery.RunStore. The transaction is IMMEDIATE (the
// pool's _txlock), so two requests cannot both find no queued run.
func (d *DB) QueueRun(ctx context.Context, r *bindery.Run, maxActive int) (*bindery.Run, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	existing, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE book_id = ? AND state = 'queued' ORDER BY id LIMIT 1`, r.BookID))
	switch {
	case err == nil:
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		return d.RunByID(ctx, existing.ID)
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	}
	if maxActive > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE created_by = ? AND state IN ('queued', 'running', 'paused')`, r.CreatedBy).Scan(&n); err != nil {
			return nil, err
		}
		if n >= maxActive {
			return nil, bindery.Errorf(bindery.ETOOMANY, "You have %d runs queued, running or paused, the limit; wait for one to finish or stop one.", n)
		}
	}
	if err := insertRun(ctx, tx, r); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return r, nil
}

const runColumns = `id, book_id, state, formats, publish, draft, created_by, created_at, started_at, finished_at, error, lease, committed`

func scanRun(s scanner) (*bindery.Run, error) {
	var r bindery.Run
	var formats string
	var created int64
	var started, finished sql.NullInt64
	if err := s.Scan(&r.ID, &r.BookID, &r.State, &formats, &r.Publish, &r.Draft, &r.CreatedBy, &created, &started, &finished, &r.Error, &r.Lease, &r.Committed); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(formats), &r.Formats); err != nil {
		return nil, err
	}
	r.CreatedAt = fromTS(created)
	r.StartedAt, r.FinishedAt = optTS(started), optTS(finished)
	return &r, nil
}

func optTS(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromTS(n.Int64)
	return &t
}

// stages loads the stages of the given runs.
func (d *DB) stages(ctx context.Context, runs []*bindery.Run) error {
	for _, r := range runs {
		rows, err := d.db.QueryContext(ctx, `SELECT name, state, progress, message, started_at, finished_at FROM run_stages WHERE run_id = ? ORDER BY position`, r.ID)
		if err != nil {
			return err
		}
		r.Stages = []bindery.StageState{}
		for rows.Next() {
			var s bindery.StageState
			var started, finished sql.NullInt64
			if err := rows.Scan(&s.Name, &s.State, &s.Progress, &s.Message, &started, &finished); err != nil {
				rows.Close()
				return err
			}
			s.StartedAt, s.FinishedAt = optTS(started), optTS(finished)
			r.Stages = append(r.Stages, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) queryRuns(ctx context.Context, q string, args ...any) ([]*bindery.Run, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := []*bindery.Run{}
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, d.stages(ctx, out)
}

// RunByID returns run id with its stages, or ENOTFOUND.
func (d *DB) RunByID(ctx context.Context, id int64) (*bindery.Run, error) {
	runs, err := d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, bindery.Errorf(bindery.ENOTFOUND, "Run not found.")
	}
	return runs[0], nil
}

// ListRuns returns the book's runs, newest first.
func (d *DB) ListRuns(ctx context.Context, bookID int64, limit int) ([]*bindery.Run, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	return d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE book_id = ? ORDER BY id DESC LIMIT ?`, bookID, limit)
}

// RunIDsOfBook returns the ids of every run of the book, oldest first.
func (d *DB) RunIDsOfBook(ctx context.Context, bookID int64) ([]int64, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT id FROM runs WHERE book_id = ? ORDER BY id`, bookID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// StaleRuns returns the running runs whose execution last showed a sign
// of life (its claim or a heartbeat) before before, oldest first.
func (d *DB) StaleRuns(ctx context.Context, before time.Time) ([]*bindery.Run, error) {
	return d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE state = 'running' AND heartbeat_at < ? ORDER BY id`, ts(before))
}

// RunsInState returns the runs in any of states, oldest first.
func (d *DB) RunsInState(ctx context.Context, states ...string) ([]*bindery.Run, error) {
	if len(states) == 0 {
		return []*bindery.Run{}, nil
	}
	args := make([]any, len(states))
	for i, s := range states {
		args[i] = s
	}
	return d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE state IN (?`+strings.Repeat(", ?", len(states)-1)+`) ORDER BY id`, args...)
}

// UpdateStage records one stage's state.
func (d *DB) UpdateStage(ctx context.Context, runID int64, s bindery.StageState) error {
	return updateStage(ctx, d.db, runID, s)
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func updateStage(ctx context.Context, db execer, runID int64, s bindery.StageState) error {
	var started, finished any
	if s.StartedAt != nil {
		started = ts(*s.StartedAt)
	}
	if s.FinishedAt != nil {
		finished = ts(*s.FinishedAt)
	}
	res, err := db.ExecContext(ctx, `UPDATE run_stages SET state = ?, progress = ?, message = ?, started_at = ?, finished_at = ? WHERE run_id = ? AND name = ?`,
		s.State, s.Progress, s.Message, started, finished, runID, s.Name)
	return rowsAffected(res, err, "Stage not found.")
}

// ChangeRun applies one guarded step of the run state machine in one
// transaction: the guarded UPDATE of the run row (whose rows-affected count
// decides), then, only if it applied, the stage row and the event. SQLite
// serialises write transactions (they begin IMMEDIATE), so of two racing
// steps the second sees the first's state.
func (d *DB) ChangeRun(ctx context.Context, c bindery.RunChange) (int64, bool, error) {
	if len(c.From) == 0 {
		return 0, false, nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback()
	q := `UPDATE runs SET state = COALESCE(?, state)`
	var to any
	if c.To != "" {
		to = c.To
	}
	args := []any{to}
	switch c.To {
	case bindery.RunRunning:
		q += `, started_at = COALESCE(started_at, ?)`
		args = append(args, ts(c.At))
	case bindery.RunSucceeded, bindery.RunFailed, bindery.RunStopped:
		q += `, finished_at = ?, error = ?`
		args = append(args, ts(c.At), c.Error)
	}
	if c.Claim {
		q += `, lease = lease + 1`
	}
	if c.Claim || c.Heartbeat {
		q += `, heartbeat_at = ?`
		args = append(args, ts(c.At))
	}
	if c.Commit {
		q += `, committed = 1`
	}
	q += ` WHERE id = ? AND state IN (?` + strings.Repeat(", ?", len(c.From)-1) + `)`
	args = append(args, c.RunID)
	for _, f := range c.From {
		args = append(args, f)
	}
	if c.Lease != 0 {
		q += ` AND lease = ?`
		args = append(args, c.Lease)
	}
	if c.Open {
		q += ` AND committed = 0`
	}
	var lease int64
	err = tx.QueryRowContext(ctx, q+` RETURNING lease`, args...).Scan(&lease)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE id = ?`, c.RunID).Scan(&n); err != nil {
			return 0, false, err
		}
		if n == 0 {
			return 0, false, bindery.Errorf(bindery.ENOTFOUND, "Run not found.")
		}
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	if c.Interrupt {
		if _, err := tx.ExecContext(ctx, `UPDATE run_stages SET state = 'pending', message = 'interrupted', finished_at = NULL WHERE run_id = ? AND state = 'running'`, c.RunID); err != nil {
			return 0, false, err
		}
	}
	if c.Stage != nil {
		if err := updateStage(ctx, tx, c.RunID, *c.Stage); err != nil {
			return 0, false, err
		}
	}
	if c.Event != nil {
		told := false
		if c.Once {
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE run_id = ? AND type = ?)`, c.RunID, c.Event.Type).Scan(&told); err != nil {
				return 0, false, err
			}
		}
		if !told {
			if err := appendEvent(ctx, tx, c.Event); err != nil {
				return 0, false, err
			}
		}
	}
	return lease, true, tx.Commit()
}

// CountRunsByState counts runs per state.
func (d *DB) CountRunsByState(ctx context.Context) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM runs GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}
