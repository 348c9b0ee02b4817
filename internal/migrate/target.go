package migrate

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/store/postgres"
)

// markerTable records, in the target, which source it is being filled
// from and when the copy completed. It is not part of Bindery's schema
// (nothing else reads it) and stays after the migration, as its record.
const markerTable = "bindery_migrated_from"

// openerRows are the tables in which postgres.Open itself writes a row
// into a new database: the audit chain's record (with a random key of
// its own), the key check, the readiness row. They do not make a target
// "hold data", and the copy replaces their row with the source's (the
// audit chain's record must be the source's, whose key made the hashes).
var openerRows = map[string]bool{"audit_chain": true, "key_check": true, "readiness": true}

// notCopied reports whether a table is outside what Run copies: each
// engine's bookkeeping (migrations applied, SQLite's sqlite_sequence,
// PostgreSQL's audit_log_seq, both set by Run from the source's
// counters), River's job tables (jobs, not Bindery data), and the marker.
func notCopied(name string) bool {
	return name == "schema_migrations" || name == "audit_log_seq" || name == markerTable ||
		strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "river_")
}

// table is one copied table, as the target's schema describes it.
type table struct {
	name   string
	cols   []column
	pk     []string // primary key columns in key order; nil: the table has none
	serial []string // columns whose default draws from a sequence
}

type column struct {
	name   string
	pgType string // information_schema.columns.data_type
	text   bool   // compared with COLLATE "C" (bytewise, as SQLite's BINARY)
}

// identifier is what a table or column name must look like: names come
// from the schemas, but they are pasted into SQL, so anything else is
// refused rather than quoted.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// lockTarget makes this the only migrate on the target, and refuses a
// target that a server is using (postgres.DB.LockServe): the copy
// assumes nobody else writes the tables it fills. The returned release
// gives both locks up.
func (m *migration) lockTarget(ctx context.Context) (func(), error) {
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('bindery migrate:' || current_schema()), 1)`).Scan(&ok); err != nil {
		conn.Release()
		return nil, err
	}
	if !ok {
		conn.Release()
		return nil, bindery.Errorf(bindery.ECONFLICT, "Another `bindery migrate` is filling this database.")
	}
	releaseMigrate := func() {
		// Unlock, then close: the server ends a closed session a moment
		// later, and a migrate run again at once must not find the lock
		// still held.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Exec(bg, `SELECT pg_advisory_unlock(hashtext('bindery migrate:' || current_schema()), 1)`) //nolint:errcheck // closing drops it anyway
		conn.Hijack().Close(bg)                                                                         //nolint:errcheck
	}
	releaseServe, err := m.o.Target.LockServe(ctx)
	if err != nil {
		releaseMigrate()
		if errors.Is(err, postgres.ErrServing) {
			return nil, bindery.Errorf(bindery.ECONFLICT, "A `bindery serve` is using the target database: stop it while migrating.")
		}
		return nil, err
	}
	return func() { releaseServe(); releaseMigrate() }, nil
}

// loadSchema reads the tables to copy from the target's schema, checks
// that the source has exactly the same tables and columns, and orders
// them so that a table comes after those its foreign keys reference.
func (m *migration) loadSchema(ctx context.Context) error {
	names, err := m.pgStrings(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return err
	}
	byName := map[string]*table{}
	for _, name := range names {
		if notCopied(name) {
			continue
		}
		if !identifier.MatchString(name) {
			return fmt.Errorf("the target has a table with an unexpected name %q", name)
		}
		t := &table{name: name}
		rows, err := m.pool.Query(ctx, `SELECT column_name, data_type, COALESCE(column_default, ''), is_identity
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, name)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c column
			var def, identity string
			if err := rows.Scan(&c.name, &c.pgType, &def, &identity); err != nil {
				rows.Close()
				return err
			}
			if !identifier.MatchString(c.name) {
				rows.Close()
				return fmt.Errorf("table %s has a column with an unexpected name %q", name, c.name)
			}
			if _, ok := pgTypes[c.pgType]; !ok {
				rows.Close()
				return fmt.Errorf("table %s, column %s: type %s is not one migrate knows how to copy", name, c.name, c.pgType)
			}
			c.text = c.pgType == "text"
			if identity == "YES" || strings.HasPrefix(def, "nextval(") {
				t.serial = append(t.serial, c.name)
			}
			t.cols = append(t.cols, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if t.pk, err = m.pgStrings(ctx, `SELECT kcu.column_name FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage kcu
			  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name
			WHERE tc.table_schema = current_schema() AND tc.table_name = $1 AND tc.constraint_type = 'PRIMARY KEY'
			ORDER BY kcu.ordinal_position`, name); err != nil {
			return err
		}
		if len(t.pk) == 0 {
			t.pk = nil
		}
		byName[name] = t
	}
	if err := m.compareSource(ctx, byName); err != nil {
		return err
	}
	return m.order(ctx, byName)
}

