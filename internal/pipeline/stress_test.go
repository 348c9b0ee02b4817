package pipeline_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/pipeline/runcheck"
)

// A plan says where in a run the test intervenes and how: at point (a
// hook point of the engine, or "queued": before any worker took the run),
// the controls in actions are applied in order; with hold, the execution
// waits at the point until they have been (or until it is cancelled), so
// that they land exactly there; without, they race the execution.
type plan struct {
	point   string
	hold    bool
	actions []string // "pause", "resume", "stop"
	// stubborn: the held execution ignores its cancellation until the
	// next execution of the run is under way (waiting for it, or, were
	// that broken, running beside it), like a stage deep in a long render.
	stubborn bool
	// want, when set, is the state the run must end in.
	want string
}

func (p plan) String() string {
	return fmt.Sprintf("%s hold=%v stubborn=%v %v", p.point, p.hold, p.stubborn, p.actions)
}

// hookPoints are the engine's points in order, for a run that publishes.
func hookPoints() []string {
	out := []string{"queued"}
	for _, s := range bindery.Stages {
		out = append(out, "stage:"+s)
		if s == bindery.StagePublish {
			out = append(out, "commit") // inside the publish stage
		}
		out = append(out, "done:"+s)
	}
	return out
}

// randomPlan draws a plan from seed.
func randomPlan(seed uint64) plan {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	points := hookPoints()
	p := plan{point: points[rng.IntN(len(points))], hold: rng.IntN(2) == 0}
	verbs := []string{"pause", "resume", "stop", "pause", "resume"}
	for range 1 + rng.IntN(4) {
		p.actions = append(p.actions, verbs[rng.IntN(len(verbs))])
	}
	return p
}

// tracked is a run under test: its plan and what the hook saw.
type tracked struct {
	plan    plan
	run     *bindery.Run
	book    *bindery.Book
	reached chan struct{}
	release chan struct{}
	next    chan struct{} // closed when a next execution waits or starts
	nextOne sync.Once
	fired   atomic.Bool
	active  atomic.Int32 // executions inside a stage right now
	overlap atomic.Bool  // two at once, ever
}

