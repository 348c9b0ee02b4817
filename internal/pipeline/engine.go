package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/ideogram"
	"github.com/bindery/bindery/internal/jobs"
	"github.com/bindery/bindery/internal/manuscript"
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
	// Fallback, for a local cover, says why the image service gave none
	// although one is configured (user-safe text); "" when no service is
	// configured.
	Fallback string
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
	return Cover{Data: im.Data, Ext: im.Ext(), AltText: im.AltText, Source: im.Source, Fallback: im.Fallback}, nil
}

// Books is the book service as runs use it (books.Service): where a
// book's folder is, giving a book the cover a run made, and publishing a
// run whose quality stage passed. PublishRun calls commit after preparing
// the edition and before making it the book's; an error from commit
// abandons the publication, and after commit returned nil the switch is
// carried out even if ctx ends.
type Books interface {
	// Dir is the book's folder on this node, which a run reads once it
	// called Sync (which brings it in step with shared storage).
	Dir(bookID int64) string
	Sync(ctx context.Context, bookID int64) error
	// Limits are the limits of books; runs load and check the
	// manuscript under Limits().Manuscript, as uploads and previews do.
	Limits() bookfs.Limits
	SetCover(ctx context.Context, b *bindery.Book, md manuscript.Metadata, name string, data []byte) (manuscript.Metadata, error)
	PublishRun(ctx context.Context, run *bindery.Run, by int64, commit func(context.Context) error) (*bindery.Publication, error)
}

// Config configures New.
type Config struct {
	Store        bindery.Store
	Books        Books
	ArtifactsDir string // runs' outputs: ArtifactsDir/<run id>/
	// Outputs, when several nodes share storage (BINDERY_S3_…), is
	// where a run's artifacts go once its format stage wrote them
	// (blob.RunKey), so that any node serves them, publishes them, or
	// carries on a run another node began. nil: this node's folder only.
	Outputs blob.Store
	// Jobs opens the job queue runs execute from (jobs.SQLite,
	// jobs.Postgres): passed in, so the pipeline knows no database driver.
	Jobs        jobs.Opener
	Workers     int // concurrent runs; default 2
	Publisher   Publisher
	Illustrator Illustrator
	Logger      *slog.Logger
	Now         func() time.Time
	// StageObserver, when set, is told how each stage ended and how long
	// it took (metrics).
	StageObserver func(stage, state string, d time.Duration)
	// PollInterval is how often a running job checks for pause and stop;
	// default 200 ms.
	PollInterval time.Duration
	// HeartbeatInterval is how often a running execution records that it
	// is alive (RunChange.Heartbeat); default 2 s.
	HeartbeatInterval time.Duration
	// HandOverAfter, when set, makes this node take over the runs whose
	// execution has not shown a sign of life for that long — the node
	// running them died — from their last finished stage (several nodes
	// on one database). It must be several heartbeats long. 0: off (one
	// process per database recovers its runs at start-up instead).
	HandOverAfter time.Duration
	// MaxActiveRuns is how many runs one user may have queued, running or
	// paused at once (BINDERY_USER_MAX_ACTIVE_RUNS); 0 means no limit.
	MaxActiveRuns int
	// KeepRuns is how many finished runs of a book keep their files
	// (BINDERY_KEEP_RUNS); older ones are pruned when a run starts, never
	// the published one. 0 keeps everything.
	KeepRuns int
}

// Engine starts and controls runs.
type Engine struct {
	cfg   Config
	queue jobs.Queue
	log   *slog.Logger

	mu        sync.Mutex // guards emission order: ids and publishing stay in step
	progressT map[int64]time.Time

	activeMu sync.Mutex
	active   map[int64]*execution // the run executions of this process, by run

	// hook, set by tests only, is called at points of an execution
	// ("stage:<name>" before a stage's work, "done:<name>" after it,
	// "commit" before publish's commit point, "wait" when an execution
	// waits for an earlier one of the same run).
	hook func(ctx context.Context, runID int64, point string)
}

// execution is one run being executed by this process.
type execution struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

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
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 2 * time.Second
	}
	if err := os.MkdirAll(cfg.ArtifactsDir, 0o700); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, progressT: map[int64]time.Time{}, active: map[int64]*execution{}}
	var err error
	if e.queue, err = cfg.Jobs(ctx, e.work, cfg.Workers); err != nil {
		return nil, err
	}
	return e, nil
}

