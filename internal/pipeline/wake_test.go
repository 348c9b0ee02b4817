package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/pipeline"
)

// TestQueuedRunWakesTheWorker: with the worker's polling set to an hour,
// runs still start at once, one after another: inserting a job wakes the
// worker in-process (the quiet idle of issue 13 costs no start-up
// latency). Were the worker left to poll, the recorder's deadline would
// pass.
func TestQueuedRunWakesTheWorker(t *testing.T) {
	env := newEnvJobs(t, exampleFiles(t), quickIllustrator{}, riverjobs.SQLiteOptions{FetchPollInterval: time.Hour}, nil)
	ctx := context.Background()
	for range 2 {
		r, err := env.engine.StartRun(ctx, env.book, env.user, []string{"epub"}, false)
		if err != nil {
			t.Fatal(err)
		}
		env.rec.wait(t, "run_started", forRun(r.ID, bindery.EventRunStarted))
		env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
	}
}

// TestWorkerSleepsWhenIdle: River's client, whose tickers kept an idle
// server busy, stops once the queue has been empty for IdleStop, and the
// next run starts it again at once (the worker's polling is an hour).
func TestWorkerSleepsWhenIdle(t *testing.T) {
	env := newEnvJobs(t, exampleFiles(t), quickIllustrator{}, riverjobs.SQLiteOptions{FetchPollInterval: time.Hour, IdleStop: 20 * time.Millisecond}, nil)
	ctx := context.Background()
	if pipeline.Awake(env.engine) {
		t.Fatal("the worker runs with no job in the queue")
	}
	for range 2 {
		r, err := env.engine.StartRun(ctx, env.book, env.user, []string{"epub"}, false)
		if err != nil {
			t.Fatal(err)
		}
		env.rec.wait(t, "run_started", forRun(r.ID, bindery.EventRunStarted))
		env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
		deadline := time.Now().Add(10 * time.Second)
		for pipeline.Awake(env.engine) {
			if time.Now().After(deadline) {
				t.Fatal("the worker still runs 10 s after the queue emptied")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
