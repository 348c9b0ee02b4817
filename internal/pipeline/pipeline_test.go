package pipeline_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/testkit"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	bookService "github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/ideogram"
	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/store/sqlite"
)

// recorder collects published events and lets tests wait for one.
type recorder struct {
	mu     sync.Mutex
	events []*bindery.Event
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) Publish(e *bindery.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// wait blocks until an event matching f has been published, or fails.
func (r *recorder) wait(t *testing.T, what string, f func(*bindery.Event) bool) *bindery.Event {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if f(e) {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("no %s event within 60 s; got %v", what, r.types())
		}
	}
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		s := e.Type
		if e.Stage != "" {
			s += ":" + e.Stage
		}
		out = append(out, s)
	}
	return out
}

type env struct {
	store  *sqlite.DB
	books  *bookfs.Store
	engine *pipeline.Engine
	rec    *recorder
	book   *bindery.Book
	user   *bindery.User
	jobs   *sql.DB
	dir    string // the data folder
}

// newEnv builds a store, a book holding files, and a started engine.
func newEnv(t *testing.T, files map[string][]byte, ill pipeline.Illustrator) *env {
	t.Helper()
	return newEnvWith(t, files, ill, nil)
}

// newEnvWith is newEnv with a function that may adjust the engine's
// configuration and the engine itself before it starts (catalog, hooks).
func newEnvWith(t *testing.T, files map[string][]byte, ill pipeline.Illustrator, setup func(dir string, cfg *pipeline.Config, late func(func(*pipeline.Engine)))) *env {
	t.Helper()
	return newEnvJobs(t, files, ill, riverjobs.SQLiteOptions{}, setup)
}

// newEnvJobs is newEnvWith with options for the SQLite job queue.
func newEnvJobs(t *testing.T, files map[string][]byte, ill pipeline.Illustrator, jo riverjobs.SQLiteOptions, setup func(dir string, cfg *pipeline.Config, late func(func(*pipeline.Engine)))) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bindery.db")
	store, err := sqlite.Open(ctx, dbPath, testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	jobsDB, err := sqlite.OpenPool(dbPath, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jobsDB.Close() })
	books, err := bookfs.New(filepath.Join(dir, "books"), bookfs.Limits{MaxFileBytes: 50 << 20, MaxFiles: 1000, MaxBookBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	u := &bindery.User{Email: "a@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	b := &bindery.Book{OwnerID: u.ID, Title: "T", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := store.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	books.Create(b.ID)
	for name, data := range files {
		if _, err := books.Put(ctx, b.ID, name, bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	rec := newRecorder()
	artifacts := func(id int64) string { return filepath.Join(dir, "artifacts", strconv.FormatInt(id, 10)) }
	cat, err := catalog.New(catalog.Config{Store: store, Dir: filepath.Join(dir, "published"), ArtifactsDir: artifacts, BookDir: books.Dir})
	if err != nil {
		t.Fatal(err)
	}
	lib := bookService.New(bookService.Deps{Store: store, Files: books, Catalog: cat, Audit: noAudit{}, ArtifactsDir: artifacts})
	cfg := pipeline.Config{Store: store, Books: lib, ArtifactsDir: filepath.Join(dir, "artifacts"), Jobs: riverjobs.SQLite(jobsDB, jo),
		Publisher: rec, Illustrator: ill, PollInterval: 20 * time.Millisecond}
	var before []func(*pipeline.Engine)
	if setup != nil {
		setup(dir, &cfg, func(f func(*pipeline.Engine)) { before = append(before, f) })
	}
	e, err := pipeline.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f(e)
	}
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Shutdown(context.Background()) })
	return &env{store: store, books: books, engine: e, rec: rec, book: b, user: u, jobs: jobsDB, dir: dir}
}

// noAudit discards audit entries: these tests are about runs.
type noAudit struct{}

func (noAudit) Audit(context.Context, bindery.AuditEvent) {}

// exampleFiles reads the bundled example book.
func exampleFiles(t *testing.T) map[string][]byte {
	t.Helper()
	root := "../../examples/lighthouse"
	files := map[string][]byte{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if _, err := bookfs.KindOf(filepath.ToSlash(rel)); err != nil || rel == "README.md" {
			return nil
		}
		files[filepath.ToSlash(rel)], _ = os.ReadFile(p)
		return nil
	})
	return files
}

func forRun(id int64, typ string) func(*bindery.Event) bool {
	return func(e *bindery.Event) bool { return e.RunID == id && e.Type == typ }
}

