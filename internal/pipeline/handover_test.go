package pipeline_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	bookService "github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/testkit"
)

// pgNodes returns a maker of nodes on one fresh PostgreSQL database and
// one shared blob store (a folder standing for the bucket): each node its
// own data folder, pool, job client, book service and engine, as
// `bindery serve` builds them with BINDERY_S3_…; and a function that
// makes a book (through the first node's book service) for a new user.
func pgNodes(t *testing.T) (node func(pipeline.Config) (*pipeline.Engine, *postgres.DB), newBook func() (*bindery.Book, *bindery.User), bucket blob.Store) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	keys := testkit.Keyring(t)
	root := t.TempDir()
	local, err := blob.OpenLocal(filepath.Join(root, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	bucket = local
	var first *bookService.Service
	var firstDB *postgres.DB
	n := 0
	node = func(cfg pipeline.Config) (*pipeline.Engine, *postgres.DB) {
		n++
		dir := filepath.Join(root, "node-"+strconv.Itoa(n))
		db, err := postgres.Open(ctx, url, keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		files, err := bookfs.New(filepath.Join(dir, "books"), bookfs.Limits{MaxFileBytes: 50 << 20, MaxFiles: 1000, MaxBookBytes: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		artifacts := filepath.Join(dir, "artifacts")
		art := func(id int64) string { return filepath.Join(artifacts, strconv.FormatInt(id, 10)) }
		cat, err := catalog.New(catalog.Config{Store: db, Dir: filepath.Join(dir, "published"), ArtifactsDir: art, BookDir: files.Dir, Outputs: bucket})
		if err != nil {
			t.Fatal(err)
		}
		svc := bookService.New(bookService.Deps{Store: db, Files: files, Shared: bookfs.NewShared(files, bucket, db), Outputs: bucket,
			Catalog: cat, Audit: noAudit{}, ArtifactsDir: art})
		if first == nil {
			first, firstDB = svc, db
		}
		cfg.Store, cfg.Books, cfg.ArtifactsDir, cfg.Outputs, cfg.PollInterval = db, svc, artifacts, bucket, 20*time.Millisecond
		cfg.Jobs = riverjobs.Postgres(db.Pool(), riverjobs.PostgresOptions{FetchPollInterval: 100 * time.Millisecond})
		e, err := pipeline.New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return e, db
	}
	newBook = func() (*bindery.Book, *bindery.User) {
		t.Helper()
		u := &bindery.User{Email: "a@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := firstDB.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		extra := map[string]string{}
		for name, data := range noCoverBook() {
			extra[name] = string(data)
		}
		imp, err := first.Import(ctx, bookService.Actor{User: u}, bytes.NewReader(testkit.ZipDir(t, t.TempDir(), "", extra)))
		if err != nil {
			t.Fatal(err)
		}
		return imp.Book, u
	}
	return node, newBook, bucket
}

// waitForRun polls the store, with a deadline, until run id succeeded.
func waitForRun(t *testing.T, db bindery.Store, id int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := db.RunByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == bindery.RunSucceeded {
			return
		}
		if got.State == bindery.RunFailed || time.Now().After(deadline) {
			t.Fatalf("run %s (%s)", got.State, got.Error)
		}
		time.Sleep(20 * time.Millisecond) // polling the store with a deadline
	}
}

// silentNode starts a node whose one worker, on reaching stage, reports
// the run on the returned channel and goes silent (no heartbeat, its
// worker held) until wake is called (also at the end of the test).
func silentNode(t *testing.T, node func(pipeline.Config) (*pipeline.Engine, *postgres.DB), stage string) (e *pipeline.Engine, db *postgres.DB, reached <-chan int64, wake func()) {
	t.Helper()
	got, release := make(chan int64, 1), make(chan struct{})
	e, db = node(pipeline.Config{Workers: 1, HeartbeatInterval: time.Hour})
	pipeline.SetHook(e, func(ctx context.Context, runID int64, point string) {
		if point == "stage:"+stage {
			got <- runID
			<-release
		}
	})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	wake = func() { once.Do(func() { close(release) }) }
	t.Cleanup(func() { wake(); e.Shutdown(context.Background()) })
	return e, db, got, wake
}

// takeOver starts a node that takes over silent nodes' runs after 300 ms,
// once reached reports that the silent node holds one.
func takeOver(t *testing.T, node func(pipeline.Config) (*pipeline.Engine, *postgres.DB), reached <-chan int64) *pipeline.Engine {
	t.Helper()
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatal("the silent node never reached its stage")
	}
	e, _ := node(pipeline.Config{Workers: 1, HeartbeatInterval: 50 * time.Millisecond, HandOverAfter: 300 * time.Millisecond})
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background()) })
	return e
}

// TestQueuedRunWithoutAJobIsQueued: a node that dies between queueing a
// run and inserting its job leaves a queued run without a job; another
// node's hand-over loop gives it one (Requeue), and it runs. Requeue is
// idempotent: a run with a job gets no second one.
func TestQueuedRunWithoutAJobIsQueued(t *testing.T) {
	ctx := context.Background()
	node, newBook, _ := pgNodes(t)
	_, db := node(pipeline.Config{Workers: 1})
	b, u := newBook()
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
	waitForRun(t, db, r.ID)
}

