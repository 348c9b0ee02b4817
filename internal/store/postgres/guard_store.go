package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
)

// GuardFailure implements bindery.GuardStore. Failures of one key are
// counted under a transaction-scoped advisory lock on the key, so that
// nodes recording failures of one address at once each see the others'
// (no attempt slips past the limit between two counts).
func (d *DB) GuardFailure(ctx context.Context, key string, now, since time.Time) (int, error) {
	var n int
	err := d.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockScope+`, hashtext($1))`, "guard:"+key); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM guard_failures WHERE at < $1`, ts(since)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO guard_failures (key, at) VALUES ($1, $2)`, key, ts(now)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM guard_failures WHERE key = $1 AND at >= $2`, key, ts(since)).Scan(&n)
	})
	return n, err
}

// GuardFailures implements bindery.GuardStore.
func (d *DB) GuardFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var last *int64
	err := d.pool.QueryRow(ctx, `SELECT COUNT(*), MAX(at) FROM guard_failures WHERE key = $1 AND at >= $2`, key, ts(since)).Scan(&n, &last)
	if err != nil || last == nil {
		return n, time.Time{}, err
	}
	return n, fromTS(*last), nil
}

// GuardClear implements bindery.GuardStore.
func (d *DB) GuardClear(ctx context.Context, key string) error {
	_, err := d.pool.Exec(ctx, `DELETE FROM guard_failures WHERE key = $1`, key)
	return err
}

// GuardBlock implements bindery.GuardStore.
func (d *DB) GuardBlock(ctx context.Context, key string, until time.Time) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO guard_blocks (key, until) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET until = excluded.until`, key, ts(until)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM guard_failures WHERE key = $1`, key)
		return err
	})
}

// GuardBlocked implements bindery.GuardStore.
func (d *DB) GuardBlocked(ctx context.Context, key string, now time.Time) (time.Time, bool, error) {
	var until int64
	err := d.pool.QueryRow(ctx, `SELECT until FROM guard_blocks WHERE key = $1 AND until > $2`, key, ts(now)).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, err
	}
	return fromTS(until), true, nil
}

// GuardBlocks implements bindery.GuardStore.
func (d *DB) GuardBlocks(ctx context.Context, now time.Time) ([]bindery.GuardBlock, error) {
	if _, err := d.pool.Exec(ctx, `DELETE FROM guard_blocks WHERE until <= $1`, ts(now)); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, `SELECT key, until FROM guard_blocks WHERE until > $1 ORDER BY until, key`, ts(now))
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
	err := d.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM guard_blocks WHERE key = $1 AND until > $2`, key, ts(now))
		if err != nil {
			return err
		}
		active = tag.RowsAffected() > 0
		if _, err := tx.Exec(ctx, `DELETE FROM guard_blocks WHERE key = $1`, key); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM guard_failures WHERE key = $1`, key)
		return err
	})
	return active, err
}
