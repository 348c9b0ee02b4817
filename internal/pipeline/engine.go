package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/ideogram"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Publisher receives every event after it has been stored (the realtime
// hub). Publish must not block.
type Publisher interface{ Publish(e *bindery.Event) }

// PublisherFunc adapts a function to Publisher.
type PublisherFunc func(e *bindery.Event)

// Publish calls f.
func (f PublisherFunc) Publish(e *bindery.Event) { f(e) }

// Illustrator makes missing art for a book (the images stage). Nil means
// none is configured: the stage logs that and moves on.
type Illustrator interface {
	Cover(ctx context.Context, md manuscript.Metadata) (Cover, error)
}

// Cover is a cover image made for a book.
type Cover struct {
	Data    []byte // PNG or JPEG
	Ext     string // ".png" or ".jpg"
	AltText string
	Source  string // where it came from: "ideogram", "cache", "local"
}

// IdeogramIllustrator makes covers with g: Ideogram when a key is
// configured (cached by prompt), else a typographic cover drawn locally.
func IdeogramIllustrator(g *ideogram.Generator) Illustrator { return ideogramIllustrator{g} }

type ideogramIllustrator struct{ g *ideogram.Generator }

func (i ideogramIllustrator) Cover(ctx context.Context, md manuscript.Metadata) (Cover, error) {
	im, err := i.g.Cover(ctx, md)
	if err != nil {
		return Cover{}, err
	}
	return Cover{Data: im.Data, Ext: im.Ext(), AltText: im.AltText, Source: im.Source}, nil
}

// Catalog publishes a run whose quality stage passed (catalog.Catalog).
type Catalog interface {
	Publish(ctx context.Context, runID, by int64) (*bindery.Publication, error)
}

// Config configures New.
type Config struct {
	// Catalog receives runs started with publish; nil means the publish
	// stage is skipped with a log line.
	Catalog      Catalog
	Store        bindery.Store
	Books        *bookfs.Store
	ArtifactsDir string  // runs' outputs: ArtifactsDir/<run id>/
	JobsDB       *sql.DB // River's connection pool (SQLite: one connection)
	Workers      int     // concurrent runs; default 2
	Publisher    Publisher
	Illustrator  Illustrator
	Logger       *slog.Logger
	Now          func() time.Time
	// StageObserver, when set, is told how each stage ended and how long
	// it took (metrics).
	StageObserver func(stage, state string, d time.Duration)
	// PollInterval is how often a running job checks for pause and stop;
	// default 200 ms.
	PollInterval time.Duration
}

// Engine starts and controls runs.
type Engine struct {
	cfg    Config
	client *river.Client[*sql.Tx]
	log    *slog.Logger

	mu        sync.Mutex // guards emission order: ids and publishing stay in step
	progressT map[int64]time.Time
}

// Job kinds are stable names stored in the jobs table; never rename them.
const runJobKind = "bindery.run"

// runArgs is the River job of one run.
type runArgs struct {
	RunID int64 `json:"run_id"`
}

func (runArgs) Kind() string { return runJobKind }

// New migrates River's tables and builds the engine (not started).
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 200 * time.Millisecond
	}
	if err := os.MkdirAll(cfg.ArtifactsDir, 0o700); err != nil {
		return nil, err
	}
	m, err := rivermigrate.New(riversqlite.New(cfg.JobsDB), nil)
	if err != nil {
		return nil, err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, progressT: map[int64]time.Time{}}
	workers := river.NewWorkers()
	river.AddWorker(workers, &runWorker{e: e})
	e.client, err = river.NewClient(riversqlite.New(cfg.JobsDB), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: 100 * time.Millisecond,
		FetchCooldown:     20 * time.Millisecond,
		JobTimeout:        -1, // runs end by themselves; pause/stop cancel them
		MaxAttempts:       1,  // a failed run is reported, not silently retried
		Logger:            cfg.Logger.With("component", "river"),
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Start recovers runs interrupted by a crash or a shutdown, then starts
// the workers.
//
// Recovery assumes one server per database, which the SQLite deployment
// guarantees with its data-folder lock: a run still marked running
// belonged to a process that is gone. It is queued again with a fresh job
// and continues from its first unfinished stage; queued runs get a fresh
// job too. A stale job that River later rescues finds its run already
// claimed (ClaimRun) and does nothing, so no run is ever executed twice at
// once and none is left "running".
func (e *Engine) Start(ctx context.Context) error {
	if err := e.recover(ctx); err != nil {
		return fmt.Errorf("recovering runs: %w", err)
	}
	return e.client.Start(ctx)
}

// Shutdown stops the workers: running stages see their context cancelled
// and their runs are resumed at the next start.
func (e *Engine) Shutdown(ctx context.Context) error { return e.client.Stop(ctx) }

func (e *Engine) recover(ctx context.Context) error {
	runs, err := e.cfg.Store.RunsInState(ctx, bindery.RunRunning, bindery.RunQueued)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if r.State == bindery.RunRunning {
			e.removeTemporary(r.ID)
			if err := e.cfg.Store.SetRunState(ctx, r.ID, bindery.RunQueued, "", e.cfg.Now()); err != nil {
				return err
			}
			e.emit(ctx, &bindery.Event{Type: bindery.EventLog, RunID: r.ID, BookID: r.BookID, Level: "warn", Source: "pipeline",
				Message: "The server stopped during this run; it continues from its last finished stage."})
			e.log.Warn("resuming a run interrupted by a restart", "run_id", r.ID)
		}
		if _, err := e.client.Insert(ctx, runArgs{RunID: r.ID}, nil); err != nil {
			return err
		}
	}
	return nil
}

