package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURL returns the URL of a new, empty schema of the test
// PostgreSQL: $BINDERY_TEST_POSTGRES_URL (a postgres:// URL; scripts/test.sh
// starts a throwaway server with scripts/postgres.sh and sets it), with
// search_path set to a schema made for this test and dropped, with
// everything in it, when the test ends. One schema per test, not one
// database, because a schema costs a millisecond: tests and test packages
// run in parallel on one server.
//
// Without the variable the test is skipped, except under CI=true, where it
// fails: CI must never pass by skipping.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("BINDERY_TEST_POSTGRES_URL")
	if base == "" {
		const why = "BINDERY_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL; or run eval \"$(scripts/postgres.sh start)\")"
		if os.Getenv("CI") == "true" {
			tb.Fatal(why)
		}
		tb.Skip(why)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatal("BINDERY_TEST_POSTGRES_URL must be a postgres:// URL")
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	schema := "test_" + hex.EncodeToString(b)
	exec := func(q string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, q)
		return err
	}
	if err := exec(`CREATE SCHEMA ` + schema); err != nil {
		tb.Fatalf("creating a schema in the test PostgreSQL: %v", err)
	}
	tb.Cleanup(func() {
		if err := exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			tb.Errorf("dropping the test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
