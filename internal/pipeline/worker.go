package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/riverqueue/river"
)

// runWorker executes one run's job: its unfinished stages, in order.
type runWorker struct {
	river.WorkerDefaults[runArgs]
	e *Engine
}

// Work runs the stages. Every outcome is recorded on the run; the job
// itself never asks River for a retry (JobCancel), so a run is executed
// once per start or resume.
func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	e := w.e
	r, err := e.cfg.Store.RunByID(ctx, job.Args.RunID)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return river.JobCancel(err) // the book and its runs were deleted
	} else if err != nil {
		return err
	}
	b, err := e.cfg.Store.BookByID(ctx, r.BookID)
	if err != nil {
		return river.JobCancel(err)
	}
	resumed := r.StartedAt != nil
	if claimed, err := e.cfg.Store.ClaimRun(ctx, r.ID, e.cfg.Now()); err != nil {
		return err
	} else if !claimed {
		return nil // paused, stopped, or taken by another job of the same run
	}
	if !resumed {
		e.emit(ctx, &bindery.Event{Type: bindery.EventRunStarted, RunID: r.ID, BookID: r.BookID})
	}

	stageCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go w.watch(stageCtx, cancel, r.ID)

	rc := &runContext{e: e, run: r, book: b, dir: e.cfg.Books.Dir(b.ID), out: e.artifactDir(r.ID)}
	for i, st := range r.Stages {
		if st.State == "succeeded" || st.State == "skipped" {
			continue
		}
		err := rc.runStage(stageCtx, i)
		if errors.Is(context.Cause(stageCtx), errStopped) {
			return river.JobCancel(errStopped) // Pause/Stop already recorded the state
		}
		if ctx.Err() != nil {
			// The server is shutting down: leave the run "running";
			// Start re-queues it next time.
			return nil
		}
		if err != nil {
			msg := failureMessage(err)
			if msg == "" {
				e.log.Error("stage failed", "run_id", r.ID, "stage", st.Name, "err", err)
				msg = "internal error (see the server log)"
			}
			_ = e.cfg.Store.SetRunState(context.WithoutCancel(ctx), r.ID, bindery.RunFailed, st.Name+": "+msg, e.cfg.Now())
			e.emit(ctx, &bindery.Event{Type: bindery.EventRunFailed, RunID: r.ID, BookID: r.BookID, Stage: st.Name, Error: st.Name + ": " + msg})
			return river.JobCancel(err)
		}
	}
	if err := e.cfg.Store.SetRunState(ctx, r.ID, bindery.RunSucceeded, "", e.cfg.Now()); err != nil {
		return err
	}
	e.emit(ctx, &bindery.Event{Type: bindery.EventRunSucceeded, RunID: r.ID, BookID: r.BookID})
	return nil
}

// watch cancels the stage context when the run is paused or stopped,
// checking every PollInterval: pause takes effect within that time on
// whichever node runs the job.
func (w *runWorker) watch(ctx context.Context, cancel context.CancelCauseFunc, runID int64) {
	t := time.NewTicker(w.e.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r, err := w.e.cfg.Store.RunByID(ctx, runID)
			if err == nil && (r.State == bindery.RunPaused || r.State == bindery.RunStopped) {
				cancel(errStopped)
				return
			}
		}
	}
}

// failureMessage is what a run's users may read about err: an application
// error's message or a book error's "file:line: message"; "" for anything
// else (database or file-system errors, which may name server paths).
func failureMessage(err error) string {
	var be *bindery.Error
	var me *manuscript.Error
	var pe *build.ProblemsError
	switch {
	case errors.As(err, &be):
		return be.Message
	case errors.As(err, &me), errors.As(err, &pe):
		return err.Error()
	}
	return ""
}
