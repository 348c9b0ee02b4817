package riverjobs_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// worked records the runs a queue's workers were given.
type worked struct {
	mu   sync.Mutex
	runs []int64
	seen chan struct{}
}

func newWorked() *worked { return &worked{seen: make(chan struct{}, 100)} }

func (w *worked) work(_ context.Context, runID int64) error {
	w.mu.Lock()
	w.runs = append(w.runs, runID)
	w.mu.Unlock()
	w.seen <- struct{}{}
	return nil
}

func (w *worked) waitFor(t *testing.T, n int) []int64 {
	t.Helper()
	for range n {
		select {
		case <-w.seen:
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d jobs worked within 30 s", len(w.runs), n)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.Clone(w.runs)
	slices.Sort(out)
	return out
}

// A job inserted on one node is worked by another's workers, once: any
// node may take a run (River on PostgreSQL, announced by LISTEN/NOTIFY).
func TestPostgresQueueAnyNodeWorks(t *testing.T) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	pool := func() *pgxpool.Pool {
		p, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	idle := newWorked()
	a, err := riverjobs.Postgres(pool(), riverjobs.PostgresOptions{FetchPollInterval: time.Hour})(ctx, idle.work, 1)
	if err != nil {
		t.Fatal(err)
	}
	busy := newWorked()
	b, err := riverjobs.Postgres(pool(), riverjobs.PostgresOptions{FetchPollInterval: time.Hour})(ctx, busy.work, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	for id := int64(1); id <= 5; id++ {
		if err := a.Insert(ctx, id); err != nil { // node A never starts its workers
			t.Fatal(err)
		}
	}
	if got, err := a.Unqueued(ctx, []int64{1, 6}); err != nil || !slices.Equal(got, []int64{6}) && !slices.Equal(got, []int64{1, 6}) {
		t.Fatalf("Unqueued = %v, %v; want 6 (and 1 once worked)", got, err)
	}
	if got := busy.waitFor(t, 5); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Fatalf("node B worked %v, want 1…5 once each", got)
	}
	if len(idle.runs) != 0 {
		t.Fatalf("node A, not started, worked %v", idle.runs)
	}
}

// Nodes that start together on a new database migrate River's tables
// once, one after the other: none fails (River's migrator alone fails on
// a duplicate function when two run at once).
func TestPostgresNodesStartTogether(t *testing.T) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	const nodes = 4
	errs := make(chan error, nodes)
	start := make(chan struct{})
	for range nodes {
		p, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		go func() {
			<-start
			_, err := riverjobs.Postgres(p, riverjobs.PostgresOptions{})(ctx, newWorked().work, 1)
			errs <- err
		}()
	}
	close(start)
	for range nodes {
		if err := <-errs; err != nil {
			t.Errorf("a node starting with the others: %v", err)
		}
	}
}

// The SQLite queue works what this process inserts, at once, and
// CancelUnfinished leaves nothing for a restart to work twice.
func TestSQLiteQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bindery.db")
	store, err := sqlite.Open(ctx, path, testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	db, err := sqlite.OpenPool(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := newWorked()
	q, err := riverjobs.SQLite(db, riverjobs.SQLiteOptions{FetchPollInterval: time.Hour})(ctx, w.work, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Insert(ctx, 7); err != nil { // before Start: kept for it
		t.Fatal(err)
	}
	if got, err := q.Unqueued(ctx, []int64{6, 7, 9}); err != nil || !slices.Equal(got, []int64{6, 9}) {
		t.Fatalf("Unqueued = %v, %v; want 6 and 9 (7 has a job)", got, err)
	}
	if err := q.CancelUnfinished(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := q.Unqueued(ctx, []int64{7}); err != nil || !slices.Equal(got, []int64{7}) {
		t.Fatalf("Unqueued after cancelling = %v, %v; want 7", got, err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(context.Background())
	if err := q.Insert(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if got := w.waitFor(t, 1); !slices.Equal(got, []int64{8}) {
		t.Fatalf("worked %v, want only 8 (7 was cancelled)", got)
	}
}
