package postgres

import (
	"context"

	"github.com/bindery/bindery/internal/secretbox"
)

// RawExec runs statements on the underlying database, for tests only (an
// intruder with a database login).
func RawExec(d *DB, ctx context.Context, q string) error {
	_, err := d.pool.Exec(ctx, q)
	return err
}

// RawText returns every value of every text column of every table in the
// store's schema, concatenated: what someone reading the database sees.
func RawText(d *DB, ctx context.Context) (string, error) {
	rows, err := d.pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		return "", err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return "", err
		}
		tables = append(tables, t)
	}
	rows.Close()
	out := ""
	for _, t := range tables {
		var s *string
		if err := d.pool.QueryRow(ctx, `SELECT string_agg(t::text, E'\n') FROM `+t+` t`).Scan(&s); err != nil {
			return "", err
		}
		if s != nil {
			out += *s + "\n"
		}
	}
	return out, nil
}

// OpenAtVersion opens url migrated only up to version.
func OpenAtVersion(ctx context.Context, url string, secrets *secretbox.Keyring, version int) (*DB, error) {
	return open(ctx, url, secrets, version)
}

// Columns returns "table.column" for every column of every table in the
// store's schema, sorted.
func Columns(d *DB, ctx context.Context) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
