// Package postgres is the PostgreSQL adapter of the bindery store
// interfaces, through pgx v5's connection pool, migrated at Open from the
// numbered SQL files embedded in migrations/ (the same version numbers,
// with the same meaning, as the SQLite adapter's). It passes the same
// storetest suites as store/sqlite.
//
// What SQLite gets from having one writer at a time, this adapter gets
// from PostgreSQL's locks, so that several Bindery nodes may share one
// database:
//
//   - the audit chain's appends and purges take a transaction-scoped
//     advisory lock (lockAudit) before reading the head, so concurrent
//     appends from any number of pools or nodes each link to the one
//     before;
//   - QueueRun takes one (lockQueue) so that two requests cannot both find
//     no queued run, or both stay under a user's limit;
//   - events take one (lockEvents) before drawing an id, so that ids
//     become visible in the order they were drawn ("resume since id"
//     never skips an event that commits late);
//   - migrations take one (lockMigrate), so nodes starting together
//     migrate once;
//   - serve holds one for its lifetime (LockServe) while the job queue is
//     still a SQLite file in each server's data folder;
//   - the run state machine's steps are conditional UPDATEs: PostgreSQL
//     re-checks the WHERE clause of an UPDATE that waited on a row lock
//     against the row as the other transaction left it, so of two racing
//     steps the second sees the first's state (compare-and-set).
//
// Everything else is a single statement or a transaction at READ
// COMMITTED, PostgreSQL's default.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a PostgreSQL database implementing bindery.Store.
type DB struct {
	pool *pgxpool.Pool

	leadMu sync.Mutex
	lead   *pgxpool.Conn // held while this handle leads (TryLead)

	// secrets encrypts what must not be readable in the database: personal
	// data of accounts, second-factor secrets, stored credentials, the
	// audit chain's key (see secure.go).
	secrets *secretbox.Keyring
}

var _ bindery.Store = (*DB)(nil)

// Advisory lock keys: pg_advisory_xact_lock(h, one of these), where h is
// lockScope's hash of "bindery:" and the schema the tables are in, so that
// Bindery's locks collide neither with another application's nor with
// another Bindery's in another schema of the same database.
const (
	lockAudit   = 1
	lockQueue   = 2
	lockEvents  = 3
	lockMigrate = 4
	lockServe   = 5
	lockLead    = 6
	lockSetup   = 7
	// 8 is River's migrations (jobs/riverjobs).
)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string, as libpq takes them) and applies pending migrations.
// secrets encrypts and decrypts the values kept encrypted at rest; it is
// required. Errors never repeat the URL, which may hold a password.
func Open(ctx context.Context, url string, secrets *secretbox.Keyring) (*DB, error) {
	return open(ctx, url, secrets, math.MaxInt)
}

// open is Open with migrations applied up to version upTo only.
func open(ctx context.Context, url string, secrets *secretbox.Keyring, upTo int) (*DB, error) {
	if secrets == nil {
		return nil, errors.New("postgres.Open: no keyring for the values encrypted at rest")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse errors may quote the connection string.
		return nil, errors.New("not a valid PostgreSQL connection URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	d := &DB{pool: pool, secrets: secrets}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if err := d.migrate(ctx, upTo); err != nil {
		pool.Close()
		return nil, err
	}
	if upTo >= keyCheckVersion {
		if err := d.checkKey(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return d, nil
}

// keyCheckVersion is the migration that creates the key_check table.
const keyCheckVersion = 12

// ErrServing is LockServe's refusal: another server holds the database.
var ErrServing = errors.New("another `bindery serve` is using this database: several servers share one database only when they share book files too (set BINDERY_S3_ENDPOINT and the other BINDERY_S3_ settings); each server now keeps the books in its own data folder")

// LockServe claims the database for one server, for as long as the
// returned release is not called (or the connection lives): a
// session-level advisory lock on a connection taken out of the pool. A
// second server gets ErrServing. Why: book files are still in each
// server's data folder, so a run taken by another server would build a
// book that is not there.
func (d *DB) LockServe(ctx context.Context) (release func(), err error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockScope+`, $1)`, int32(lockServe)).Scan(&ok); err != nil {
		conn.Release()
		return nil, err
	}
	if !ok {
		conn.Release()
		return nil, ErrServing
	}
	return func() {
		// Unlock, then close: closing only asks the server to end the
		// session, which it does a moment later, so a process claiming
		// the database right after (a server restarted, `bindery migrate`
		// run again) could still find the lock held.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn.Exec(ctx, `SELECT pg_advisory_unlock(`+lockScope+`, $1)`, int32(lockServe)) //nolint:errcheck // closing ends the session, and the lock, anyway
		cancel()
		conn.Hijack().Close(context.Background()) //nolint:errcheck
	}, nil
}

// TryLead reports whether this handle leads the deployment's periodic
// work (sweeps of expired sessions, retention of the audit log and of
// events), so that it runs once per cluster: the leader holds a
// session-level advisory lock on a connection of its own, kept for as long
// as it answers; when its node dies, the session ends, the lock with it,
// and the next node to ask leads.
func (d *DB) TryLead(ctx context.Context) (bool, error) {
	d.leadMu.Lock()
	defer d.leadMu.Unlock()
	if d.lead != nil {
		if _, err := d.lead.Exec(ctx, `SELECT 1`); err == nil {
			return true, nil
		}
		d.lead.Hijack().Close(context.Background()) //nolint:errcheck // the session, and its lock, are gone or going
		d.lead = nil
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+lockScope+`, $1)`, int32(lockLead)).Scan(&ok); err != nil {
		conn.Release()
		return false, err
	}
	if !ok {
		conn.Release()
		return false, nil
	}
	d.lead = conn
	return true, nil
}

// Pool is the connection pool, for River's tables (jobs.Postgres), which
// live in the same database and schema.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Close closes the pool (and gives up the lead).
func (d *DB) Close() error {
	d.leadMu.Lock()
	if d.lead != nil {
		// Unlock before closing: closing only asks the server to end the
		// session, which it does a moment later, so another node trying
		// at once could still find the lock held.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.lead.Exec(ctx, `SELECT pg_advisory_unlock(`+lockScope+`, $1)`, int32(lockLead)) //nolint:errcheck // closing ends the session, and the lock, anyway
		cancel()
		d.lead.Hijack().Close(context.Background()) //nolint:errcheck
		d.lead = nil
	}
	d.leadMu.Unlock()
	d.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.pool.Ping(ctx) }

// CheckWritable commits a one-row update, so a full disk, a read-only
// standby or a lock that never clears shows up as an error.
func (d *DB) CheckWritable(ctx context.Context) error {
	_, err := d.pool.Exec(ctx, `UPDATE readiness SET checked_at = $1 WHERE id = 1`, time.Now().UnixNano())
	return err
}

// Checkpoint runs after an account deletion (privacy.Service looks for
// it): VACUUM of the tables that held the account's personal data, so the
// deleted rows' space is reclaimed now rather than whenever autovacuum
// comes. Unlike SQLite's secure_delete it does not promise the bytes are
// gone from the disk: PostgreSQL's write-ahead log, replicas and backups
// keep them until they are recycled; encrypt the disks (README).
func (d *DB) Checkpoint(ctx context.Context) error {
	_, err := d.pool.Exec(ctx, `VACUUM users, recovery_codes, sessions, api_tokens, book_invitations, book_members`)
	return err
}

// A migration is one numbered step of the schema: an embedded SQL file
// migrations/NNNN_name.sql, whose number is SQLite's for the same step,
// and for a step that needs the keyring, a Go function run after the SQL
// in the same transaction (afterSQL).
type migration struct {
	version int
	name    string
	sql     string
	after   func(ctx context.Context, tx pgx.Tx, kr *secretbox.Keyring) error
}

// afterSQL are the Go halves of steps, by version.
var afterSQL = map[int]func(ctx context.Context, tx pgx.Tx, kr *secretbox.Keyring) error{
	// The audit chain's record, with a fresh random key, for a log whose
	// first entry will be 1: an empty log then verifies, as in SQLite,
	// and a missing record is always tampering.
	6: func(ctx context.Context, tx pgx.Tx, kr *secretbox.Keyring) error {
		_, err := auditchain.New(ctx, chainTx{tx}, kr, 1, "")
		return err
	},
}

// allMigrations lists every migration in version order; duplicate versions
// are a programming error caught by the tests.
func allMigrations() ([]migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body), after: afterSQL[v]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].name, out[i].name, out[i].version)
		}
	}
	return out, nil
}