// TestRunStateMachineUnderStress drives pause/resume/stop sequences at
// every point of runs that publish (fixed cases for the races that used to
// break, then seeded random ones), under -race, and checks each run's
// event log against the state machine (runcheck), its final state, its
// publication, its job rows, and that no two executions of a run ever
// overlapped.
func TestRunStateMachineUnderStress(t *testing.T) {
	plans := []plan{
		// Stop and pause just before the edition switch win; just after
		// it they are refused and the run succeeds.
		{point: "commit", hold: true, actions: []string{"stop"}, want: bindery.RunStopped},
		{point: "commit", hold: true, actions: []string{"pause", "stop"}, want: bindery.RunStopped},
		{point: "done:publish", hold: true, actions: []string{"stop"}, want: bindery.RunSucceeded},
		{point: "done:publish", hold: true, actions: []string{"pause"}, want: bindery.RunSucceeded},
		// Pause then resume at once, inside stages and between them.
		{point: "stage:format", hold: true, actions: []string{"pause", "resume"}, want: bindery.RunSucceeded},
		{point: "stage:format", hold: true, stubborn: true, actions: []string{"pause", "resume"}, want: bindery.RunSucceeded},
		{point: "stage:images", hold: true, stubborn: true, actions: []string{"pause", "resume"}, want: bindery.RunSucceeded},
		{point: "stage:content", hold: false, actions: []string{"pause", "resume", "pause", "resume"}, want: bindery.RunSucceeded},
		{point: "done:quality", hold: true, actions: []string{"pause", "resume"}, want: bindery.RunSucceeded},
		{point: "stage:publish", hold: true, actions: []string{"pause", "resume", "stop"}, want: bindery.RunStopped},
		{point: "queued", actions: []string{"pause", "resume"}, want: bindery.RunSucceeded},
	}
	const seeds = 24
	for seed := range uint64(seeds) {
		plans = append(plans, randomPlan(seed+1))
	}

	registered := make(chan struct{})
	var mu sync.Mutex
	byRun := map[int64]*tracked{}
	hook := func(ctx context.Context, runID int64, point string) {
		<-registered
		mu.Lock()
		tr := byRun[runID]
		mu.Unlock()
		if strings.HasPrefix(point, "stage:") && tr.active.Add(1) > 1 {
			tr.overlap.Store(true)
		}
		if tr.fired.Load() && (point == "wait" || strings.HasPrefix(point, "stage:")) {
			tr.nextOne.Do(func() { close(tr.next) })
		}
		if strings.HasPrefix(point, "done:") {
			tr.active.Add(-1)
		}
		if point != tr.plan.point || !tr.fired.CompareAndSwap(false, true) {
			return
		}
		close(tr.reached)
		if tr.plan.stubborn {
			<-tr.release
			<-tr.next
			return
		}
		if tr.plan.hold {
			select {
			case <-tr.release:
			case <-ctx.Done():
			}
		}
	}
	env := newEnvWith(t, noCoverBook(), nil, func(dir string, cfg *pipeline.Config, late func(func(*pipeline.Engine))) {
		cfg.Workers = 3
		late(func(e *pipeline.Engine) { pipeline.SetHook(e, hook) })
	})
	ctx := context.Background()

	// One book per run, so that publications do not overlap.
	var runs []*tracked
	for i, p := range plans {
		b := &bindery.Book{OwnerID: env.user.ID, Title: "B" + strconv.Itoa(i), CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := env.store.CreateBook(ctx, b); err != nil {
			t.Fatal(err)
		}
		env.books.Create(b.ID)
		for name, data := range noCoverBook() {
			if _, err := env.books.Put(ctx, b.ID, name, strings.NewReader(string(data))); err != nil {
				t.Fatal(err)
			}
		}
		runs = append(runs, &tracked{plan: p, book: b, reached: make(chan struct{}), release: make(chan struct{}), next: make(chan struct{})})
	}
	for _, tr := range runs {
		r, err := env.engine.StartRun(ctx, tr.book, env.user, []string{"epub"}, true)
		if err != nil {
			t.Fatal(err)
		}
		tr.run = r
		mu.Lock()
		byRun[r.ID] = tr
		mu.Unlock()
		if tr.plan.point == "queued" {
			tr.fired.Store(true)
			close(tr.reached)
			// Until the hook opens, no worker gets past a stage's start:
			// the controls land while the run is queued or just claimed.
			control(t, env.engine, r.ID, tr.plan.actions)
		}
	}
	close(registered)

	var wg sync.WaitGroup
	for i, tr := range runs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			select {
			case <-tr.reached:
			case <-time.After(60 * time.Second):
				t.Errorf("run %d (%v): point never reached", tr.run.ID, tr.plan)
				return
			}
			if tr.plan.point != "queued" {
				control(t, env.engine, tr.run.ID, tr.plan.actions)
			}
			close(tr.release)
			settle(t, env, tr.run.ID, rng)
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	events, err := env.store.EventsAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	isRecovery := func(e *bindery.Event) bool { return e.Message == pipeline.RecoveryMessage }
	for _, tr := range runs {
		got, _ := env.store.RunByID(ctx, tr.run.ID)
		state, err := runcheck.Check(tr.run.ID, events, isRecovery)
		if err != nil {
			t.Errorf("run %d (%v): %v\n%s", tr.run.ID, tr.plan, err, runcheck.Describe(events, tr.run.ID))
			continue
		}
		if state != got.State {
			t.Errorf("run %d (%v): events lead to %q, the run is %q", tr.run.ID, tr.plan, state, got.State)
		}
		if got.State != bindery.RunSucceeded && got.State != bindery.RunStopped {
			t.Errorf("run %d (%v) ended %q (%s)", tr.run.ID, tr.plan, got.State, got.Error)
		}
		if tr.plan.want != "" && got.State != tr.plan.want {
			t.Errorf("run %d (%v) ended %q, want %q", tr.run.ID, tr.plan, got.State, tr.plan.want)
		}
		if tr.overlap.Load() {
			t.Errorf("run %d (%v): two executions at once", tr.run.ID, tr.plan)
		}
		pub, err := env.store.Publication(ctx, tr.book.ID)
		switch {
		case got.State == bindery.RunSucceeded && (err != nil || pub.RunID != tr.run.ID):
			t.Errorf("run %d (%v) succeeded but is not published: %v", tr.run.ID, tr.plan, err)
		case got.State != bindery.RunSucceeded && err == nil:
			t.Errorf("run %d (%v) ended %q but was published", tr.run.ID, tr.plan, got.State)
		}
	}
	// Every job ends once its run has (River finalises asynchronously).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var open int
		if err := env.jobs.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE finalized_at IS NULL`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still open after every run ended", open)
		}
		time.Sleep(10 * time.Millisecond) // polling River's table, with a deadline
	}
}

// control applies the controls in order; refusals (ECONFLICT) are part of
// the game, anything else fails the test.
func control(t *testing.T, e *pipeline.Engine, runID int64, actions []string) {
	ctx := context.Background()
	for _, a := range actions {
		var err error
		switch a {
		case "pause":
			_, err = e.PauseRun(ctx, runID)
		case "resume":
			_, err = e.ResumeRun(ctx, runID)
		case "stop":
			_, err = e.StopRun(ctx, runID)
		}
		if err != nil && bindery.ErrorCode(err) != bindery.ECONFLICT {
			t.Errorf("%s run %d: %v", a, runID, err)
		}
		runtime.Gosched()
	}
}

// settle drives a run to a terminal state: a paused run is resumed (or,
// one time in four, stopped).
func settle(t *testing.T, env *env, runID int64, rng *rand.Rand) {
	ctx := context.Background()
	deadline := time.Now().Add(120 * time.Second)
	for {
		r, err := env.store.RunByID(ctx, runID)
		if err != nil {
			t.Error(err)
			return
		}
		switch r.State {
		case bindery.RunSucceeded, bindery.RunStopped, bindery.RunFailed:
			return
		case bindery.RunPaused:
			if rng.IntN(4) == 0 {
				control(t, env.engine, runID, []string{"stop"})
			} else {
				control(t, env.engine, runID, []string{"resume"})
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("run %d still %s", runID, r.State)
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the run's state, with a deadline
	}
}
