package sqlite

import (
	"context"
	"database/sql"
)

// RawExec runs a statement on the underlying database, for tests only.
func RawExec(d *DB, ctx context.Context, q string) (sql.Result, error) {
	return d.db.ExecContext(ctx, q)
}
