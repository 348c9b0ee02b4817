// Package sqlite is the SQLite adapter of the bindery store interfaces,
// through the pure-Go modernc.org/sqlite driver (no cgo), in WAL mode with
// foreign keys on and a busy timeout, migrated at Open from the numbered
// SQL files embedded in migrations/.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a SQLite database implementing bindery.Store.
type DB struct {
	db *sql.DB

	// secrets encrypts what must not be readable in the database file:
	// personal data of accounts, second-factor secrets, stored
	// credentials (see secure.go).
	secrets *secretbox.Keyring

	// Statements on the hot path of every authenticated request, prepared
	// once: parsing SQL costs more than running these look-ups.
	sessionByHash *sql.Stmt
	tokenByHash   *sql.Stmt
}

var _ bindery.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path, with mode
// 0600 on the file, and applies pending migrations. secrets encrypts and
// decrypts the values kept encrypted at rest; it is required.
func Open(ctx context.Context, path string, secrets *secretbox.Keyring) (*DB, error) {
	return open(ctx, path, secrets, math.MaxInt)
}

// open is Open with migrations applied up to version upTo only (tests
// build databases of earlier versions with it).
func open(ctx context.Context, path string, secrets *secretbox.Keyring, upTo int) (*DB, error) {
	if secrets == nil {
		return nil, errors.New("sqlite.Open: no keyring for the values encrypted at rest")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating data folder: %w", err)
	}
	// Create the file ourselves so it is never world-readable, even for
	// an instant.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	f.Close()
	db, err := OpenPool(path, 8)
	if err != nil {
		return nil, err
	}
	d := &DB{db: db, secrets: secrets}
	if err := d.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	if upTo >= keyCheckVersion {
		if err := d.checkKey(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if d.sessionByHash, err = db.PrepareContext(ctx, sessionByHashQuery); err != nil {
		db.Close()
		return nil, err
	}
	if d.tokenByHash, err = db.PrepareContext(ctx, tokenByHashQuery); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// keyCheckVersion is the migration that creates the key_check table.
const keyCheckVersion = 12

// OpenPool opens a connection pool on the SQLite file at path with
// Bindery's settings (WAL, foreign keys, busy timeout, immediate
// transactions, and secure_delete: deleted rows are overwritten with zeros
// rather than left in free pages, so that what an account deletion removes
// cannot be carved back out of the file). The job queue gets its own pool of one connection, as its
// SQLite driver asks.
func OpenPool(path string, maxConns int) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)", "secure_delete(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// Close closes the database.
func (d *DB) Close() error {
	d.sessionByHash.Close()
	d.tokenByHash.Close()
	return d.db.Close()
}

// Checkpoint copies the write-ahead log into the database file and
// truncates it. After deleting personal data, this leaves the deleted rows
// nowhere: secure_delete has zeroed them in the pages, and the log that
// still held their old copies is emptied.
func (d *DB) Checkpoint(ctx context.Context) error {
	_, err := d.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }

// CheckWritable commits a one-row update, so a full disk (SQLITE_FULL),
// a read-only file or a lock that never clears shows up as an error.
func (d *DB) CheckWritable(ctx context.Context) error {
	_, err := d.db.ExecContext(ctx, `UPDATE readiness SET checked_at = ? WHERE id = 1`, time.Now().UnixNano())
	return err
}

// A migration is one numbered step of the schema: an embedded SQL file
// (migrations/NNNN_name.sql) or, when rows must be transformed with the
// keyring (encrypting what was stored in clear), a Go function registered
// in goMigrations. Both kinds share one sequence of versions.
type migration struct {
	version int
	name    string
	sql     string
	run     func(ctx context.Context, tx *sql.Tx, secrets *secretbox.Keyring) error
}

// goMigrations are the steps written in Go, by version.
var goMigrations = []migration{
	{version: 5, name: "0005_encrypted_accounts", run: migrateEncryptedAccounts},
	{version: 6, name: "0006_audit_chain", run: migrateAuditChain},
}

// allMigrations lists every migration in version order; duplicate versions
// are a programming error caught by the tests.
func allMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := append([]migration(nil), goMigrations...)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].name, out[i].name, out[i].version)
		}
	}
	return out, nil
}

// migrate applies, in order and each in its own transaction, every
// migration newer than the recorded version, up to version upTo.
//
// It runs on one pinned connection with foreign keys off, because
// rebuilding a table (SQLite's documented way to change a column's
// constraints: create the new table, copy, drop the old, rename) would
// otherwise cascade the drop into every referencing table. Each step ends
// with PRAGMA foreign_key_check inside its transaction, so a step that
// leaves a dangling reference is rolled back instead of committed.
func (d *DB) migrate(ctx context.Context, upTo int) error {
	all, err := allMigrations()
	if err != nil {
		return err
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	// The connection goes back to the pool: turn the checks on again
	// whatever happens (a fresh context, so a cancelled ctx cannot skip it).
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`) //nolint:errcheck
	for _, m := range all {
		if m.version > upTo {
			break
		}
		if err := d.apply(ctx, conn, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func (d *DB) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if m.run != nil {
		err = m.run(ctx, tx, d.secrets)
	} else {
		_, err = tx.ExecContext(ctx, m.sql)
	}
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	dangling := rows.Next()
	rows.Close()
	if dangling {
		return errors.New("leaves a foreign key that points nowhere")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// ts and fromTS convert times to and from the stored Unix nanoseconds.
func ts(t time.Time) int64 { return t.UTC().UnixNano() }

func fromTS(n int64) time.Time { return time.Unix(0, n).UTC() }

// notFound maps sql.ErrNoRows to ENOTFOUND and leaves other errors alone.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return bindery.Errorf(bindery.ENOTFOUND, format, args...)
	}
	return err
}

// isUnique reports whether err is a UNIQUE constraint violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// rowsAffected returns ENOTFOUND when an update or delete touched nothing.
func rowsAffected(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return bindery.Errorf(bindery.ENOTFOUND, format, args...)
	}
	return nil
}

// Versions returns the version numbers of every migration, in order (for
// the test that keeps the PostgreSQL store's in step).
func Versions() ([]int, error) {
	all, err := allMigrations()
	if err != nil {
		return nil, err
	}
	out := make([]int, len(all))
	for i, m := range all {
		out[i] = m.version
	}
	return out, nil
}
