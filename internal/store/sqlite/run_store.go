package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// CreateRun inserts r and its pending stages in one transaction.
func (d *DB) CreateRun(ctx context.Context, r *bindery.Run) error {
	formats, err := json.Marshal(r.Formats)
	if err != nil {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (book_id, state, formats, publish, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.BookID, r.State, string(formats), r.Publish, r.CreatedBy, ts(r.CreatedAt))
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
	return tx.Commit()
}

const runColumns = `id, book_id, state, formats, publish, created_by, created_at, started_at, finished_at, error`

func scanRun(s scanner) (*bindery.Run, error) {
	var r bindery.Run
	var formats string
	var created int64
	var started, finished sql.NullInt64
	if err := s.Scan(&r.ID, &r.BookID, &r.State, &formats, &r.Publish, &r.CreatedBy, &created, &started, &finished, &r.Error); err != nil {
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

// SetRunState records a run's state, stamping started_at on the first
// start and finished_at when it ends.
func (d *DB) SetRunState(ctx context.Context, id int64, state, errMsg string, at time.Time) error {
	q := `UPDATE runs SET state = ?, error = ?`
	args := []any{state, errMsg}
	switch state {
	case bindery.RunRunning:
		q += `, started_at = COALESCE(started_at, ?)`
		args = append(args, ts(at))
	case bindery.RunSucceeded, bindery.RunFailed, bindery.RunStopped:
		q += `, finished_at = ?`
		args = append(args, ts(at))
	}
	res, err := d.db.ExecContext(ctx, q+` WHERE id = ?`, append(args, id)...)
	return rowsAffected(res, err, "Run not found.")
}

// UpdateStage records one stage's state.
func (d *DB) UpdateStage(ctx context.Context, runID int64, s bindery.StageState) error {
	var started, finished any
	if s.StartedAt != nil {
		started = ts(*s.StartedAt)
	}
	if s.FinishedAt != nil {
		finished = ts(*s.FinishedAt)
	}
	res, err := d.db.ExecContext(ctx, `UPDATE run_stages SET state = ?, progress = ?, message = ?, started_at = ?, finished_at = ? WHERE run_id = ? AND name = ?`,
		s.State, s.Progress, s.Message, started, finished, runID, s.Name)
	return rowsAffected(res, err, "Stage not found.")
}

// ClaimRun moves run id from queued to running if it is queued.
func (d *DB) ClaimRun(ctx context.Context, id int64, at time.Time) (bool, error) {
	return d.MoveRun(ctx, id, []string{bindery.RunQueued}, bindery.RunRunning, at)
}

// MoveRun changes run id's state from one of from to to, atomically.
func (d *DB) MoveRun(ctx context.Context, id int64, from []string, to string, at time.Time) (bool, error) {
	if len(from) == 0 {
		return false, nil
	}
	q := `UPDATE runs SET state = ?`
	args := []any{to}
	switch to {
	case bindery.RunRunning:
		q += `, started_at = COALESCE(started_at, ?)`
		args = append(args, ts(at))
	case bindery.RunSucceeded, bindery.RunFailed, bindery.RunStopped:
		q += `, finished_at = ?`
		args = append(args, ts(at))
	}
	q += ` WHERE id = ? AND state IN (?` + strings.Repeat(", ?", len(from)-1) + `)`
	args = append(args, id)
	for _, f := range from {
		args = append(args, f)
	}
	n, err := affected(d.db.ExecContext(ctx, q, args...))
	if err != nil || n == 1 {
		return n == 1, err
	}
	if _, err := d.RunByID(ctx, id); err != nil {
		return false, err
	}
	return false, nil
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
