package postgres_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// TestSchemasAlike: both stores, fully migrated, have the same tables
// with the same columns, but for each engine's own bookkeeping (SQLite's
// sqlite_sequence is PostgreSQL's audit_log_seq). With TestMigrationsInStep
// this keeps "version N" one schema in either database.
func TestSchemasAlike(t *testing.T) {
	ctx := context.Background()
	pg, err := postgres.Columns(MustOpen(t), ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bindery.db")
	db, err := sqlite.Open(ctx, path, testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path) // the driver sqlite registers
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.QueryContext(ctx, `SELECT m.name || '.' || p.name FROM sqlite_schema m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name != 'sqlite_sequence' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lite []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		lite = append(lite, c)
	}
	pg = slices.DeleteFunc(pg, func(c string) bool { return c == "audit_log_seq.id" || c == "audit_log_seq.seq" })
	for _, c := range lite {
		if !slices.Contains(pg, c) {
			t.Errorf("SQLite has %s, PostgreSQL does not", c)
		}
	}
	for _, c := range pg {
		if !slices.Contains(lite, c) {
			t.Errorf("PostgreSQL has %s, SQLite does not", c)
		}
	}
	if len(lite) < 50 {
		t.Fatalf("read only %d SQLite columns: %v", len(lite), lite)
	}
}
