package auth_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/clock"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// fakeKey stands for the blind index of an account.
func fakeKey(account string) string {
	h := sha256.Sum256([]byte(account))
	return hex.EncodeToString(h[:8])
}

// guardKinds are the Guard's two homes for its tables: this process's
// memory, and the database (shared by the nodes of a cluster). The
// behaviour tests run on both.
func guardKinds(t *testing.T) map[string]func(c *clock.Fake) *auth.Guard {
	return map[string]func(c *clock.Fake) *auth.Guard{
		"memory": func(c *clock.Fake) *auth.Guard { return newGuard(c, 0) },
		"shared": func(c *clock.Fake) *auth.Guard {
			db := sharedStore(t)
			return auth.NewGuard(auth.GuardConfig{MaxFailures: 3, Window: 10 * time.Minute, BlockDuration: 5 * time.Minute, Now: c.Now,
				Shared: db, AccountKey: fakeKey})
		},
	}
}

func sharedStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSharedGuardHoldsAcrossNodes: two nodes (two Guards) on one
// database. Failures spread over both block the address on both; an
// admin's lift on one lifts it on the other; an account's failures on one
// node slow it down on the other; the database never holds an address
// someone typed.
func TestSharedGuardHoldsAcrossNodes(t *testing.T) {
	c := clock.NewFake(time.Unix(1_800_000_000, 0))
	path := filepath.Join(t.TempDir(), "bindery.db")
	keys := testkit.Keyring(t)
	open := func() *sqlite.DB {
		db, err := sqlite.Open(context.Background(), path, keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	cfg := auth.GuardConfig{MaxFailures: 4, Window: 10 * time.Minute, BlockDuration: 15 * time.Minute, Now: c.Now, AccountKey: fakeKey}
	cfgA, cfgB := cfg, cfg
	cfgA.Shared, cfgB.Shared = open(), open()
	a, b := auth.NewGuard(cfgA), auth.NewGuard(cfgB)
	addr := netip.MustParseAddr("203.0.113.9")
	nodes := []*auth.Guard{a, b, a, b}
	for i, g := range nodes {
		if _, blocked := g.Failure(addr, "victim@example.com"); blocked {
			t.Fatalf("blocked after %d failures", i+1)
		}
	}
	if _, blocked := b.Failure(addr, "victim@example.com"); !blocked {
		t.Fatal("the fifth failure, over two nodes, did not block")
	}
	for name, g := range map[string]*auth.Guard{"A": a, "B": b} {
		if left, ok := g.Blocked(addr); !ok || left != 15*time.Minute {
			t.Errorf("node %s: Blocked = %v, %v", name, left, ok)
		}
		if d := g.AccountDelay("victim@example.com"); d == 0 {
			t.Errorf("node %s: the account is not slowed down", name)
		}
	}
	if bl := a.Blocks(); len(bl) != 1 || bl[0].Addr != "203.0.113.9" {
		t.Fatalf("Blocks on A = %+v", bl)
	}
	if !b.Lift("203.0.113.9") {
		t.Fatal("Lift on B found no block")
	}
	if _, ok := a.Blocked(addr); ok {
		t.Error("A still blocks the address B lifted")
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT key FROM guard_failures UNION ALL SELECT key FROM guard_blocks`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		rows.Scan(&k)
		if strings.Contains(k, "@") || strings.Contains(k, "victim") {
			t.Errorf("the shared guard stores %q: an address someone typed", k)
		}
	}
}
