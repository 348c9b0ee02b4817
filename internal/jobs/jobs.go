// Package jobs is the pipeline's view of the job queue runs execute from:
// a Queue, opened by an Opener passed in from outside (riverjobs: River on
// SQLite or on PostgreSQL), so that the pipeline knows no queue library
// and no database driver.
package jobs

import (
	"context"
	"errors"
)

// Work executes the run a job names. Its error ends the job: a run is
// never retried by the queue; Cancel marks it cancelled instead of failed.
type Work func(ctx context.Context, runID int64) error

// Queue is what the pipeline needs of the job queue.
type Queue interface {
	// Insert adds the job that executes run runID.
	Insert(ctx context.Context, runID int64) error
	// Start starts taking jobs; Stop stops, cancelling the work under
	// way (its runs are resumed by the next recovery).
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	// CancelUnfinished cancels every job not yet finished: recovery after
	// a crash, while this server is the only one working the queue.
	CancelUnfinished(ctx context.Context) error
	// Unqueued returns the runs among runIDs that have no unfinished
	// job: queued runs whose job was never inserted (the node that
	// queued them died between the two writes). Giving such a run a job
	// is safe even if one is being inserted meanwhile: a run is claimed
	// by one job, and the others find nothing to do.
	Unqueued(ctx context.Context, runIDs []int64) ([]int64, error)
}

// Opener builds a Queue whose workers (at most workers at once) call work.
type Opener func(ctx context.Context, work Work, workers int) (Queue, error)

// cancelled marks a job's error as a cancellation.
type cancelled struct{ err error }

func (c cancelled) Error() string { return "job cancelled: " + c.err.Error() }
func (c cancelled) Unwrap() error { return c.err }

// Cancel marks the job cancelled rather than failed (its run was deleted,
// stopped, or reported failed already).
func Cancel(err error) error {
	if err == nil {
		err = errors.New("cancelled")
	}
	return cancelled{err}
}

// IsCancel reports whether err came from Cancel.
func IsCancel(err error) bool {
	var c cancelled
	return errors.As(err, &c)
}
