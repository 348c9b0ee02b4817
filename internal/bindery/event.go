package bindery

import (
	"context"
	"time"
)

// Event types of the WebSocket protocol (CONTRACT.md §6). Every state
// change of a run is one of these, stored durably and fanned out.
const (
	EventRunQueued     = "run_queued"
	EventRunStarted    = "run_started"
	EventStageStarted  = "stage_started"
	EventStageProgress = "stage_progress"
	EventStageFinished = "stage_finished"
	EventLog           = "log"
	EventRunPaused     = "run_paused"
	EventRunResumed    = "run_resumed"
	EventRunStopped    = "run_stopped"
	EventRunSucceeded  = "run_succeeded"
	EventRunFailed     = "run_failed"
	EventBookPublished = "book_published"
)

// Event is one server frame of the WebSocket protocol, flat as the
// original dashboard expects it: type, a per-server increasing id, an RFC
// 3339 timestamp, run_id/book_id where they apply, and the fields of its
// type (stage/progress/message, level/source/message, error).
type Event struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	RunID     int64     `json:"run_id,omitempty"`
	BookID    int64     `json:"book_id,omitempty"`
	Stage     string    `json:"stage,omitempty"`
	Progress  *int      `json:"progress,omitempty"` // 0–100, stage_progress only
	Message   string    `json:"message,omitempty"`
	Level     string    `json:"level,omitempty"`  // log: debug, info, warn, error
	Source    string    `json:"source,omitempty"` // log: which stage or component
	Error     string    `json:"error,omitempty"`  // run_failed
	// State is how a stage ended, on stage_finished: succeeded, warning
	// or skipped (StageState.State).
	State string `json:"state,omitempty"`
}

// EventStore keeps events durably, in id order.
type EventStore interface {
	// AppendEvent stores e and sets e.ID (strictly increasing).
	AppendEvent(ctx context.Context, e *Event) error
	// EventsAfter returns up to limit events with ID > after, oldest first.
	EventsAfter(ctx context.Context, after int64, limit int) ([]*Event, error)
	// RecentEvents returns the last limit events, oldest first.
	RecentEvents(ctx context.Context, limit int) ([]*Event, error)
	// RunLogs returns the log events of one run, oldest first.
	RunLogs(ctx context.Context, runID int64, limit int) ([]*Event, error)
	// OldestEventID is the smallest stored id (0 when empty), for replay
	// decisions: a resume from before it gets a fresh state_sync.
	OldestEventID(ctx context.Context) (int64, error)
	// DeleteEventsBefore removes events older than t (retention).
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)
}
