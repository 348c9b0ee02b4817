package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/secretbox"
)

// KeyMismatchError is Open's refusal of a keyring that does not hold the
// key the database was encrypted with. It names the variable and both
// keys by fingerprint (secretbox.Fingerprint), never by value.
type KeyMismatchError struct {
	Have string // fingerprint of ENCRYPTION_KEY
	Want string // fingerprint of the database's key; "" if unrecorded
}

func (e *KeyMismatchError) Error() string {
	want := "another key"
	if e.Want != "" {
		want = "key " + e.Want
	}
	return fmt.Sprintf("configuration: ENCRYPTION_KEY (key %s) is not the key this database was encrypted with (%s): "+
		"set ENCRYPTION_KEY to the servers' key; to change keys, put the old one in ENCRYPTION_KEY_PREVIOUS and run `bindery keys rotate`",
		e.Have, want)
}

// checkKey makes sure the keyring holds the key the database was
// encrypted with, recording it on first use: with several nodes on one
// database, a node started with another key would otherwise write
// accounts no other node could find. Same rules as the SQLite store's.
func (d *DB) checkKey(ctx context.Context) error {
	recorded, err := d.recordedCheck(ctx)
	if err != nil {
		return err
	}
	if recorded == "" {
		idx, err := d.sampleKey(ctx)
		if err != nil {
			return err
		}
		check := d.secrets.CheckValues()[idx]
		if _, err := d.pool.Exec(ctx, `INSERT INTO key_check (id, value, updated_at) VALUES (1, $1, $2) ON CONFLICT DO NOTHING`, check, ts(time.Now())); err != nil {
			return err
		}
		// Another node may have recorded first: check against that.
		if recorded, err = d.recordedCheck(ctx); err != nil {
			return err
		}
	}
	if _, ok := d.secrets.Holds(recorded); !ok {
		return &KeyMismatchError{Have: secretbox.Fingerprint(d.secrets.CheckValue()), Want: secretbox.Fingerprint(recorded)}
	}
	return nil
}

func (d *DB) recordedCheck(ctx context.Context) (string, error) {
	var v string
	err := d.pool.QueryRow(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// sampleKey returns which key of the keyring decrypts the database's
// encrypted values (the oldest one needed), checking the first value of
// each encrypted column; 0 when there are none.
func (d *DB) sampleKey(ctx context.Context) (int, error) {
	idx := 0
	for _, c := range encryptedColumns {
		var tok string
		err := d.pool.QueryRow(ctx, `SELECT `+c.value+` FROM `+c.table+` WHERE `+c.value+` != '' ORDER BY `+c.id+` LIMIT 1`).Scan(&tok)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		} else if err != nil {
			return 0, err
		}
		i, ok := d.secrets.KeyIndex(tok)
		if !ok {
			return 0, &KeyMismatchError{Have: secretbox.Fingerprint(d.secrets.CheckValue())}
		}
		idx = max(idx, i)
	}
	return idx, nil
}

// recordCurrentKey records the current key as the database's, once
// rotation has re-encrypted every value under it.
func (d *DB) recordCurrentKey(ctx context.Context) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO key_check (id, value, updated_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, d.secrets.CheckValue(), ts(time.Now()))
	return err
}