// TestFullRun: the example book through every stage, observed as events
// in order, with artifacts that pass the quality stage.
func TestFullRun(t *testing.T) {
	env := newEnv(t, exampleFiles(t), nil)
	ctx := context.Background()
	r, err := env.engine.StartRun(ctx, env.book, env.user, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
	got, _ := env.store.RunByID(ctx, r.ID)
	if got.State != bindery.RunSucceeded || got.FinishedAt == nil {
		t.Fatalf("run = %+v", got)
	}
	wantStates := []string{"succeeded", "skipped", "succeeded", "succeeded", "skipped"}
	for i, st := range got.Stages {
		if st.State != wantStates[i] {
			t.Errorf("stage %s = %s (%s), want %s", st.Name, st.State, st.Message, wantStates[i])
		}
	}
	arts := env.engine.Artifacts(context.Background(), r.ID)
	slices.Sort(arts)
	if len(arts) != 3 || !strings.HasSuffix(arts[0], ".epub") || !strings.HasSuffix(arts[2], ".pdf") {
		t.Fatalf("artifacts = %v", arts)
	}
	// Events in order: queued, started, then each stage started → finished.
	var seq []string
	var lastID int64
	for _, e := range env.rec.events {
		if e.ID <= lastID {
			t.Fatalf("event ids not increasing: %d after %d", e.ID, lastID)
		}
		lastID = e.ID
		if e.Type != bindery.EventStageProgress && e.Type != bindery.EventLog {
			s := e.Type
			if e.Stage != "" {
				s += ":" + e.Stage
			}
			seq = append(seq, s)
		}
	}
	want := []string{"run_queued", "run_started"}
	for _, st := range bindery.Stages {
		want = append(want, "stage_started:"+st, "stage_finished:"+st)
	}
	want = append(want, "run_succeeded")
	if !slices.Equal(seq, want) {
		t.Fatalf("events:\n got %v\nwant %v", seq, want)
	}
	// Durable: the store holds them too.
	stored, _ := env.store.EventsAfter(ctx, 0, 0)
	if len(stored) != len(env.rec.events) {
		t.Fatalf("stored %d events, published %d", len(stored), len(env.rec.events))
	}
	// Readers see names relative to the book, never server paths: no
	// event and no stage message holds the data folder's path.
	wrote := false
	for _, e := range stored {
		b, _ := json.Marshal(e)
		if strings.Contains(string(b), env.dir) {
			t.Errorf("event carries a server path: %s", b)
		}
		if e.Type == bindery.EventStageProgress && strings.HasPrefix(e.Message, "wrote ") && strings.Contains(strings.Fields(e.Message)[1], "/") {
			t.Errorf("progress names a path, not a file of the run: %q", e.Message)
		}
		// Progress is throttled, so a given "wrote" line may not be
		// sent; the format stage's end always names what it built.
		wrote = wrote || e.Type == bindery.EventStageFinished && e.Stage == bindery.StageFormat && strings.Contains(e.Message, ".epub")
	}
	if !wrote {
		t.Error("the format stage does not name its artifacts")
	}
	for _, st := range got.Stages {
		if strings.Contains(st.Message, env.dir) {
			t.Errorf("stage %s message carries a server path: %s", st.Name, st.Message)
		}
	}
}

// blockingIllustrator blocks until its context ends, then reports.
type blockingIllustrator struct{ entered chan struct{} }

func (b *blockingIllustrator) Cover(ctx context.Context, md manuscript.Metadata) (pipeline.Cover, error) {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return pipeline.Cover{}, ctx.Err()
}

type quickIllustrator struct{}

func (quickIllustrator) Cover(ctx context.Context, md manuscript.Metadata) (pipeline.Cover, error) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 60, 90)))
	return pipeline.Cover{Data: b.Bytes(), Ext: ".png", AltText: "A plain test cover", Source: "test"}, nil
}

// switchIllustrator blocks first, then answers quickly.
type switchIllustrator struct {
	mu    sync.Mutex
	block bool
	b     *blockingIllustrator
}

func (s *switchIllustrator) Cover(ctx context.Context, md manuscript.Metadata) (pipeline.Cover, error) {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block {
		return s.b.Cover(ctx, md)
	}
	return quickIllustrator{}.Cover(ctx, md)
}

// noCoverBook is a small book without a cover, so the images stage works.
func noCoverBook() map[string][]byte {
	return map[string][]byte{
		"metadata.yaml":      []byte("title: No Cover\nauthor: A. Writer\nlanguage: en\n"),
		"chapters/01-one.md": []byte("# One\n\nSome text.\n"),
	}
}

