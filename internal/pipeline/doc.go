// Package pipeline runs books through the stages content → images →
// format → quality → publish, as durable River jobs: a run's state lives
// in the runs and run_stages tables, every change is an event stored and
// published, and a job interrupted by a crash is picked up again when the
// server restarts.
//
// Pause and stop take effect within a fraction of a second even inside a
// long stage: a watcher polls the run's state and cancels the stage's
// context, and every stage honours its context. Resume continues from the
// first stage that has not finished; the stage that was interrupted starts
// over (stages are idempotent: they write their results atomically).
package pipeline
