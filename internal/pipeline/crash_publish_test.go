package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/pipeline/runcheck"
)

// TestPublishResumedAfterACrashIsToldOnce: a server dies inside the
// publish stage after the edition switched and book_published was told,
// before the stage finished. The restarted server resumes the stage: the
// edition stays the run's, the publication is audited once and
// book_published is stored once, so the run's events still obey the run
// state machine. (Seen in CI's SIGKILL test: the resumed stage published
// and told it again.)
//
// The crash is the first engine frozen at "done:publish" with its job
// client stopped; a second engine on the same database then starts as a
// restarted `bindery serve` does (recovery, then its workers).
func TestPublishResumedAfterACrashIsToldOnce(t *testing.T) {
	for _, point := range []string{"commit", "done:publish"} {
		t.Run(point, func(t *testing.T) { publishResumedAfterACrash(t, point) })
	}
}

func publishResumedAfterACrash(t *testing.T, point string) {
	ctx := context.Background()
	var cfg pipeline.Config
	reached, release := make(chan int64, 1), make(chan struct{})
	defer close(release)
	first := true
	env := newEnvWith(t, noCoverBook(), nil, func(dir string, c *pipeline.Config, late func(func(*pipeline.Engine))) {
		cfg = *c
		late(func(e *pipeline.Engine) {
			pipeline.SetHook(e, func(ctx context.Context, runID int64, p string) {
				if p == point && first {
					first = false
					reached <- runID
					<-release // the process is gone: nothing more of it runs
				}
			})
		})
	})
	r, err := env.engine.StartRun(ctx, env.book, env.user, []string{"html"}, true)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-reached:
	case <-time.After(60 * time.Second):
		t.Fatalf("the run never reached %s: %v", point, env.rec.types())
	}
	// The dead server fetches no more jobs (its frozen worker stays).
	stopCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	env.engine.Shutdown(stopCtx)
	cancel()

	cfg.Jobs = riverjobs.SQLite(env.jobs, riverjobs.SQLiteOptions{})
	cfg.Publisher = env.rec
	restarted, err := pipeline.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { restarted.Shutdown(context.Background()) })
	env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))

	pub, err := env.store.Publication(ctx, env.book.ID)
	if err != nil || pub.RunID != r.ID {
		t.Fatalf("publication = %+v, %v", pub, err)
	}
	events, err := env.store.EventsAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	told := 0
	for _, e := range events {
		if e.RunID == r.ID && e.Type == bindery.EventBookPublished {
			told++
		}
	}
	if told != 1 {
		t.Errorf("book_published stored %d times, want 1", told)
	}
	isRecovery := func(e *bindery.Event) bool { return e.Message == pipeline.RecoveryMessage }
	if state, err := runcheck.Check(r.ID, events, isRecovery); err != nil || state != bindery.RunSucceeded {
		t.Errorf("run events: %s, %v", state, err)
	}
	audits, err := env.store.ListAudit(ctx, bindery.AuditFilter{Action: bindery.AuditBookPublished})
	if err != nil || len(audits) != 1 {
		t.Errorf("publication audited %d times (%v), want 1", len(audits), err)
	}
}
