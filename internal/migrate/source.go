package migrate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/store/sqlite"
)

// OpenSource opens the SQLite database file at path read-only, leaving
// every byte of the data folder as it was:
//
//   - a database without a write-ahead log (a server that stopped
//     cleanly folds the log into the file and removes it) is opened
//     immutable=1: SQLite then reads the file only, and creates neither
//     the -wal nor the -shm file a WAL database otherwise gets even from a
//     reader;
//   - one with a log (a server that crashed, or one still running: the
//     caller holds the data folder's serve lock, so not that) is opened
//     mode=ro, which reads the last committed transactions from the log
//     and writes nothing to the database file.
//
// query_only is a second guard in both cases. The file must exist (a
// missing one is EINVALID, never created). Immutable assumes nobody
// writes the file meanwhile; a command that did (`bindery user add`
// during the migration) would show as a mismatch in Run's verification.
func OpenSource(path string) (*sql.DB, error) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, bindery.Errorf(bindery.EINVALID, "There is no Bindery database at %s: set BINDERY_DATA_DIR to the data folder to move.", path)
	}
	q := url.Values{}
	if _, err := os.Lstat(path + "-wal"); err == nil {
		q.Set("mode", "ro")
	} else {
		q.Set("immutable", "1")
	}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	return db, nil
}

// activeStates are the run states that would need a job on the target.
var activeStates = []string{string(bindery.RunQueued), string(bindery.RunRunning), string(bindery.RunPaused)}

// checkSource refuses a source this code cannot copy faithfully: another
// schema version than the latest, a key other than the keyring's current
// one, runs not finished. It sets m.source.
func (m *migration) checkSource(ctx context.Context) error {
	src := m.o.Source
	versions, err := sqlite.Versions()
	if err != nil {
		return err
	}
	latest := versions[len(versions)-1]
	var have sql.NullInt64
	if err := src.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return bindery.Errorf(bindery.EINVALID, "The data folder's database is not a Bindery database.")
		}
		return fmt.Errorf("reading the source: %w", err)
	}
	switch {
	case have.Int64 < int64(latest):
		return bindery.Errorf(bindery.ECONFLICT, "The data folder's database is at schema version %d, this bindery's is %d: start this version of `bindery serve` on it once (it upgrades the database), stop it, then migrate.", have.Int64, latest)
	case have.Int64 > int64(latest):
		return bindery.Errorf(bindery.ECONFLICT, "The data folder's database is at schema version %d, newer than this bindery's (%d): migrate with the bindery that last ran on it.", have.Int64, latest)
	}

	var check string
	err = src.QueryRowContext(ctx, `SELECT value FROM key_check WHERE id = 1`).Scan(&check)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the source: %w", err)
	}
	if i, ok := m.o.Keyring.Holds(check); !ok || i != 0 {
		if ok {
			return bindery.Errorf(bindery.ECONFLICT, "The data folder is still encrypted with ENCRYPTION_KEY_PREVIOUS: finish `bindery keys rotate` first (the copy keeps every encrypted value as it is).")
		}
		return bindery.Errorf(bindery.ECONFLICT, "%s", (&secretbox.KeyMismatchError{Have: secretbox.Fingerprint(m.o.Keyring.CheckValue()), Want: secretbox.Fingerprint(check), Of: "data folder"}).Error())
	}

	rows, err := src.QueryContext(ctx, `SELECT state, COUNT(*) FROM runs WHERE state IN (?, ?, ?) GROUP BY state ORDER BY state`,
		activeStates[0], activeStates[1], activeStates[2])
	if err != nil {
		return fmt.Errorf("reading the source: %w", err)
	}
	var active []string
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return err
		}
		active = append(active, fmt.Sprintf("%d %s", n, state))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(active) > 0 {
		return bindery.Errorf(bindery.ECONFLICT, "The data folder has runs that are not finished (%s): start `bindery serve` on it, let the runs finish (or stop them), stop the server, then migrate. Runs are not moved half-way.", strings.Join(active, ", "))
	}

	m.source, err = m.sourceID(ctx)
	return err
}

// sourceID names the source deployment without revealing anything: an
// HMAC, under its audit chain's key (32 random bytes made when the
// database was created, kept encrypted), of a fixed label. It survives a
// key rotation (the chain key is re-encrypted, not changed) and differs
// between any two data folders.
func (m *migration) sourceID(ctx context.Context) (string, error) {
	var keyEnc string
	if err := m.o.Source.QueryRowContext(ctx, `SELECT key_enc FROM audit_chain WHERE id = 1`).Scan(&keyEnc); err != nil {
		return "", fmt.Errorf("reading the source's audit chain record: %w", err)
	}
	key, err := m.o.Keyring.Decrypt(keyEnc)
	if err != nil {
		return "", fmt.Errorf("the source's audit chain key does not decrypt with ENCRYPTION_KEY: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("bindery migrate: source identity, v1"))
	return hex.EncodeToString(mac.Sum(nil)), nil
}