// TestRunOfASilentNodeIsTakenOver: two nodes on one PostgreSQL (their own
// data folders, pools and job clients; book files and artifacts shared
// through a blob store, as with BINDERY_S3_…). Node
// A claims a run and goes silent inside its format stage (no heartbeat, its
// only worker held): node B takes the run over from its last finished
// stage under A's lease, and finishes it. When A wakes up, its lease is
// stale: it writes nothing more, so the run's events show one format stage
// finished and one success, after the hand-over.
func TestRunOfASilentNodeIsTakenOver(t *testing.T) {
	ctx := context.Background()
	node, newBook, _ := pgNodes(t)
	a, db, inFormat, wake := silentNode(t, node, bindery.StageFormat)
	b, u := newBook()
	r, err := a.StartRun(ctx, b, u, []string{"html"}, false)
	if err != nil {
		t.Fatal(err)
	}
	takeOver(t, node, inFormat)
	waitForRun(t, db, r.ID)
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

// TestArtifactsFollowAHandOver: node A builds a run's artifacts and goes
// silent in its quality stage; node B, which has neither the book nor the
// artifacts in its data folder, takes the run over, fetches the artifacts
// A shared, checks them and serves them.
func TestArtifactsFollowAHandOver(t *testing.T) {
	ctx := context.Background()
	node, newBook, _ := pgNodes(t)
	a, db, inQuality, _ := silentNode(t, node, bindery.StageQuality)
	b, u := newBook()
	r, err := a.StartRun(ctx, b, u, []string{"html", "epub"}, false)
	if err != nil {
		t.Fatal(err)
	}
	bNode := takeOver(t, node, inQuality)
	waitForRun(t, db, r.ID)
	got, err := db.RunByID(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range got.Stages {
		if st.Name == bindery.StageFormat && st.State != "succeeded" {
			t.Fatalf("format stage %s", st.State)
		}
	}
	names := bNode.Artifacts(ctx, r.ID)
	if len(names) != 2 {
		t.Fatalf("node B lists artifacts %v", names)
	}
	for _, name := range names {
		f, _, err := bNode.Artifact(ctx, r.ID, name)
		if err != nil {
			t.Fatalf("node B opens %s: %v", name, err)
		}
		data, _ := io.ReadAll(f)
		f.Close()
		if len(data) == 0 {
			t.Fatalf("%s is empty on node B", name)
		}
	}
	// Names that are not a plain file of the run are not found, even in
	// the bucket (another run's artifact, a hidden or climbing name).
	for _, bad := range []string{"../" + strconv.FormatInt(r.ID, 10) + "/" + names[0], "." + names[0], "", "/" + names[0]} {
		if _, _, err := bNode.Artifact(ctx, r.ID+1, bad); bindery.ErrorCode(err) != bindery.ENOTFOUND {
			t.Errorf("Artifact(%q) on another run = %v, want ENOTFOUND", bad, err)
		}
	}
	events, err := db.EventsAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	formatDone := 0
	for _, ev := range events {
		if ev.RunID == r.ID && ev.Type == bindery.EventStageFinished && ev.Stage == bindery.StageFormat {
			formatDone++
		}
	}
	if formatDone != 1 {
		t.Fatalf("the format stage finished %d times; node B should have used node A's artifacts", formatDone)
	}
}

// TestEditionsInSharedStorage: two published runs of a book on shared
// storage; every node serves the current edition from the bucket; the
// replaced edition stays until it is older than the grace period, then
// the collector deletes it and keeps the current one.
func TestEditionsInSharedStorage(t *testing.T) {
	ctx := context.Background()
	node, newBook, bucket := pgNodes(t)
	e, db := node(pipeline.Config{Workers: 1})
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background()) })
	b, u := newBook()
	var runs []int64
	for range 2 {
		r, err := e.StartRun(ctx, b, u, []string{"html"}, true)
		if err != nil {
			t.Fatal(err)
		}
		waitForRun(t, db, r.ID)
		runs = append(runs, r.ID)
	}
	pub, err := db.Publication(ctx, b.ID)
	if err != nil || pub.RunID != runs[1] {
		t.Fatalf("publication %+v, %v; want run %d", pub, err, runs[1])
	}
	other, err := catalog.New(catalog.Config{Store: db, Dir: t.TempDir(), Outputs: bucket}) // another node's
	if err != nil {
		t.Fatal(err)
	}
	name := pub.Files[0]
	f, _, err := other.Open(ctx, b.ID, name)
	if err != nil {
		t.Fatalf("another node opens %s: %v", name, err)
	}
	f.Close()
	if _, err := bucket.Stat(ctx, blob.EditionKey(b.ID, runs[0], name)); err != nil {
		t.Fatalf("the replaced edition is gone at once: %v", err)
	}
	// Only the current edition's own files are served: not a replaced
	// edition's, not a name outside the publication's list.
	for _, bad := range []string{"../" + strconv.FormatInt(runs[0], 10) + "/" + name, strconv.FormatInt(runs[0], 10) + "/" + name, "other.html", ""} {
		if _, _, err := other.Open(ctx, b.ID, bad); bindery.ErrorCode(err) != bindery.ENOTFOUND {
			t.Errorf("Open(%q) = %v, want ENOTFOUND", bad, err)
		}
	}
	if n, err := other.CollectEditions(ctx, time.Hour, time.Now()); n != 0 || err != nil {
		t.Fatalf("CollectEditions within the grace period = %d, %v", n, err)
	}
	if n, err := other.CollectEditions(ctx, time.Hour, time.Now().Add(2*time.Hour)); n != 1 || err != nil {
		t.Fatalf("CollectEditions = %d, %v; want the replaced edition's one file", n, err)
	}
	if _, err := bucket.Stat(ctx, blob.EditionKey(b.ID, runs[0], name)); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("the replaced edition is still there: %v", err)
	}
	if f, _, err := other.Open(ctx, b.ID, name); err != nil {
		t.Fatalf("the current edition after collecting: %v", err)
	} else {
		f.Close()
	}
}
