package sqlite_test

import (
	"context"
	"github.com/bindery/bindery/internal/testkit"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/store/storetest"
)

// MustOpen opens a fresh database in a temporary folder.
func MustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "bindery.db"), testkit.Keyring(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bindery.Store { return MustOpen(t) })
}

// TestSharedDatabase: two pools on one file (two processes, say) keep the
// chain, the queue and the run claims consistent.
func TestSharedDatabase(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (bindery.Store, bindery.Store) {
		path := filepath.Join(t.TempDir(), "bindery.db")
		kr := testkit.Keyring(t)
		var out [2]bindery.Store
		for i := range out {
			db, err := sqlite.Open(context.Background(), path, kr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			out[i] = db
		}
		return out[0], out[1]
	})
}

func TestDatabaseFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "bindery.db")
	db, err := sqlite.Open(context.Background(), path, testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("database mode = %o, want 600", mode)
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bindery.db")
	kr := testkit.Keyring(t)
	for i := 0; i < 2; i++ {
		db, err := sqlite.Open(context.Background(), path, kr)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		db.Close()
	}
}

// TestAuditLogIsAppendOnly proves the triggers: even raw SQL through the
// application's own connection cannot rewrite or delete history.
func TestAuditLogIsAppendOnly(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	if err := db.AppendAudit(ctx, &bindery.AuditEvent{At: time.Now(), Action: bindery.AuditLoginFailed}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit_log SET action = 'x'`, `DELETE FROM audit_log`} {
		if _, err := sqlite.RawExec(db, ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}

func BenchmarkSessionLookup(b *testing.B) { storetest.BenchSessionLookup(b, MustOpen(b)) }

func BenchmarkAppendAudit(b *testing.B) { storetest.BenchAppendAudit(b, MustOpen(b)) }
