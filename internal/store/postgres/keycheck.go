package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/secretbox"
)

// KeyMismatchError is Open's refusal of a keyring that does not hold the
// key the database was encrypted with.
type KeyMismatchError = secretbox.KeyMismatchError

// checkKey makes sure the keyring holds the key the database was
// encrypted with, recording it on first use (secretbox.Keyring.CheckStore):
// with several nodes on one database, a node started with another key
// would otherwise write accounts no other node could find.
func (d *DB) checkKey(ctx context.Context) error {
	return d.secrets.CheckStore(ctx, keyRecord{d}, "database")
}

// keyRecord is the database's side of secretbox.Keyring.CheckStore.
type keyRecord struct{ d *DB }

func (k keyRecord) RecordedCheck(ctx context.Context) (string, error) {
	var v string
	err := k.d.pool.QueryRow(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (k keyRecord) SampleTokens(ctx context.Context) ([]string, error) {
	var out []string
	for _, c := range encryptedColumns {
		var tok string
		err := k.d.pool.QueryRow(ctx, `SELECT `+c.value+` FROM `+c.table+` WHERE `+c.value+` != '' ORDER BY `+c.id+` LIMIT 1`).Scan(&tok)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
	return out, nil
}

// RecordCheckIfAbsent: another node may have recorded first.
func (k keyRecord) RecordCheckIfAbsent(ctx context.Context, check string) error {
	_, err := k.d.pool.Exec(ctx, `INSERT INTO key_check (id, value, updated_at) VALUES (1, $1, $2) ON CONFLICT DO NOTHING`, check, ts(time.Now()))
	return err
}

// recordCurrentKey records the current key as the database's, once
// rotation has re-encrypted every value under it.
func (d *DB) recordCurrentKey(ctx context.Context) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO key_check (id, value, updated_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, d.secrets.CheckValue(), ts(time.Now()))
	return err
}
