package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/secretbox"
)

// KeyMismatchError is Open's refusal of a keyring that does not hold the
// key the database was encrypted with. It names the variable and both
// keys by fingerprint (secretbox.Fingerprint), never by value.
type KeyMismatchError struct {
	Have string // fingerprint of ENCRYPTION_KEY
	Want string // fingerprint of the data folder's key; "" if unrecorded
}

func (e *KeyMismatchError) Error() string {
	want := "another key"
	if e.Want != "" {
		want = "key " + e.Want
	}
	return fmt.Sprintf("configuration: ENCRYPTION_KEY (key %s) is not the key this data folder was encrypted with (%s): "+
		"set ENCRYPTION_KEY to the server's key; to change keys, put the old one in ENCRYPTION_KEY_PREVIOUS and run `bindery keys rotate`",
		e.Have, want)
}

// checkKey makes sure the keyring holds the key the database was
// encrypted with, recording it on first use.
//
// A database with a recorded check value opens only with a keyring that
// holds that key, as current or previous (a rotation in progress). One
// without (new, or written before check values existed) gets the check
// value of the key that decrypts its encrypted values, if the keyring
// decrypts a sample of each encrypted column; of the current key if it
// holds none. Without this, a command run with another key would write
// accounts no other process could find, and the server would answer
// "wrong password": one folder, two keys, no error.
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
		if _, err := d.db.ExecContext(ctx, `INSERT OR IGNORE INTO key_check (id, value, updated_at) VALUES (1, ?, ?)`, check, ts(time.Now())); err != nil {
			return err
		}
		// Another process may have recorded first: check against that.
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
	err := d.db.QueryRowContext(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// sampleKey returns which key of the keyring decrypts the database's
// encrypted values (the oldest one needed, so that rotation moves the
// record on), checking the first value of each encrypted column; 0 when
// there are none. A value no key decrypts is a KeyMismatchError.
func (d *DB) sampleKey(ctx context.Context) (int, error) {
	idx := 0
	for _, c := range encryptedColumns {
		var tok string
		err := d.db.QueryRowContext(ctx, `SELECT `+c.value+` FROM `+c.table+` WHERE `+c.value+` != '' ORDER BY `+c.id+` LIMIT 1`).Scan(&tok)
		if errors.Is(err, sql.ErrNoRows) {
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