// removeTemporary deletes half-written artifacts of a run (hidden temp
// files of the atomic writer).
func (e *Engine) removeTemporary(runID int64) {
	dir := e.artifactDir(runID)
	entries, _ := os.ReadDir(dir)
	for _, en := range entries {
		if len(en.Name()) > 0 && en.Name()[0] == '.' {
			os.Remove(filepath.Join(dir, en.Name()))
		}
	}
}

func (e *Engine) artifactDir(runID int64) string {
	return filepath.Join(e.cfg.ArtifactsDir, strconv.FormatInt(runID, 10))
}

// Emit stores an event and publishes it, in id order with the pipeline's
// own events (book_published comes from the catalog).
func (e *Engine) Emit(ctx context.Context, ev *bindery.Event) { e.emit(ctx, ev) }

// emit stores an event and publishes it. Failures to store are logged:
// the run goes on, and its state is in the runs tables anyway.
func (e *Engine) emit(ctx context.Context, ev *bindery.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev.Timestamp = e.cfg.Now().UTC()
	if err := e.cfg.Store.AppendEvent(context.WithoutCancel(ctx), ev); err != nil {
		e.log.Error("storing an event failed", "type", ev.Type, "run_id", ev.RunID, "err", err)
		return
	}
	if e.cfg.Publisher != nil {
		e.cfg.Publisher.Publish(ev)
	}
}

// Formats a run may produce.
var knownFormats = map[string]bool{"epub": true, "html": true, "pdf": true}

// StartRun queues a run of book b for user u.
func (e *Engine) StartRun(ctx context.Context, b *bindery.Book, u *bindery.User, formats []string, publish bool) (*bindery.Run, error) {
	if len(formats) == 0 {
		formats = []string{"epub", "html", "pdf"}
	}
	seen := map[string]bool{}
	for _, f := range formats {
		if !knownFormats[f] || seen[f] {
			return nil, bindery.Errorf(bindery.EINVALID, "Formats are epub, html and pdf, each at most once.")
		}
		seen[f] = true
	}
	r := &bindery.Run{BookID: b.ID, State: bindery.RunQueued, Formats: formats, Publish: publish, CreatedBy: u.ID, CreatedAt: e.cfg.Now()}
	if err := e.cfg.Store.CreateRun(ctx, r); err != nil {
		return nil, err
	}
	if _, err := e.client.Insert(ctx, runArgs{RunID: r.ID}, nil); err != nil {
		_ = e.cfg.Store.SetRunState(ctx, r.ID, bindery.RunFailed, "could not be queued", e.cfg.Now())
		return nil, err
	}
	e.emit(ctx, &bindery.Event{Type: bindery.EventRunQueued, RunID: r.ID, BookID: b.ID})
	return r, nil
}

// control is one run control: the states it applies to, the state it
// leads to, the event it emits, and whether the run needs a new job.
type control struct {
	verb    string // for the error: "paused"
	from    []string
	to      string
	event   string
	enqueue bool
}

var (
	pauseControl  = control{"paused", []string{bindery.RunQueued, bindery.RunRunning}, bindery.RunPaused, bindery.EventRunPaused, false}
	resumeControl = control{"resumed", []string{bindery.RunPaused}, bindery.RunQueued, bindery.EventRunResumed, true}
	stopControl   = control{"stopped", []string{bindery.RunQueued, bindery.RunRunning, bindery.RunPaused}, bindery.RunStopped, bindery.EventRunStopped, false}
)

// PauseRun asks a queued or running run to pause; a running stage stops
// within the poll interval. The run can be resumed.
func (e *Engine) PauseRun(ctx context.Context, runID int64) (*bindery.Run, error) {
	return e.apply(ctx, runID, pauseControl)
}

// ResumeRun queues a paused run again; it continues from its first
// unfinished stage.
func (e *Engine) ResumeRun(ctx context.Context, runID int64) (*bindery.Run, error) {
	return e.apply(ctx, runID, resumeControl)
}

// StopRun cancels a queued, running or paused run for good.
func (e *Engine) StopRun(ctx context.Context, runID int64) (*bindery.Run, error) {
	return e.apply(ctx, runID, stopControl)
}

// apply moves the run's state atomically (MoveRun), so that two controls
// racing each other cannot both apply; ECONFLICT when the run is not in a
// state the control applies to.
func (e *Engine) apply(ctx context.Context, runID int64, c control) (*bindery.Run, error) {
	moved, err := e.cfg.Store.MoveRun(ctx, runID, c.from, c.to, e.cfg.Now())
	if err != nil {
		return nil, err
	}
	r, err := e.cfg.Store.RunByID(ctx, runID)
	if err != nil {
		return nil, err
	}
	if !moved {
		return nil, bindery.Errorf(bindery.ECONFLICT, "A %s run cannot be %s.", r.State, c.verb)
	}
	if c.enqueue {
		if _, err := e.client.Insert(ctx, runArgs{RunID: r.ID}, nil); err != nil {
			return nil, err
		}
	}
	e.emit(ctx, &bindery.Event{Type: c.event, RunID: r.ID, BookID: r.BookID})
	return r, nil
}

// Artifact opens an artifact of a run by file name. ENOTFOUND for names
// that are not a plain file of the run's folder.
func (e *Engine) Artifact(runID int64, name string) (*os.File, os.FileInfo, error) {
	return bookfs.OpenPlain(e.artifactDir(runID), name)
}

// Artifacts lists a run's artifact names.
func (e *Engine) Artifacts(runID int64) []string { return bookfs.ListPlain(e.artifactDir(runID)) }

var errStopped = errors.New("run paused or stopped")
