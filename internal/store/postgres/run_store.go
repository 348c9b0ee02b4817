package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
)

// CreateRun inserts r and its pending stages in one transaction.
func (d *DB) CreateRun(ctx context.Context, r *bindery.Run) error {
	return d.tx(ctx, func(tx pgx.Tx) error { return insertRun(ctx, tx, r) })
}

// insertRun inserts r and its pending stages in tx and sets r.ID.
func insertRun(ctx context.Context, tx pgx.Tx, r *bindery.Run) error {
	formats, err := json.Marshal(r.Formats)
	if err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `INSERT INTO runs (book_id, state, formats, publish, draft, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		r.BookID, r.State, string(formats), r.Publish, r.Draft, r.CreatedBy, ts(r.CreatedAt)).Scan(&r.ID)
	if isForeignKey(err) {
		return bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
	} else if err != nil {
		return err
	}
	r.Stages = r.Stages[:0]
	for i, name := range bindery.Stages {
		if _, err := tx.Exec(ctx, `INSERT INTO run_stages (run_id, position, name, state) VALUES ($1, $2, $3, 'pending')`, r.ID, i, name); err != nil {
			return err
		}
		r.Stages = append(r.Stages, bindery.StageState{Name: name, State: "pending"})
	}
	return nil
}

// QueueRun implements bindery.RunStore. The queue lock serialises every
// QueueRun of every node, so two requests cannot both find no queued run,
// nor both stay under a user's limit.
func (d *DB) QueueRun(ctx context.Context, r *bindery.Run, maxActive int) (*bindery.Run, error) {
	var existing int64
	err := d.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockQueue); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT id FROM runs WHERE book_id = $1 AND state = 'queued' ORDER BY id LIMIT 1`, r.BookID).Scan(&existing)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if maxActive > 0 {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM runs WHERE created_by = $1 AND state IN ('queued', 'running', 'paused')`, r.CreatedBy).Scan(&n); err != nil {
				return err
			}
			if n >= maxActive {
				return bindery.Errorf(bindery.ETOOMANY, "You have %d runs queued, running or paused, the limit; wait for one to finish or stop one.", n)
			}
		}
		return insertRun(ctx, tx, r)
	})
	if err != nil {
		return nil, err
	}
	if existing != 0 {
		return d.RunByID(ctx, existing)
	}
	return r, nil
}

const runColumns = `id, book_id, state, formats, publish, draft, created_by, created_at, started_at, finished_at, error, lease, committed`

func scanRun(s scanner) (*bindery.Run, error) {
	var r bindery.Run
	var formats string
	var created int64
	var started, finished *int64
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

// stages loads the stages of the given runs, in one query.
func (d *DB) stages(ctx context.Context, runs []*bindery.Run) error {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]int64, len(runs))
	byID := make(map[int64]*bindery.Run, len(runs))
	for i, r := range runs {
		ids[i], byID[r.ID] = r.ID, r
		r.Stages = []bindery.StageState{}
	}
	rows, err := d.pool.Query(ctx, `SELECT run_id, name, state, progress, message, started_at, finished_at FROM run_stages WHERE run_id = ANY($1) ORDER BY run_id, position`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s bindery.StageState
		var started, finished *int64
		if err := rows.Scan(&id, &s.Name, &s.State, &s.Progress, &s.Message, &started, &finished); err != nil {
			return err
		}
		s.StartedAt, s.FinishedAt = optTS(started), optTS(finished)
		r := byID[id]
		r.Stages = append(r.Stages, s)
	}
	return rows.Err()
}

func (d *DB) queryRuns(ctx context.Context, q string, args ...any) ([]*bindery.Run, error) {
	rows, err := d.pool.Query(ctx, q, args...)
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
	runs, err := d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id)
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
	return d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE book_id = $1 ORDER BY id DESC LIMIT $2`, bookID, limit)
}