// compareSource checks that the source has the target's tables, each
// with the same columns, and no other table of data (which the copy
// would silently leave behind).
func (m *migration) compareSource(ctx context.Context, target map[string]*table) error {
	rows, err := m.o.Source.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var problems []string
	seen := map[string]bool{}
	for _, n := range names {
		if notCopied(n) {
			continue
		}
		seen[n] = true
		t, ok := target[n]
		if !ok {
			problems = append(problems, "table "+n+" is not in the target")
			continue
		}
		crows, err := m.o.Source.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY name`, n)
		if err != nil {
			return err
		}
		var have []string
		for crows.Next() {
			var c string
			if err := crows.Scan(&c); err != nil {
				crows.Close()
				return err
			}
			have = append(have, c)
		}
		crows.Close()
		var want []string
		for _, c := range t.cols {
			want = append(want, c.name)
		}
		sort.Strings(want)
		if !slices.Equal(have, want) {
			problems = append(problems, fmt.Sprintf("table %s has columns %v in the source, %v in the target", n, have, want))
		}
	}
	for n := range target {
		if !seen[n] {
			problems = append(problems, "table "+n+" is not in the source")
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("the source and target schemas differ (%s)", strings.Join(problems, "; "))
	}
	return nil
}

// order sorts the tables so that every table follows the tables its
// foreign keys reference (Kahn's algorithm, by name among equals, so
// the order is stable), because the target checks foreign keys on every
// insert.
func (m *migration) order(ctx context.Context, tables map[string]*table) error {
	rows, err := m.pool.Query(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid
		JOIN pg_class p ON p.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = current_schema()`)
	if err != nil {
		return err
	}
	deps := map[string]map[string]bool{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			rows.Close()
			return err
		}
		if from == to || tables[from] == nil || tables[to] == nil {
			continue // a self-reference orders nothing; the others are not copied
		}
		if deps[from] == nil {
			deps[from] = map[string]bool{}
		}
		deps[from][to] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	done := map[string]bool{}
	for len(done) < len(tables) {
		var ready []string
		for n := range tables {
			if done[n] {
				continue
			}
			free := true
			for d := range deps[n] {
				if !done[d] {
					free = false
				}
			}
			if free {
				ready = append(ready, n)
			}
		}
		if len(ready) == 0 {
			return errors.New("the target's foreign keys form a cycle")
		}
		sort.Strings(ready)
		for _, n := range ready {
			done[n] = true
			m.tables = append(m.tables, tables[n])
		}
	}
	return nil
}

// claimTarget records the source in the target on the first run, and
// refuses a target filled, or being filled, from anything else. A
// refused target is left as it was: the record's table is made in the
// same transaction as the record, after the checks.
func (m *migration) claimTarget(ctx context.Context) error {
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, markerTable).Scan(&exists); err != nil {
			return err
		}
		if exists {
			var recorded string
			err := tx.QueryRow(ctx, `SELECT source FROM `+markerTable+` WHERE id = 1`).Scan(&recorded)
			switch {
			case err == nil && recorded == m.source:
				return nil
			case err == nil:
				return bindery.Errorf(bindery.ECONFLICT, "The target database was filled from another data folder: migrate into a new, empty database.")
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		for _, t := range m.tables {
			if openerRows[t.name] {
				continue
			}
			var any bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+q(t.name)+`)`).Scan(&any); err != nil {
				return err
			}
			if any {
				return bindery.Errorf(bindery.ECONFLICT, "The target database already holds Bindery data (table %s has rows) that did not come from this data folder: migrate into a new, empty database.", t.name)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+markerTable+` (
			id          INTEGER PRIMARY KEY CHECK (id = 1),
			source      TEXT    NOT NULL,
			started_at  BIGINT  NOT NULL,
			finished_at BIGINT
		)`); err != nil {
			return fmt.Errorf("recording the migration in the target: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+markerTable+` (id, source, started_at) VALUES (1, $1, $2)`, m.source, m.o.Now().UnixNano())
		return err
	})
}

// finish records that the copy completed and verified.
func (m *migration) finish(ctx context.Context) error {
	_, err := m.pool.Exec(ctx, `UPDATE `+markerTable+` SET finished_at = $1 WHERE id = 1`, m.o.Now().UnixNano())
	return err
}

// pgStrings runs a query of one text column on the target.
func (m *migration) pgStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := m.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
