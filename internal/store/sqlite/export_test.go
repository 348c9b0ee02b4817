package sqlite

import (
	"context"
	"database/sql"

	"github.com/bindery/bindery/internal/secretbox"
)

// RawExec runs a statement on the underlying database, for tests only.
func RawExec(d *DB, ctx context.Context, q string) (sql.Result, error) {
	return d.db.ExecContext(ctx, q)
}

// OpenAtVersion opens path migrated only up to version, for migration
// tests: a database as an older Bindery left it.
func OpenAtVersion(ctx context.Context, path string, secrets *secretbox.Keyring, version int) (*DB, error) {
	return open(ctx, path, secrets, version)
}