// Start recovers runs interrupted by a crash or a shutdown, then starts
// the workers — River's client, which runs only while jobs wait or run
// (see sleeper).
//
// Recovery assumes one server per database, which the SQLite deployment
// guarantees with its data-folder lock: nothing else executes runs while
// it works. It makes the job queue match the runs table: every unfinished
// job of a run is cancelled (a job left "running" by a killed process
// would otherwise stay so), a run still marked running goes back to
// queued (its interrupted stage to pending, with a log event saying why),
// and every queued run gets exactly one fresh job, which continues from
// its first unfinished stage.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.recover(ctx); err != nil {
		return fmt.Errorf("recovering runs: %w", err)
	}
	if err := e.queue.Start(ctx); err != nil {
		return err
	}
	if e.cfg.HandOverAfter > 0 {
		go e.handOverLoop(ctx)
	}
	return nil
}

// HandOverMessage is the log line of a run another node took over.
const HandOverMessage = "The server executing this run stopped answering; another continues it from its last finished stage."

// handOverLoop takes over, every third of HandOverAfter, the runs whose
// execution went silent for HandOverAfter (see HandOver).
func (e *Engine) handOverLoop(ctx context.Context) {
	t := time.NewTicker(max(e.cfg.HandOverAfter/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := e.HandOver(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("taking over the runs of a silent node", "err", err)
			}
			if _, err := e.Requeue(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("giving queued runs their missing jobs", "err", err)
			}
		}
	}
}

