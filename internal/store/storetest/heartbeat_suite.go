package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// testHeartbeats: a claim and each heartbeat under the current lease mark
// the run alive; StaleRuns lists the running runs silent since a time; a
// heartbeat under an old lease changes nothing; a hand-over (back to
// queued under the stale lease) succeeds once.
func testHeartbeats(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "hb@example.com", bindery.RoleAuthor)
	b := &bindery.Book{OwnerID: u.ID, Title: "HB", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	newRun := func() *bindery.Run {
		r := &bindery.Run{BookID: b.ID, State: bindery.RunQueued, Formats: []string{"epub"}, CreatedBy: u.ID, CreatedAt: t0,
			Stages: []bindery.StageState{{Name: bindery.StageContent, State: "pending"}}}
		if err := s.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, c := newRun(), newRun()
	claim := func(r *bindery.Run, at time.Time) int64 {
		lease, ok, err := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunQueued}, To: bindery.RunRunning, Claim: true, At: at})
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		return lease
	}
	leaseA := claim(a, t0)
	claim(c, t0.Add(10*time.Second))
	stale := func(before time.Time) []int64 {
		runs, err := s.StaleRuns(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	if got := stale(t0.Add(5 * time.Second)); len(got) != 1 || got[0] != a.ID {
		t.Fatalf("StaleRuns after 5 s = %v, want [%d]", got, a.ID)
	}
	if _, ok, err := s.ChangeRun(ctx, bindery.RunChange{RunID: a.ID, From: []string{bindery.RunRunning}, Lease: leaseA, Heartbeat: true, At: t0.Add(20 * time.Second)}); !ok || err != nil {
		t.Fatalf("heartbeat: %v %v", ok, err)
	}
	if got := stale(t0.Add(15 * time.Second)); len(got) != 1 || got[0] != c.ID {
		t.Fatalf("StaleRuns after a's heartbeat = %v, want [%d]", got, c.ID)
	}
	// A heartbeat under an old lease is refused and changes nothing.
	if _, ok, _ := s.ChangeRun(ctx, bindery.RunChange{RunID: a.ID, From: []string{bindery.RunRunning}, Lease: leaseA + 7, Heartbeat: true, At: t0.Add(time.Hour)}); ok {
		t.Fatal("a heartbeat under another lease applied")
	}
	if got := stale(t0.Add(30 * time.Second)); len(got) != 2 {
		t.Fatalf("StaleRuns after 30 s = %v, want both", got)
	}
	// Hand-over: back to queued under the silent lease, once.
	handOver := bindery.RunChange{RunID: a.ID, From: []string{bindery.RunRunning}, Lease: leaseA, To: bindery.RunQueued, Interrupt: true, At: t0.Add(time.Minute)}
	if _, ok, err := s.ChangeRun(ctx, handOver); !ok || err != nil {
		t.Fatalf("hand-over: %v %v", ok, err)
	}
	if _, ok, _ := s.ChangeRun(ctx, handOver); ok {
		t.Fatal("a second hand-over of the same execution applied")
	}
	if got := stale(t0.Add(time.Hour)); len(got) != 1 || got[0] != c.ID {
		t.Fatalf("StaleRuns lists a queued run: %v", got)
	}
}
