package pipeline_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	bookService "github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/testkit"
)

// TestRunOfASilentNodeIsTakenOver: two nodes on one PostgreSQL (their own
// pools and job clients; the book folder shared, as S3 will share it). Node
// A claims a run and goes silent inside its format stage (no heartbeat, its
// only worker held): node B takes the run over from its last finished
// stage under A's lease, and finishes it. When A wakes up, its lease is
// stale: it writes nothing more, so the run's events show one format stage
// finished and one success, after the hand-over.
// pgNodes returns a book store shared by the nodes (as S3 shares it) and
// a maker of nodes on one fresh PostgreSQL database: each its own pool,
// job client and engine.
func pgNodes(t *testing.T) (*bookfs.Store, func(pipeline.Config) (*pipeline.Engine, *postgres.DB)) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	keys := testkit.Keyring(t)
	dir := t.TempDir()
	files, err := bookfs.New(filepath.Join(dir, "books"), bookfs.Limits{MaxFileBytes: 50 << 20, MaxFiles: 1000, MaxBookBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(dir, "artifacts")
	return files, func(cfg pipeline.Config) (*pipeline.Engine, *postgres.DB) {
		db, err := postgres.Open(ctx, url, keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		art := func(id int64) string { return filepath.Join(artifacts, strconv.FormatInt(id, 10)) }
		cat, err := catalog.New(catalog.Config{Store: db, Dir: filepath.Join(dir, "published"), ArtifactsDir: art, BookDir: files.Dir})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Store, cfg.ArtifactsDir, cfg.PollInterval = db, artifacts, 20*time.Millisecond
		cfg.Books = bookService.New(bookService.Deps{Store: db, Files: files, Catalog: cat, Audit: noAudit{}, ArtifactsDir: art})
		cfg.Jobs = riverjobs.Postgres(db.Pool(), riverjobs.PostgresOptions{FetchPollInterval: 100 * time.Millisecond})
		e, err := pipeline.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e, db
	}
}

// TestQueuedRunWithoutAJobIsQueued: a node that dies between queueing a
// run and inserting its job leaves a queued run without a job; another
// node's hand-over loop gives it one (Requeue), and it runs. Requeue is
// idempotent: a run with a job gets no second one.
func TestQueuedRunWithoutAJobIsQueued(t *testing.T) {
	ctx := context.Background()
	files, node := pgNodes(t)
	_, db := node(pipeline.Config{Workers: 1})
	u := &bindery.User{Email: "a@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	b := &bindery.Book{OwnerID: u.ID, Title: "T", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := files.Create(b.ID); err != nil {
		t.Fatal(err)
	}
	for name, data := range noCoverBook() {
		if _, err := files.Put(ctx, b.ID, name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	// What a node that died after QueueRun's insert leaves: the row only.
	r, err := db.QueueRun(ctx, &bindery.Run{BookID: b.ID, State: bindery.RunQueued, Formats: []string{"html"}, CreatedBy: u.ID, CreatedAt: time.Now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := node(pipeline.Config{Workers: 1, HeartbeatInterval: 50 * time.Millisecond, HandOverAfter: 300 * time.Millisecond})
	if n, err := e.Requeue(ctx); n != 1 || err != nil {
		t.Fatalf("Requeue = %d, %v; want the run without a job", n, err)
	}
	if n, err := e.Requeue(ctx); n != 0 || err != nil {
		t.Fatalf("Requeue again = %d, %v; want none (its job exists)", n, err)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background()) })
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := db.RunByID(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == bindery.RunSucceeded {
			break
		}
		if got.State == bindery.RunFailed || time.Now().After(deadline) {
			t.Fatalf("run %s (%s)", got.State, got.Error)
		}
		time.Sleep(20 * time.Millisecond) // polling the store with a deadline
	}
}

func TestRunOfASilentNodeIsTakenOver(t *testing.T) {
	ctx := context.Background()
	files, node := pgNodes(t)
	inFormat, release := make(chan int64, 1), make(chan struct{})
	a, db := node(pipeline.Config{Workers: 1, HeartbeatInterval: time.Hour})
	pipeline.SetHook(a, func(ctx context.Context, runID int64, point string) {
		if point == "stage:"+bindery.StageFormat {
			inFormat <- runID
			<-release // silent: no heartbeat, the worker held
		}
	})
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	wake := func() { once.Do(func() { close(release) }) }
	t.Cleanup(func() { wake(); a.Shutdown(context.Background()) })

	u := &bindery.User{Email: "a@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	b := &bindery.Book{OwnerID: u.ID, Title: "T", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := files.Create(b.ID); err != nil {
		t.Fatal(err)
	}
	for name, data := range noCoverBook() {
		if _, err := files.Put(ctx, b.ID, name, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := a.StartRun(ctx, b, u, []string{"html"}, false)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-inFormat:
	case <-time.After(60 * time.Second):
		t.Fatal("node A never reached the format stage")
	}

	bNode, _ := node(pipeline.Config{Workers: 1, HeartbeatInterval: 50 * time.Millisecond, HandOverAfter: 300 * time.Millisecond})
	if err := bNode.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bNode.Shutdown(context.Background()) })

	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := db.RunByID(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == bindery.RunSucceeded {
			break
		}
		if got.State == bindery.RunFailed || time.Now().After(deadline) {
			t.Fatalf("run %s (%s) 60 s after node A went silent", got.State, got.Error)
		}
		time.Sleep(20 * time.Millisecond) // polling the store with a deadline
	}
	wake() // node A wakes up, under a stale lease
	// Shutdown returns once A's worker has returned: whatever its stale
	// execution could write is written by then.
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := db.EventsAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var handedOver, formatDone, succeeded int
	var last string
	for _, ev := range events {
		if ev.RunID != r.ID {
			continue
		}
		last = ev.Type
		switch {
		case ev.Type == bindery.EventLog && ev.Message == pipeline.HandOverMessage:
			handedOver++
		case ev.Type == bindery.EventStageFinished && ev.Stage == bindery.StageFormat:
			formatDone++
		case ev.Type == bindery.EventRunSucceeded:
			succeeded++
		}
	}
	if handedOver != 1 || formatDone != 1 || succeeded != 1 || last != bindery.EventRunSucceeded {
		t.Fatalf("events of the run: %d hand-overs, %d format stages finished, %d successes, last %s; want 1, 1, 1, run_succeeded", handedOver, formatDone, succeeded, last)
	}
}
