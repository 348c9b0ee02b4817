package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/secretbox"
)

// KeyMismatchError is Open's refusal of a keyring that does not hold the
// key the data folder was encrypted with.
type KeyMismatchError = secretbox.KeyMismatchError

// checkKey makes sure the keyring holds the key the database was
// encrypted with, recording it on first use (secretbox.Keyring.CheckStore).
func (d *DB) checkKey(ctx context.Context) error {
	return d.secrets.CheckStore(ctx, keyRecord{d}, "data folder")
}

// keyRecord is the database's side of secretbox.Keyring.CheckStore.
type keyRecord struct{ d *DB }

func (k keyRecord) RecordedCheck(ctx context.Context) (string, error) {
	var v string
	err := k.d.db.QueryRowContext(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (k keyRecord) SampleTokens(ctx context.Context) ([]string, error) {
	var out []string
	for _, c := range encryptedColumns {
		var tok string
		err := k.d.db.QueryRowContext(ctx, `SELECT `+c.value+` FROM `+c.table+` WHERE `+c.value+` != '' ORDER BY `+c.id+` LIMIT 1`).Scan(&tok)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, tok)
	}
	return out, nil
}

func (k keyRecord) RecordCheckIfAbsent(ctx context.Context, check string) error {
	_, err := k.d.db.ExecContext(ctx, `INSERT OR IGNORE INTO key_check (id, value, updated_at) VALUES (1, ?, ?)`, check, ts(time.Now()))
	return err
}

// recordCurrentKey records the current key as the data folder's, once
// rotation has re-encrypted every value under it.
func (d *DB) recordCurrentKey(ctx context.Context) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO key_check (id, value, updated_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, d.secrets.CheckValue(), ts(time.Now()))
	return err
}

// RecordedKeyFingerprint returns the fingerprint of the key recorded in
// the database file at path, without any key: "" when the file holds no
// record (or no database). For the message that refuses to generate a
// development key next to encrypted data.
func RecordedKeyFingerprint(ctx context.Context, path string) (string, error) {
	db, err := OpenPool(path, 1)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v string
	err = db.QueryRowContext(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&v)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "no such table") {
			return "", nil
		}
		return "", err
	}
	return secretbox.Fingerprint(v), nil
}
