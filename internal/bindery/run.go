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
	ID         int64        `json:"id"`
	BookID     int64        `json:"book_id"`
	State      string       `json:"state"`
	Formats    []string     `json:"formats"`
	Publish    bool         `json:"publish"`
	CreatedBy  int64        `json:"created_by"`
	CreatedAt  time.Time    `json:"created_at"`
	StartedAt  *time.Time   `json:"started_at,omitempty"`
	FinishedAt *time.Time   `json:"finished_at,omitempty"`
	Error      string       `json:"error,omitempty"`
	Stages     []StageState `json:"stages"`
}

// StageState is the persisted state of one stage of a run.
type StageState struct {
	Name       string     `json:"name"`
	State      string     `json:"state"` // pending, running, succeeded, failed, skipped
	Progress   int        `json:"progress"`
	Message    string     `json:"message,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// RunStore persists runs and their stages.
type RunStore interface {
	// CreateRun inserts r with its stages (all pending) and sets r.ID.
	CreateRun(ctx context.Context, r *Run) error
	RunByID(ctx context.Context, id int64) (*Run, error)
	// ListRuns returns a book's runs, newest first, at most limit.
	ListRuns(ctx context.Context, bookID int64, limit int) ([]*Run, error)
	// RunIDsOfBook returns the ids of all of a book's runs, unlimited.
	RunIDsOfBook(ctx context.Context, bookID int64) ([]int64, error)
	// CountRunsByState counts runs per state.
	CountRunsByState(ctx context.Context) (map[string]int, error)
	// RunsInState returns every run in one of the states, oldest first.
	RunsInState(ctx context.Context, states ...string) ([]*Run, error)
	// SetRunState records a run's state; started/finished times are set
	// when it first starts and when it ends.
	SetRunState(ctx context.Context, id int64, state, errMsg string, at time.Time) error
	// ClaimRun moves a queued run to running, atomically, and reports
	// whether it did: of two workers given the same run, one wins.
	ClaimRun(ctx context.Context, id int64, at time.Time) (bool, error)
	// MoveRun sets the state of run id to `to` only if it is in one of
	// `from`, atomically, and reports whether it did (ENOTFOUND for an
	// unknown run). Controls use it so that a pause racing a stop cannot
	// undo it.
	MoveRun(ctx context.Context, id int64, from []string, to string, at time.Time) (bool, error)
	// UpdateStage records one stage's state, progress and message.
	UpdateStage(ctx context.Context, runID int64, s StageState) error
}