// TestPauseInsideAStageAndResume: pause takes effect inside a stage that
// blocks; resume continues from that stage, not from scratch.
func TestPauseInsideAStageAndResume(t *testing.T) {
	ill := &switchIllustrator{block: true, b: &blockingIllustrator{entered: make(chan struct{}, 1)}}
	env := newEnv(t, noCoverBook(), ill)
	ctx := context.Background()
	r, err := env.engine.StartRun(ctx, env.book, env.user, []string{"epub"}, false)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ill.b.entered:
	case <-time.After(60 * time.Second):
		t.Fatalf("the images stage never started: %v", env.rec.types())
	}
	if _, err := env.engine.PauseRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	env.rec.wait(t, "run_paused", forRun(r.ID, bindery.EventRunPaused))
	// The stage sees the pause and the run stays paused.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := env.store.RunByID(ctx, r.ID)
		if got.Stages[1].State == "pending" && got.Stages[1].Message == "interrupted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the images stage did not stop: %+v", got.Stages[1])
		}
		time.Sleep(10 * time.Millisecond) // polling a database state, with a deadline
	}
	if _, err := env.engine.PauseRun(ctx, r.ID); bindery.ErrorCode(err) != bindery.ECONFLICT {
		t.Fatalf("pausing a paused run: %v", err)
	}
	ill.mu.Lock()
	ill.block = false
	ill.mu.Unlock()
	if _, err := env.engine.ResumeRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
	contentStarts := 0
	for _, e := range env.rec.events {
		if e.Type == bindery.EventStageStarted && e.Stage == bindery.StageContent {
			contentStarts++
		}
	}
	if contentStarts != 1 {
		t.Fatalf("the content stage ran %d times; resume must continue, not restart", contentStarts)
	}
	if f, _, err := env.books.Get(env.book.ID, "assets/images/cover.png"); err != nil {
		t.Fatalf("no cover stored: %v", err)
	} else {
		f.Close()
	}
	f, _, _ := env.books.Get(env.book.ID, "metadata.yaml")
	yml, _ := io.ReadAll(f)
	f.Close()
	if !strings.Contains(string(yml), "cover: assets/images/cover.png") {
		t.Fatalf("metadata.yaml does not point at the cover:\n%s", yml)
	}
}

func TestStop(t *testing.T) {
	ill := &blockingIllustrator{entered: make(chan struct{}, 1)}
	env := newEnv(t, noCoverBook(), ill)
	ctx := context.Background()
	r, _ := env.engine.StartRun(ctx, env.book, env.user, []string{"epub"}, false)
	<-ill.entered
	if _, err := env.engine.StopRun(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	env.rec.wait(t, "run_stopped", forRun(r.ID, bindery.EventRunStopped))
	if _, err := env.engine.ResumeRun(ctx, r.ID); bindery.ErrorCode(err) != bindery.ECONFLICT {
		t.Fatalf("resuming a stopped run: %v", err)
	}
}

func TestFailingBookFailsTheRun(t *testing.T) {
	env := newEnv(t, map[string][]byte{
		"metadata.yaml":      []byte("title: Broken\nauthor: A\nlanguage: en\n"),
		"chapters/01-one.md": []byte("# One\n\n![missing](../assets/images/none.png)\n"),
	}, nil)
	ctx := context.Background()
	r, _ := env.engine.StartRun(ctx, env.book, env.user, nil, false)
	ev := env.rec.wait(t, "run_failed", forRun(r.ID, bindery.EventRunFailed))
	if !strings.Contains(ev.Error, "content") {
		t.Fatalf("run_failed error %q", ev.Error)
	}
	logs, _ := env.store.RunLogs(ctx, r.ID, 0)
	found := false
	for _, l := range logs {
		if strings.Contains(l.Message, "chapters/01-one.md:3:") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the problem is not in the run's log: %+v", logs)
	}
}

func TestBadFormatsRefused(t *testing.T) {
	env := newEnv(t, noCoverBook(), nil)
	if _, err := env.engine.StartRun(context.Background(), env.book, env.user, []string{"docx"}, false); bindery.ErrorCode(err) != bindery.EINVALID {
		t.Fatalf("docx: %v", err)
	}
}

// TestLocalCoverWithoutAKey: without IDEOGRAM_API_KEY, a run of a book
// without a cover still succeeds, with a typographic cover drawn locally,
// and the run's log says so.
func TestLocalCoverWithoutAKey(t *testing.T) {
	g, err := ideogram.NewGenerator(ideogram.GeneratorOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, noCoverBook(), pipeline.IdeogramIllustrator(g))
	ctx := context.Background()
	r, _ := env.engine.StartRun(ctx, env.book, env.user, []string{"epub"}, false)
	env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
	logs, _ := env.store.RunLogs(ctx, r.ID, 0)
	var text []string
	for _, l := range logs {
		text = append(text, l.Message)
	}
	all := strings.Join(text, "\n")
	if !strings.Contains(all, "typographic cover locally") || !strings.Contains(all, "Alt text:") {
		t.Fatalf("log:\n%s", all)
	}
}
