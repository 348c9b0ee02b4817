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
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a SQLite database implementing bindery.Store.
type DB struct {
	db *sql.DB

	// Statements on the hot path of every authenticated request, prepared
	// once: parsing SQL costs more than running these look-ups.
	sessionByHash *sql.Stmt
	tokenByHash   *sql.Stmt
}

var _ bindery.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path, with mode
// 0600 on the file, and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
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
	d := &DB{db: db}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, err
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

// OpenPool opens a connection pool on the SQLite file at path with
// Bindery's settings (WAL, foreign keys, busy timeout, immediate
// transactions). The job queue gets its own pool of one connection, as its
// SQLite driver asks.
func OpenPool(path string, maxConns int) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
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

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }

// migrate applies, in order and each in its own transaction, every
// embedded migration newer than the recorded version.
func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", base)
		}
		if err := d.apply(ctx, v, name); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
	}
	return nil
}

func (d *DB) apply(ctx context.Context, version int, name string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixNano()); err != nil {
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