// HandOver puts back in the queue every run whose execution has not
// claimed or heartbeat for HandOverAfter, and returns how many. The change
// is made under the silent execution's lease: of the nodes that see the
// same silence, one wins; the new job claims a new lease, so the silent
// execution, were it only slow, can write nothing more.
func (e *Engine) HandOver(ctx context.Context) (int, error) {
	runs, err := e.cfg.Store.StaleRuns(ctx, e.cfg.Now().Add(-e.cfg.HandOverAfter))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range runs {
		e.activeMu.Lock()
		_, mine := e.active[r.ID]
		e.activeMu.Unlock()
		if mine {
			continue // alive here: its heartbeat is late, not lost
		}
		_, ok, err := e.change(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: r.Lease, To: bindery.RunQueued, Interrupt: true,
			Event: &bindery.Event{Type: bindery.EventLog, RunID: r.ID, BookID: r.BookID, Level: "warn", Source: "pipeline", Message: HandOverMessage}})
		if err != nil {
			return n, err
		} else if !ok {
			continue // taken over by another node, or changed meanwhile
		}
		if err := e.queue.Insert(ctx, r.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Requeue gives a job to every queued run that has none, and returns how
// many: a node that died after queueing a run (or handing one over) and
// before inserting its job leaves such a run, which would otherwise wait
// forever. With several nodes the hand-over loop calls it; a single
// server does the same at start-up (recover).
func (e *Engine) Requeue(ctx context.Context) (int, error) {
	runs, err := e.cfg.Store.RunsInState(ctx, bindery.RunQueued)
	if err != nil || len(runs) == 0 {
		return 0, err
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	missing, err := e.queue.Unqueued(ctx, ids)
	if err != nil {
		return 0, err
	}
	for i, id := range missing {
		if err := e.queue.Insert(ctx, id); err != nil {
			return i, err
		}
		e.log.Warn("a queued run had no job (its node stopped before queueing it); queued it again", "run_id", id)
	}
	return len(missing), nil
}

// Shutdown stops the workers: running stages see their context cancelled
// and their runs are resumed at the next start.
func (e *Engine) Shutdown(ctx context.Context) error { return e.queue.Stop(ctx) }

// RecoveryMessage is the log line of a run that a restart interrupted.
const RecoveryMessage = "The server stopped during this run; it continues from its last finished stage."

func (e *Engine) recover(ctx context.Context) error {
	if e.cfg.HandOverAfter > 0 {
		// Several nodes share the runs: a running run may be another
		// node's live execution, and its job theirs. The hand-over loop
		// takes the runs of a node that died, by their silence.
		return nil
	}
	if err := e.queue.CancelUnfinished(ctx); err != nil {
		return fmt.Errorf("cancelling stale jobs: %w", err)
	}
	runs, err := e.cfg.Store.RunsInState(ctx, bindery.RunRunning, bindery.RunQueued)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if r.State == bindery.RunRunning {
			e.removeTemporary(r.ID)
			_, ok, err := e.change(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, To: bindery.RunQueued, Interrupt: true,
				Event: &bindery.Event{Type: bindery.EventLog, RunID: r.ID, BookID: r.BookID, Level: "warn", Source: "pipeline", Message: RecoveryMessage}})
			if err != nil {
				return err
			} else if !ok {
				continue
			}
			e.log.Warn("resuming a run interrupted by a restart", "run_id", r.ID)
		}
		if err := e.queue.Insert(ctx, r.ID); err != nil {
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
// own events (book_published of a publication by hand).
func (e *Engine) Emit(ctx context.Context, ev *bindery.Event) {
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

// change applies one step of a run's state machine (Store.ChangeRun) and
// publishes its event if it applied. The step runs to its end even if ctx
// is cancelled (a shutdown must not leave half a step), and under the
// emission lock, so that events are published in id order.
func (e *Engine) change(ctx context.Context, c bindery.RunChange) (int64, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c.At = e.cfg.Now()
	if c.Event != nil {
		c.Event.Timestamp = c.At.UTC()
	}
	lease, ok, err := e.cfg.Store.ChangeRun(context.WithoutCancel(ctx), c)
	if err == nil && ok && c.Event != nil && c.Event.ID != 0 && e.cfg.Publisher != nil { // ID 0: told before (Once)
		e.cfg.Publisher.Publish(c.Event)
	}
	return lease, ok, err
}

// enter registers an execution of run id in this process, first waiting
// for an earlier one to finish unwinding; leave unregisters it.
func (e *Engine) enter(ctx context.Context, id int64, cancel context.CancelCauseFunc) (leave func(), err error) {
	for {
		e.activeMu.Lock()
		prev := e.active[id]
		if prev == nil {
			x := &execution{cancel: cancel, done: make(chan struct{})}
			e.active[id] = x
			e.activeMu.Unlock()
			return func() {
				e.activeMu.Lock()
				delete(e.active, id)
				e.activeMu.Unlock()
				close(x.done)
			}, nil
		}
		e.activeMu.Unlock()
		if e.hook != nil {
			e.hook(ctx, id, "wait")
		}
		select {
		case <-prev.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// interrupt cancels this process's execution of run id, if any, at once.
func (e *Engine) interrupt(id int64) {
	e.activeMu.Lock()
	defer e.activeMu.Unlock()
	if x := e.active[id]; x != nil {
		x.cancel(errStopped)
	}
}

// Formats a run may produce.
var knownFormats = map[string]bool{"epub": true, "html": true, "pdf": true}

// StartRun queues a run of book b for user u.
func (e *Engine) StartRun(ctx context.Context, b *bindery.Book, u *bindery.User, formats []string, publish bool) (*bindery.Run, error) {
	r, _, err := e.QueueRun(ctx, b, u, bindery.RunOptions{Formats: formats, Publish: publish})
	return r, err
}

// QueueRun queues a run of b, within the run quotas: when b already has a
// queued run, that run is returned (created false) and nothing new is
// made — a book has at most one queued run beside its running one, so a
// writer cannot fill the queue; a user with MaxActiveRuns runs queued,
// running or paused gets ETOOMANY.
func (e *Engine) QueueRun(ctx context.Context, b *bindery.Book, u *bindery.User, o bindery.RunOptions) (*bindery.Run, bool, error) {
	formats, publish := o.Formats, o.Publish
	if publish && o.Draft {
		return nil, false, bindery.Errorf(bindery.EINVALID, "A draft run cannot be published: build without draft to publish.")
	}
	if len(formats) == 0 {
		formats = []string{"epub", "html", "pdf"}
	}
	seen := map[string]bool{}
	for _, f := range formats {
		if !knownFormats[f] || seen[f] {
			return nil, false, bindery.Errorf(bindery.EINVALID, "Formats are epub, html and pdf, each at most once.")
		}
		seen[f] = true
	}
	r := &bindery.Run{BookID: b.ID, State: bindery.RunQueued, Formats: formats, Publish: publish, Draft: o.Draft, CreatedBy: u.ID, CreatedAt: e.cfg.Now()}
	got, err := e.cfg.Store.QueueRun(ctx, r, e.cfg.MaxActiveRuns)
	if err != nil {
		return nil, false, err
	}
	if got.ID != r.ID {
		return got, false, nil
	}
	// run_queued is stored before the job exists, so that it precedes
	// whatever the job emits.
	if _, _, err := e.change(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunQueued},
		Event: &bindery.Event{Type: bindery.EventRunQueued, RunID: r.ID, BookID: b.ID}}); err != nil {
		return nil, false, err
	}
	if err := e.queue.Insert(ctx, r.ID); err != nil {
		_, _, _ = e.change(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunQueued}, To: bindery.RunFailed, Error: "could not be queued",
			Event: &bindery.Event{Type: bindery.EventRunFailed, RunID: r.ID, BookID: b.ID, Error: "could not be queued"}})
		return nil, false, err
	}
	return r, true, nil
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

// PauseRun pauses a queued or running run that has not reached its commit
// point; a running stage is interrupted at once. The run can be resumed.
func (e *Engine) PauseRun(ctx context.Context, runID int64) (*bindery.Run, error) {
	return e.apply(ctx, runID, pauseControl)
}

// ResumeRun queues a paused run again; it continues from its first
// unfinished stage.
func (e *Engine) ResumeRun(ctx context.Context, runID int64) (*bindery.Run, error) {
	return e.apply(ctx, runID, resumeControl)
}

// StopRun ends a queued, running or paused run for good, unless it has
// reached its commit point (publish switching the edition): a run is
// either stopped or succeeded, never both.
func (e *Engine) StopRun(ctx context.Context, runID int64) (*bindery.Run, error) {
	return e.apply(ctx, runID, stopControl)
}

// apply moves the run's state as one compare-and-set step with its event
// (ChangeRun), so that two controls racing each other, or a control racing
// the run's own end, cannot both apply; ECONFLICT when the run is not in a
// state the control applies to. Pause and stop then cancel this process's
// execution of the run at once, and every later write of that execution
// fails its guard: no event follows run_stopped.
func (e *Engine) apply(ctx context.Context, runID int64, c control) (*bindery.Run, error) {
	r, err := e.cfg.Store.RunByID(ctx, runID)
	if err != nil {
		return nil, err
	}
	halting := c.to != bindery.RunQueued
	_, moved, err := e.change(ctx, bindery.RunChange{RunID: runID, From: c.from, Open: halting, To: c.to, Interrupt: halting,
		Event: &bindery.Event{Type: c.event, RunID: runID, BookID: r.BookID}})
	if err != nil {
		return nil, err
	}
	if halting && moved {
		e.interrupt(runID)
	}
	r, err = e.cfg.Store.RunByID(ctx, runID)
	if err != nil {
		return nil, err
	}
	if !moved {
		if r.Committed && (r.State == bindery.RunRunning || r.State == bindery.RunQueued) {
			return nil, bindery.Errorf(bindery.ECONFLICT, "The run is publishing; it can no longer be %s.", c.verb)
		}
		return nil, bindery.Errorf(bindery.ECONFLICT, "A %s run cannot be %s.", r.State, c.verb)
	}
	if c.enqueue {
		if err := e.queue.Insert(ctx, r.ID); err != nil {
			// The run stays queued; the next start gives it a job.
			e.log.Error("queueing a resumed run failed", "run_id", r.ID, "err", err)
			return nil, err
		}
	}
	return r, nil
}

// Artifact opens an artifact of a run by file name, from this node's
// folder or else from shared storage, and says when it was written.
// ENOTFOUND for names that are not a plain file of the run's folder.
func (e *Engine) Artifact(ctx context.Context, runID int64, name string) (io.ReadSeekCloser, time.Time, error) {
	f, fi, err := bookfs.OpenPlain(e.artifactDir(runID), name)
	if err == nil {
		return f, fi.ModTime(), nil
	}
	if e.cfg.Outputs == nil || !bookfs.PlainName(name) {
		return nil, time.Time{}, err
	}
	obj, info, oerr := e.cfg.Outputs.Open(ctx, blob.RunKey(runID, name))
	if bindery.ErrorCode(oerr) == bindery.ENOTFOUND {
		return nil, time.Time{}, err
	} else if oerr != nil {
		return nil, time.Time{}, oerr
	}
	return obj, info.Modified, nil
}

// Artifacts lists a run's artifact names, from this node's folder or
// else from shared storage.
func (e *Engine) Artifacts(ctx context.Context, runID int64) []string {
	names := bookfs.ListPlain(e.artifactDir(runID))
	if len(names) > 0 || e.cfg.Outputs == nil {
		return names
	}
	for info, err := range e.cfg.Outputs.List(ctx, blob.RunPrefix(runID)) {
		if err != nil {
			e.log.Warn("listing a run's artifacts in shared storage", "run_id", runID, "err", err)
			break
		}
		names = append(names, strings.TrimPrefix(info.Key, blob.RunPrefix(runID)))
	}
	return names
}

// shareArtifacts puts the artifacts run runID wrote into shared storage.
func (e *Engine) shareArtifacts(ctx context.Context, runID int64) error {
	if e.cfg.Outputs == nil {
		return nil
	}
	for _, name := range bookfs.ListPlain(e.artifactDir(runID)) {
		f, _, err := bookfs.OpenPlain(e.artifactDir(runID), name)
		if err != nil {
			return err
		}
		_, err = e.cfg.Outputs.Put(ctx, blob.RunKey(runID, name), f)
		f.Close()
		if err != nil {
			return fmt.Errorf("storing %s in shared storage: %w", name, err)
		}
	}
	return nil
}

// fetchArtifacts brings the artifacts of run runID that shared storage
// holds into this node's empty folder of the run: a run another node
// began, carried on here after its format stage.
func (e *Engine) fetchArtifacts(ctx context.Context, runID int64) error {
	if e.cfg.Outputs == nil || len(bookfs.ListPlain(e.artifactDir(runID))) > 0 {
		return nil
	}
	dir := e.artifactDir(runID)
	for _, name := range e.Artifacts(ctx, runID) {
		if !bookfs.PlainName(name) {
			continue
		}
		obj, _, err := e.cfg.Outputs.Open(ctx, blob.RunKey(runID, name))
		if err != nil {
			return err
		}
		_, err = build.WriteAtomic(filepath.Join(dir, name), func(w io.Writer) error {
			_, err := io.Copy(w, obj)
			return err
		})
		obj.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// removeOutputs deletes run runID's files, here and in shared storage.
func (e *Engine) removeOutputs(ctx context.Context, runID int64) error {
	if err := os.RemoveAll(e.artifactDir(runID)); err != nil {
		return err
	}
	if e.cfg.Outputs != nil {
		return blob.DeletePrefix(ctx, e.cfg.Outputs, blob.RunPrefix(runID))
	}
	return nil
}

// PruneCopies removes this node's copies of run outputs that shared
// storage no longer holds: the runs of a book deleted through another
// node, and runs that retention pruned on another node (prune deletes the
// executing node's folder and the bucket's objects, not other nodes'
// copies). A built book is its manuscript's full text: deleted on one
// node means gone from every node's disk. The copies of runs whose row is
// gone are removed whatever their age (a run's row exists before its
// folder); of the others, unfinished runs and folders changed after
// before are left alone (a run being built or fetched here). Without
// shared storage there is nothing to do: the one node prunes its own. It
// returns how many runs' folders it removed.
func (e *Engine) PruneCopies(ctx context.Context, before time.Time) (int, error) {
	if e.cfg.Outputs == nil {
		return 0, nil
	}
	entries, err := os.ReadDir(e.cfg.ArtifactsDir)
	if os.IsNotExist(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	n := 0
	for _, en := range entries {
		id, err := strconv.ParseInt(en.Name(), 10, 64)
		if err != nil || !en.IsDir() || strconv.FormatInt(id, 10) != en.Name() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		r, err := e.cfg.Store.RunByID(ctx, id)
		switch {
		case bindery.ErrorCode(err) == bindery.ENOTFOUND: // deleted with its book
		case err != nil:
			return n, err
		case !r.Finished():
			continue
		default:
			if fi, err := en.Info(); err != nil || !fi.ModTime().Before(before) {
				continue
			}
			kept, err := e.sharedOutputs(ctx, id)
			if err != nil {
				return n, err
			}
			if kept {
				continue
			}
		}
		if err := os.RemoveAll(e.artifactDir(id)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// sharedOutputs reports whether shared storage holds any output of run
// runID.
func (e *Engine) sharedOutputs(ctx context.Context, runID int64) (bool, error) {
	for _, err := range e.cfg.Outputs.List(ctx, blob.RunPrefix(runID)) {
		return err == nil, err
	}
	return false, nil
}

// prune removes the files of book bookID's finished runs beyond the
// KeepRuns newest, except the published run's and current's: what a
// book's runs hold on disk stays bounded however often it is built (about
// 26 MB a run for an 8 MiB book). Runs keep their rows and logs; their
// artifacts list empties. Failures are logged: pruning never fails a run.
func (e *Engine) prune(ctx context.Context, bookID, current int64) {
	if e.cfg.KeepRuns <= 0 {
		return
	}
	runs, err := e.cfg.Store.ListRuns(ctx, bookID, 10_000)
	if err != nil {
		e.log.Warn("pruning old runs' files", "book_id", bookID, "err", err)
		return
	}
	var published int64
	if p, err := e.cfg.Store.Publication(ctx, bookID); err == nil {
		published = p.RunID
	}
	kept := 0
	for _, r := range runs { // newest first
		if r.ID == current || !r.Finished() {
			continue
		}
		if kept < e.cfg.KeepRuns {
			kept++
			continue
		}
		if r.ID == published {
			continue
		}
		if err := e.removeOutputs(ctx, r.ID); err != nil {
			e.log.Warn("pruning a run's files", "run_id", r.ID, "err", err)
		}
	}
}

var errStopped = errors.New("run paused or stopped")
