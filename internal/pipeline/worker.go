package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/jobs"
	"github.com/bindery/bindery/internal/manuscript"
)

// work executes one run's job: its unfinished stages, in order. Every
// outcome is recorded on the run; the job itself is never retried by the
// queue (jobs.Cancel), so a run is executed once per start or resume.
//
// At most one execution of a run is under way at a time, by two locks:
// in this process, a job waits until an earlier execution of the same run
// has unwound (a pause then an immediate resume would otherwise run the
// stages twice in parallel); across processes, the claim takes a new
// lease and every later write of the execution (stage rows, events, the
// final state) is guarded by it, so a stale execution can change nothing.
func (e *Engine) work(ctx context.Context, runID int64) error {
	stageCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	leave, err := e.enter(ctx, runID, cancel)
	if err != nil {
		return nil // shutting down while waiting: the run is recovered at the next start
	}
	defer leave()

	r, err := e.cfg.Store.RunByID(ctx, runID)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return jobs.Cancel(err) // the book and its runs were deleted
	} else if err != nil {
		return err
	}
	b, err := e.cfg.Store.BookByID(ctx, r.BookID)
	if err != nil {
		return jobs.Cancel(err)
	}
	claim := bindery.RunChange{RunID: r.ID, From: []string{bindery.RunQueued}, To: bindery.RunRunning, Claim: true}
	if r.StartedAt == nil {
		claim.Event = &bindery.Event{Type: bindery.EventRunStarted, RunID: r.ID, BookID: r.BookID}
	}
	lease, claimed, err := e.change(ctx, claim)
	if err != nil {
		return err
	} else if !claimed {
		return nil // paused, stopped, or taken by another job of the same run
	}
	// Which node executes a run is in its log only: with several nodes,
	// this line says where to look when a run misbehaves (and which
	// process a hand-over replaced).
	e.log.Info("executing run", "run_id", r.ID, "book_id", r.BookID, "lease", lease)
	go e.watch(stageCtx, cancel, r.ID, lease)
	e.prune(ctx, r.BookID, r.ID)

	rc := &runContext{e: e, run: r, book: b, lease: lease, cancel: cancel, dir: e.cfg.Books.Dir(b.ID), out: e.artifactDir(r.ID)}
	defer rc.close()
	for i, st := range r.Stages {
		if st.State == "succeeded" || st.State == "skipped" || st.State == "warning" {
			continue
		}
		err := rc.runStage(stageCtx, i)
		if errors.Is(context.Cause(stageCtx), errStopped) {
			// Pause or stop recorded the state (or a newer execution
			// holds the run): nothing more to write.
			return jobs.Cancel(errStopped)
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
			msg = rc.relative(msg)
			failed := rc.run.Stages[i]
			failed.Message = rc.relative(failed.Message)
			_, _, cerr := e.change(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease,
				To: bindery.RunFailed, Error: st.Name + ": " + msg, Stage: &failed,
				Event: &bindery.Event{Type: bindery.EventRunFailed, RunID: r.ID, BookID: r.BookID, Stage: st.Name, Error: st.Name + ": " + msg}})
			if cerr != nil {
				e.log.Error("recording a failed run", "run_id", r.ID, "err", cerr)
			}
			return jobs.Cancel(err)
		}
	}
	if _, _, err := e.change(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease, To: bindery.RunSucceeded,
		Event: &bindery.Event{Type: bindery.EventRunSucceeded, RunID: r.ID, BookID: r.BookID}}); err != nil {
		return err
	}
	// Not applied: a pause or stop won the race against the end of the
	// last stage, and the run is what they made it.
	return nil
}

// watch cancels the stage context when the run is no longer running under
// this execution's lease (paused, stopped, or claimed again elsewhere),
// checking every PollInterval. Pause and stop also cancel an execution of
// this process directly (Engine.apply); the watch covers the rest.
func (e *Engine) watch(ctx context.Context, cancel context.CancelCauseFunc, runID, lease int64) {
	t := time.NewTicker(e.cfg.PollInterval)
	defer t.Stop()
	beat := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r, err := e.cfg.Store.RunByID(ctx, runID)
			if bindery.ErrorCode(err) == bindery.ENOTFOUND || err == nil && (r.State != bindery.RunRunning || r.Lease != lease) {
				cancel(errStopped)
				return
			}
			// The heartbeat tells the other nodes that this execution is
			// alive (HandOverAfter); under the lease, so a stale
			// execution cannot pass for a live one.
			if e.cfg.HeartbeatInterval > 0 && time.Since(beat) >= e.cfg.HeartbeatInterval {
				beat = time.Now()
				if _, ok, err := e.change(ctx, bindery.RunChange{RunID: runID, From: []string{bindery.RunRunning}, Lease: lease, Heartbeat: true}); err == nil && !ok {
					cancel(errStopped)
					return
				}
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
