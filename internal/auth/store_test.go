package auth_test

import (
	"context"
	"github.com/bindery/bindery/internal/testkit"
	"path/filepath"
	"testing"

	"github.com/bindery/bindery/internal/store/sqlite"
)

// newStore opens a SQLite store in a temporary folder.
func newStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