// Versions returns the version numbers of the embedded migrations, in
// order (for the test that keeps both stores in step).
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

// migrate applies, in order and each in its own transaction (PostgreSQL's
// DDL is transactional: a failing step leaves nothing behind), every
// migration newer than the recorded version, up to version upTo. Each
// step holds the migration lock, so nodes starting together apply each
// step once.
func (d *DB) migrate(ctx context.Context, upTo int) error {
	all, err := allMigrations()
	if err != nil {
		return err
	}
	err = d.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockMigrate); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	for _, m := range all {
		if m.version > upTo {
			break
		}
		if err := d.tx(ctx, func(tx pgx.Tx) error { return apply(ctx, tx, m, d.secrets) }); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func apply(ctx context.Context, tx pgx.Tx, m migration, kr *secretbox.Keyring) error {
	if err := lock(ctx, tx, lockMigrate); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// No arguments: pgx sends the file in the simple protocol, which runs
	// several statements.
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return err
	}
	if m.after != nil {
		if err := m.after(ctx, tx, kr); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.version, time.Now().UnixNano())
	return err
}

// lockScope is the first half of every advisory lock's key.
const lockScope = `hashtext('bindery:' || current_schema())`

// lock takes the advisory lock key for the rest of tx.
func lock(ctx context.Context, tx pgx.Tx, key int32) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+lockScope+`, $1)`, key)
	return err
}

// tx runs fn in a transaction, committing when it returns nil.
func (d *DB) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, d.pool, fn)
}

// ts and fromTS convert times to and from the stored Unix nanoseconds.
func ts(t time.Time) int64 { return t.UTC().UnixNano() }

func fromTS(n int64) time.Time { return time.Unix(0, n).UTC() }

// optTS converts a nullable stored time.
func optTS(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := fromTS(*n)
	return &t
}

// tsOrNil is the stored form of an optional time.
func tsOrNil(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	n := ts(*t)
	return &n
}

// notFound maps pgx.ErrNoRows to ENOTFOUND and leaves other errors alone.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return bindery.Errorf(bindery.ENOTFOUND, format, args...)
	}
	return err
}

// pgCode returns the SQLSTATE of a server error, "" for other errors.
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isUnique reports whether err is a unique_violation.
func isUnique(err error) bool { return pgCode(err) == "23505" }

// isForeignKey reports whether err is a foreign_key_violation.
func isForeignKey(err error) bool { return pgCode(err) == "23503" }

// rowsAffected returns ENOTFOUND when an update or delete touched nothing.
func rowsAffected(tag pgconn.CommandTag, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return bindery.Errorf(bindery.ENOTFOUND, format, args...)
	}
	return nil
}

// affected returns the count of rows a statement touched.
func affected(tag pgconn.CommandTag, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(...any) error }

// querier is the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
