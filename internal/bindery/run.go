package bindery

import (
	"context"
	"time"
)

// Stage names, in order (CONTRACT.md §6).
const (
	StageContent = "content"
	StageImages  = "images"
	StageFormat  = "format"
	StageQuality = "quality"
	StagePublish = "publish"
)

// Stages lists the stages of a run in order.
var Stages = []string{StageContent, StageImages, StageFormat, StageQuality, StagePublish}

// Run states.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunPaused    = "paused"
	RunStopped   = "stopped"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// Run is one pass of a book through the stages.
type Run struct {
	ID      int64    `json:"id"`
	BookID  int64    `json:"book_id"`
	State   string   `json:"state"`
	Formats []string `json:"formats"`
	Publish bool     `json:"publish"`
	// Draft: missing images and broken links are warnings (placeholders
	// and plain text); a draft run is never published.
	Draft      bool         `json:"draft"`
	CreatedBy  int64        `json:"created_by"`
	CreatedAt  time.Time    `json:"created_at"`
	StartedAt  *time.Time   `json:"started_at,omitempty"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	Error      string       `json:"error,omitempty"`
	Stages     []StageState `json:"stages"`
	// Lease numbers the executions of the run: each claim by a worker
	// adds one (RunChange.Claim).
	Lease int64 `json:"-"`
	// Committed is set once the run passed its commit point (publish).
	Committed bool `json:"-"`
}

// Finished reports whether the run has ended (succeeded, failed or
// stopped): nothing executes it or will again.
func (r *Run) Finished() bool {
	return r.State == RunSucceeded || r.State == RunFailed || r.State == RunStopped
}

// RunOptions are what a run is asked to do.
type RunOptions struct {
	Formats []string // nil: epub, html and pdf
	Publish bool     // publish when the quality stage passes
	// Draft builds despite missing images and broken links (placeholders,
	// plain text, warnings); a draft run is never published.
	Draft bool
}

// StageState is the persisted state of one stage of a run.
type StageState struct {
	Name string `json:"name"`
	// State is pending, running, succeeded, warning (done, but not as
	// asked: Message says why), failed or skipped.
	State      string     `json:"state"`
	Progress   int        `json:"progress"`
	Message    string     `json:"message,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// RunStore persists runs and their stages.
type RunStore interface {
	// CreateRun inserts r with its stages (all pending) and sets r.ID.
	CreateRun(ctx context.Context, r *Run) error
	// QueueRun is CreateRun for a queued run r within the run quotas, in
	// one step: when r's book already has a queued run, that run is
	// returned and nothing is created (a book has at most one queued run
	// beside its running one); when r's creator already has maxActive or
	// more runs queued, running or paused (maxActive > 0), ETOOMANY.
	// Otherwise r is created and returned.
	QueueRun(ctx context.Context, r *Run, maxActive int) (*Run, error)
	RunByID(ctx context.Context, id int64) (*Run, error)
	// ListRuns returns a book's runs, newest first, at most limit.
	ListRuns(ctx context.Context, bookID int64, limit int) ([]*Run, error)
	// RunIDsOfBook returns the ids of all of a book's runs, unlimited.
	RunIDsOfBook(ctx context.Context, bookID int64) ([]int64, error)
	// CountRunsByState counts runs per state.
	CountRunsByState(ctx context.Context) (map[string]int, error)
	// StaleRuns returns the running runs whose execution last claimed or
	// heartbeat (RunChange.Heartbeat) before before, oldest first.
	StaleRuns(ctx context.Context, before time.Time) ([]*Run, error)
	// RunsInState returns every run in one of the states, oldest first.
	RunsInState(ctx context.Context, states ...string) ([]*Run, error)
	// ChangeRun applies one step of the run state machine as a single
	// compare-and-set transaction (see RunChange) and reports whether it
	// applied, with the run's lease after it. ENOTFOUND for an unknown
	// run. It is the only way the pipeline changes a run: a step whose
	// guard no longer holds changes nothing and stores no event, so two
	// racing steps (a stop and the publish, a pause and a stage's end)
	// cannot both take effect.
	ChangeRun(ctx context.Context, c RunChange) (lease int64, applied bool, err error)
	// UpdateStage records one stage's state, progress and message,
	// unconditionally (fixtures and tools; the pipeline writes stages
	// through ChangeRun, under its lease).
	UpdateStage(ctx context.Context, runID int64, s StageState) error
}

// RunChange is one guarded step of a run's state machine. Its guard is
// From (the run is in one of these states), Lease (when non-zero, the run
// still holds this lease: no later worker has claimed it) and Open (when
// true, the run has not passed its commit point). When the guard holds,
// every effect below is applied in the same transaction; when it does
// not, nothing is.
//
// The allowed transitions are
//
//	queued  → running (Claim: a new lease), paused, stopped
//	running → paused, stopped (both only while Open), queued (crash
//	          recovery), succeeded, failed (both under the worker's lease)
//	paused  → queued (resume), stopped
//
// and succeeded, failed and stopped are terminal.
type RunChange struct {
	RunID int64
	From  []string
	Lease int64
	Open  bool

	// To is the new state; "" leaves the state as it is (a stage write
	// or an event under the lease).
	To    string
	Error string // recorded with a terminal To
	At    time.Time
	// Claim starts a new lease (queued → running): the lease number goes
	// up by one, and a worker still holding the old one is locked out of
	// every later step.
	Claim bool
	// Commit marks the run's commit point (publish is about to switch
	// the book's edition): from then on pause and stop no longer apply.
	Commit bool
	// Interrupt puts a running stage back to pending, "interrupted"
	// (pause, stop, crash recovery).
	Interrupt bool
	// Heartbeat records that the execution holding Lease is alive (at
	// At); a claim records it too. StaleRuns finds the runs whose
	// execution went silent, for another node to take over.
	Heartbeat bool
	// Stage, when set, is written (by name).
	Stage *StageState
	// Event, when set, is appended to the event log (its ID is set), so
	// that a run's events follow its states exactly.
	Event *Event
	// Once appends Event only if the run has no event of its type yet
	// (Event.ID then stays 0); the rest of the step applies either way.
	// An execution that resumes a run after a crash repeats the step
	// whose event may already be stored (book_published), and the event
	// must be told once.
	Once bool
}
