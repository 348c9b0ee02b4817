package pipeline

import "context"

// SetHook installs a test hook called at points of every execution
// ("stage:<name>", "done:<name>", "commit", "wait"); set it before Start.
func SetHook(e *Engine, f func(ctx context.Context, runID int64, point string)) { e.hook = f }

// Awake reports whether River's client runs (it sleeps while no job
// waits or runs).
func Awake(e *Engine) bool { return e.queue.(interface{ Awake() bool }).Awake() }
