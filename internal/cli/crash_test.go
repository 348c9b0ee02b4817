package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/pipeline/runcheck"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// crashRand is the seeded source of a SIGKILL test's random moments:
// seed 14, or BINDERY_CRASH_SEED=N to explore others (the test logs its
// seed, so that a failure can be run again).
func crashRand(t *testing.T, stream uint64) *rand.Rand {
	seed := uint64(14)
	if v := os.Getenv("BINDERY_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("BINDERY_CRASH_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, stream))
}

// openData opens data folder data's database with key, as the server
// does; the caller closes it.
func openData(t *testing.T, data, key string) *sqlite.DB {
	t.Helper()
	kr, err := secretbox.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "bindery.db"), kr)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// kill9 kills a server process without warning and waits for it.
func kill9(t *testing.T, p *proc) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil // for the cleanup's wait
}

// TestSIGKILLAtRandomMomentsKeepsRunsConsistent: a real server is killed
// with SIGKILL at seeded random moments while runs that publish are being
// paused, resumed and stopped through the API; after each restart the
// runs go on. At the end every run has ended, its event log obeys the run
// state machine (runcheck) and leads to the state of its row, and the job
// queue holds no unfinished job.
func TestSIGKILLAtRandomMomentsKeepsRunsConsistent(t *testing.T) {
	corpus := testkit.Corpus(t)
	key := secretbox.GenerateKey()
	data := filepath.Join(t.TempDir(), "data")
	// No per-user limit: the test queues runs faster than they finish.
	env := map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": key, "BINDERY_USER_MAX_ACTIVE_RUNS": "0"}
	rng := crashRand(t, 1)

	p := start(t, env)
	c := setUp(t, p)
	book := uploadBook(c, corpus)
	var runs []int64
	startRun := func() {
		code, body := c.call("POST", fmt.Sprintf("/api/v1/books/%d/runs", book), "application/json", strings.NewReader(`{"formats":["epub","html"],"publish":true}`))
		// 200: the book's run already queued, which the request joins.
		if code != 201 && code != 200 {
			t.Fatalf("start run: %d %s", code, body)
		}
		var r runState
		json.Unmarshal(body, &r)
		if !slices.Contains(runs, r.ID) {
			runs = append(runs, r.ID)
		}
	}
	const rounds = 4
	for round := range rounds {
		startRun()
		startRun()
		// A few controls at random moments, then the kill, at a random
		// moment too (the moments are what is random here: no test step
		// waits on them).
		for range 1 + rng.IntN(4) {
			id := runs[rng.IntN(len(runs))]
			verb := []string{"pause", "resume", "stop", "resume"}[rng.IntN(4)]
			code, body := c.call("POST", fmt.Sprintf("/api/v1/runs/%d/%s", id, verb), "", nil)
			if code != 200 && code != 409 {
				t.Fatalf("%s run %d: %d %s", verb, id, code, body)
			}
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		kill9(t, p)
		p = start(t, env)
		c.base = "http://" + p.expect(t, listening)[2]
		t.Logf("round %d: killed and restarted", round)
	}

	// Let every run end: resume what is paused.
	deadline := time.Now().Add(240 * time.Second)
	for _, id := range runs {
		for {
			r := c.run(id)
			if r.State == "succeeded" || r.State == "failed" || r.State == "stopped" {
				break
			}
			if r.State == "paused" {
				c.call("POST", fmt.Sprintf("/api/v1/runs/%d/resume", id), "", nil)
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d stuck in %s\nstderr:\n%s", id, r.State, p.stderr)
			}
			time.Sleep(20 * time.Millisecond) // polling the API with a deadline
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, p.stderr)
	}
	p.done <- nil

	ctx := context.Background()
	db := openData(t, data, key)
	defer db.Close()
	events, err := db.EventsAfter(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	isRecovery := func(e *bindery.Event) bool { return e.Message == pipeline.RecoveryMessage }
	recovered := 0
	for _, e := range events {
		if e.Type == bindery.EventLog && isRecovery(e) {
			recovered++
		}
	}
	ends := map[string]int{}
	defer func() { t.Logf("%d runs interrupted by a kill; ends: %v", recovered, ends) }()
	for _, id := range runs {
		row, err := db.RunByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		state, err := runcheck.Check(id, events, isRecovery)
		if err != nil {
			t.Errorf("run %d: %v\n%s", id, err, runcheck.Describe(events, id))
		} else if state != row.State {
			t.Errorf("run %d: events lead to %q, the row says %q", id, state, row.State)
		}
		ends[row.State]++
		if row.State == bindery.RunFailed {
			t.Errorf("run %d failed: %s", id, row.Error)
		}
	}
	jobs, err := sqlite.OpenPool(filepath.Join(data, "bindery.db"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer jobs.Close()
	var open int
	if err := jobs.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE finalized_at IS NULL`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open != 0 {
		t.Errorf("%d jobs unfinished after every run ended", open)
	}
}
