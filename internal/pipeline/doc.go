// Package pipeline runs books through the stages content → images →
// format → quality → publish, as durable River jobs: a run's state lives
// in the runs and run_stages tables, every change is an event stored and
// published, and a job interrupted by a crash is picked up again when the
// server restarts.
//
// The run state machine cannot be argued with. Every change of a run is
// one compare-and-set step (bindery.RunChange) that writes the state, the
// stage row and the event in one transaction, or nothing:
//
//   - a worker claims a queued run by taking a new lease; every later
//     write of that execution (stage rows, progress, log lines, the final
//     state) is guarded by the lease and by the run still running, so once
//     a pause or stop is stored no event of the run follows it, and an
//     execution that lost its lease can change nothing;
//   - in one process, a resumed run's job waits until the previous
//     execution has unwound: a pause then an immediate resume never runs
//     the stages twice in parallel;
//   - publish has a commit point, just before the catalog switches the
//     book's edition: pause and stop apply before it (the run ends paused
//     or stopped, nothing published), and are refused with a conflict
//     after it (the run ends succeeded, or failed): never both;
//   - at start-up the job queue is made to match the runs table: every
//     unfinished job is cancelled, interrupted runs go back to queued, and
//     each queued run gets exactly one fresh job.
//
// Pause and stop take effect at once in this process (the execution's
// context is cancelled), and within PollInterval elsewhere (a watcher
// polls the run). Resume continues from the first stage that has not
// finished; the stage that was interrupted starts over (stages are
// idempotent: they write their results atomically).
//
// Messages shown to a book's readers (events, stage messages, run errors)
// name files relative to the book or the run, never by server path.
package pipeline