// RunIDsOfBook returns the ids of every run of the book, oldest first.
func (d *DB) RunIDsOfBook(ctx context.Context, bookID int64) ([]int64, error) {
	rows, err := d.pool.Query(ctx, `SELECT id FROM runs WHERE book_id = $1 ORDER BY id`, bookID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// RunsInState returns the runs in any of states, oldest first.
func (d *DB) RunsInState(ctx context.Context, states ...string) ([]*bindery.Run, error) {
	if len(states) == 0 {
		return []*bindery.Run{}, nil
	}
	return d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE state = ANY($1) ORDER BY id`, states)
}

// StaleRuns returns the running runs whose execution last showed a sign
// of life (its claim or a heartbeat) before before, oldest first.
func (d *DB) StaleRuns(ctx context.Context, before time.Time) ([]*bindery.Run, error) {
	return d.queryRuns(ctx, `SELECT `+runColumns+` FROM runs WHERE state = 'running' AND heartbeat_at < $1 ORDER BY id`, ts(before))
}

// UpdateStage records one stage's state.
func (d *DB) UpdateStage(ctx context.Context, runID int64, s bindery.StageState) error {
	return updateStage(ctx, d.pool, runID, s)
}

func updateStage(ctx context.Context, db querier, runID int64, s bindery.StageState) error {
	tag, err := db.Exec(ctx, `UPDATE run_stages SET state = $1, progress = $2, message = $3, started_at = $4, finished_at = $5 WHERE run_id = $6 AND name = $7`,
		s.State, s.Progress, s.Message, tsOrNil(s.StartedAt), tsOrNil(s.FinishedAt), runID, s.Name)
	return rowsAffected(tag, err, "Stage not found.")
}

// ChangeRun applies one guarded step of the run state machine in one
// transaction: the guarded UPDATE of the run row (whose RETURNING decides),
// then, only if it applied, the stage row and the event.
//
// The UPDATE is the compare-and-set. Of two racing steps on one run (two
// nodes, or a worker and a request), the second waits for the first's row
// lock and PostgreSQL then re-evaluates its WHERE clause against the row
// as the first left it (READ COMMITTED's rule for UPDATE): a step whose
// guard (From, Lease, Open) no longer holds touches nothing and reports
// false, exactly as with SQLite's one writer at a time.
func (d *DB) ChangeRun(ctx context.Context, c bindery.RunChange) (int64, bool, error) {
	if len(c.From) == 0 {
		return 0, false, nil
	}
	var lease int64
	applied := false
	err := d.tx(ctx, func(tx pgx.Tx) error {
		var to *string
		if c.To != "" {
			to = &c.To
		}
		args := []any{to}
		arg := func(v any) string {
			args = append(args, v)
			return "$" + strconv.Itoa(len(args))
		}
		q := `UPDATE runs SET state = COALESCE($1, state)`
		switch c.To {
		case bindery.RunRunning:
			q += `, started_at = COALESCE(started_at, ` + arg(ts(c.At)) + `)`
		case bindery.RunSucceeded, bindery.RunFailed, bindery.RunStopped:
			q += `, finished_at = ` + arg(ts(c.At)) + `, error = ` + arg(c.Error)
		}
		if c.Claim {
			q += `, lease = lease + 1`
		}
		if c.Claim || c.Heartbeat {
			q += `, heartbeat_at = ` + arg(ts(c.At))
		}
		if c.Commit {
			q += `, committed = true`
		}
		q += ` WHERE id = ` + arg(c.RunID) + ` AND state = ANY(` + arg(c.From) + `)`
		if c.Lease != 0 {
			q += ` AND lease = ` + arg(c.Lease)
		}
		if c.Open {
			q += ` AND NOT committed`
		}
		err := tx.QueryRow(ctx, q+` RETURNING lease`, args...).Scan(&lease)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1)`, c.RunID).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return bindery.Errorf(bindery.ENOTFOUND, "Run not found.")
			}
			return nil
		} else if err != nil {
			return err
		}
		applied = true
		if c.Interrupt {
			if _, err := tx.Exec(ctx, `UPDATE run_stages SET state = 'pending', message = 'interrupted', finished_at = NULL WHERE run_id = $1 AND state = 'running'`, c.RunID); err != nil {
				return err
			}
		}
		if c.Stage != nil {
			if err := updateStage(ctx, tx, c.RunID, *c.Stage); err != nil {
				return err
			}
		}
		if c.Event != nil {
			told := false
			if c.Once {
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE run_id = $1 AND type = $2)`, c.RunID, c.Event.Type).Scan(&told); err != nil {
					return err
				}
			}
			if !told {
				return appendEvent(ctx, tx, c.Event)
			}
		}
		return nil
	})
	if err != nil || !applied {
		return 0, false, err
	}
	return lease, true, nil
}

// CountRunsByState counts runs per state.
func (d *DB) CountRunsByState(ctx context.Context) (map[string]int, error) {
	rows, err := d.pool.Query(ctx, `SELECT state, COUNT(*) FROM runs GROUP BY state`)
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
