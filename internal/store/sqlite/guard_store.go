package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// GuardFailure implements bindery.GuardStore.
func (d *DB) GuardFailure(ctx context.Context, key string, now, since time.Time) (int, error) {
	var n int
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM guard_failures WHERE at < ?`, ts(since)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO guard_failures (key, at) VALUES (?, ?)`, key, ts(now)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM guard_failures WHERE key = ? AND at >= ?`, key, ts(since)).Scan(&n)
	})
	return n, err
}

// GuardFailures implements bindery.GuardStore.
func (d *DB) GuardFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var last sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(at) FROM guard_failures WHERE key = ? AND at >= ?`, key, ts(since)).Scan(&n, &last)
	if err != nil || !last.Valid {
		return n, time.Time{}, err
	}
	return n, fromTS(last.Int64), nil
}

// GuardClear implements bindery.GuardStore.
func (d *DB) GuardClear(ctx context.Context, key string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM guard_failures WHERE key = ?`, key)
	return err
}

// GuardBlock implements bindery.GuardStore.
func (d *DB) GuardBlock(ctx context.Context, key string, until time.Time) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO guard_blocks (key, until) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET until = excluded.until`, key, ts(until)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM guard_failures WHERE key = ?`, key)
		return err
	})
}

// GuardBlocked implements bindery.GuardStore.
func (d *DB) GuardBlocked(ctx context.Context, key string, now time.Time) (time.Time, bool, error) {
	var until int64
	err := d.db.QueryRowContext(ctx, `SELECT until FROM guard_blocks WHERE key = ? AND until > ?`, key, ts(now)).Scan(&until)
	if err == sql.ErrNoRows {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, err
	}
	return fromTS(until), true, nil
}

// GuardBlocks implements bindery.GuardStore.
func (d *DB) GuardBlocks(ctx context.Context, now time.Time) ([]bindery.GuardBlock, error) {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM guard_blocks WHERE until <= ?`, ts(now)); err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT key, until FROM guard_blocks WHERE until > ? ORDER BY until, key`, ts(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []bindery.GuardBlock{}
	for rows.Next() {
		var b bindery.GuardBlock
		var until int64
		if err := rows.Scan(&b.Key, &until); err != nil {
			return nil, err
		}
		b.Until = fromTS(until)
		out = append(out, b)
	}
	return out, rows.Err()
}

// GuardLift implements bindery.GuardStore.
func (d *DB) GuardLift(ctx context.Context, key string, now time.Time) (bool, error) {
	var active bool
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM guard_blocks WHERE key = ? AND until > ?`, key, ts(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		active = n > 0
		if _, err := tx.ExecContext(ctx, `DELETE FROM guard_blocks WHERE key = ?`, key); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM guard_failures WHERE key = ?`, key)
		return err
	})
	return active, err
}
