// Package runcheck checks a run's event log against the run state
// machine (bindery.RunChange): the tests of the pipeline and of crash
// recovery replay each run's events through it.
//
// What it enforces:
//   - the run starts with run_queued, and run_started comes once, first of
//     the events of any execution;
//   - controls only from the states they apply to (pause from queued or
//     running, resume from paused, stop from queued, running or paused,
//     never after publishing);
//   - stages in order, one at a time; a stage starts again only after an
//     interruption (pause, or the recovery log line of a restart), and a
//     finished stage never starts again;
//   - book_published at most once, inside the publish stage;
//   - exactly one terminal event at most (run_succeeded, run_failed,
//     run_stopped), nothing after it, and run_succeeded only with every
//     stage finished.
package runcheck

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
)

// IsRecovery reports whether e is the log line a restart writes into a run
// it interrupted (the run goes back to queued).
type IsRecovery func(e *bindery.Event) bool

// Check replays the events of one run (in id order; events of other runs
// are ignored) and returns the state they lead to: "queued" (also a run
// waiting to continue after resume or restart), "running", "paused", or a
// terminal state. Its error names the first event that breaks a rule.
func Check(runID int64, events []*bindery.Event, recovery IsRecovery) (string, error) {
	state := ""
	started := false
	published := false
	current := ""        // the stage in progress, "" between stages
	interrupted := false // current was interrupted (pause, restart)
	finished := map[string]bool{}
	var lastID int64
	for _, e := range events {
		if e.RunID != runID {
			continue
		}
		if e.ID <= lastID {
			return "", fmt.Errorf("event %d (%s) after event %d: ids out of order", e.ID, e.Type, lastID)
		}
		lastID = e.ID
		bad := func(format string, args ...any) (string, error) {
			return "", fmt.Errorf("event %d %s%s in state %q: %s", e.ID, e.Type, stageSuffix(e), state, fmt.Sprintf(format, args...))
		}
		switch state {
		case bindery.RunSucceeded, bindery.RunFailed, bindery.RunStopped:
			return bad("an event after the terminal one")
		}
		// A resumed or recovered run is running again from its first
		// stage event on (its claim emits nothing).
		executing := func() bool {
			if state == bindery.RunQueued && started {
				state = bindery.RunRunning
			}
			return state == bindery.RunRunning
		}
		switch e.Type {
		case bindery.EventRunQueued:
			if state != "" {
				return bad("queued twice")
			}
			state = bindery.RunQueued
		case bindery.EventRunStarted:
			if state != bindery.RunQueued || started {
				return bad("run_started must come once, from queued")
			}
			state, started = bindery.RunRunning, true
		case bindery.EventRunPaused:
			if state != bindery.RunQueued && state != bindery.RunRunning {
				return bad("pause applies to queued or running runs")
			}
			if published {
				return bad("paused after publishing")
			}
			state, interrupted = bindery.RunPaused, current != ""
		case bindery.EventRunResumed:
			if state != bindery.RunPaused {
				return bad("resume applies to paused runs")
			}
			state = bindery.RunQueued
		case bindery.EventRunStopped:
			if state != bindery.RunQueued && state != bindery.RunRunning && state != bindery.RunPaused {
				return bad("stop applies to queued, running or paused runs")
			}
			if published {
				return bad("stopped after publishing: a run is stopped or succeeded, never both")
			}
			state = bindery.RunStopped
		case bindery.EventStageStarted:
			if !executing() {
				return bad("a stage starts only in a running run")
			}
			if finished[e.Stage] {
				return bad("the stage already finished: executed twice")
			}
			if current != "" && !(current == e.Stage && interrupted) {
				return bad("stage %q is still in progress", current)
			}
			if want := firstUnfinished(finished); e.Stage != want {
				return bad("stages run in order: next is %q", want)
			}
			current, interrupted = e.Stage, false
		case bindery.EventStageProgress, bindery.EventStageFinished:
			if !executing() || current != e.Stage || interrupted {
				return bad("not the stage in progress (%q)", current)
			}
			if e.Type == bindery.EventStageFinished {
				finished[e.Stage], current = true, ""
			}
		case bindery.EventLog:
			if recovery != nil && recovery(e) {
				if state != bindery.RunRunning && !(state == bindery.RunQueued && started) {
					return bad("a restart interrupts running runs only")
				}
				state, interrupted = bindery.RunQueued, current != ""
				continue
			}
			if !executing() {
				return bad("a log line outside an execution")
			}
		case bindery.EventBookPublished:
			if !executing() || current != bindery.StagePublish || interrupted || published {
				return bad("book_published comes once, inside the publish stage")
			}
			published = true
		case bindery.EventRunSucceeded:
			if !executing() || current != "" || len(finished) != len(bindery.Stages) {
				return bad("a run succeeds with every stage finished")
			}
			state = bindery.RunSucceeded
		case bindery.EventRunFailed:
			if !executing() && state != bindery.RunQueued {
				return bad("a run fails while running")
			}
			state = bindery.RunFailed
		default:
			return bad("unknown event type")
		}
	}
	if state == "" {
		return "", fmt.Errorf("run %d has no events", runID)
	}
	return state, nil
}

func firstUnfinished(finished map[string]bool) string {
	i := slices.IndexFunc(bindery.Stages, func(s string) bool { return !finished[s] })
	if i < 0 {
		return ""
	}
	return bindery.Stages[i]
}

func stageSuffix(e *bindery.Event) string {
	if e.Stage == "" {
		return ""
	}
	return ":" + e.Stage
}

// Describe lists run runID's events, one per line (id, type, stage,
// message), for a test's failure message.
func Describe(events []*bindery.Event, runID int64) string {
	var b strings.Builder
	for _, e := range events {
		if e.RunID == runID {
			fmt.Fprintf(&b, "  %d %s %s %s\n", e.ID, e.Type, e.Stage, e.Message)
		}
	}
	return b.String()
}
