package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// RunShared runs the suite of what must hold when several handles — two
// pools, or two nodes — share one database. open returns two stores on the
// same new, empty database.
func RunShared(t *testing.T, open func(t *testing.T) (bindery.Store, bindery.Store)) {
	t.Run("AuditAppendsFromTwoHandles", func(t *testing.T) { testSharedAudit(t, open) })
	t.Run("QueueRunFromTwoHandles", func(t *testing.T) { testSharedQueue(t, open) })
	t.Run("ClaimFromTwoHandles", func(t *testing.T) { testSharedClaim(t, open) })
}

// testSharedAudit: appends racing through two handles each link to the
// one before, so the chain verifies through either handle.
func testSharedAudit(t *testing.T, open func(t *testing.T) (bindery.Store, bindery.Store)) {
	ctx := context.Background()
	a, b := open(t)
	const perWorker, workers = 15, 3
	var wg sync.WaitGroup
	for i, s := range []bindery.Store{a, b} {
		for w := range workers {
			wg.Go(func() {
				for n := range perWorker {
					e := &bindery.AuditEvent{At: t0, Action: bindery.AuditLogout, Detail: fmt.Sprintf("handle %d worker %d entry %d", i, w, n)}
					if err := s.AppendAudit(ctx, e); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for i, s := range []bindery.Store{a, b} {
		if v, err := s.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 2*workers*perWorker {
			t.Fatalf("VerifyAudit through handle %d = %+v (%+v), %v; want %d entries", i, v, v.Broken, err, 2*workers*perWorker)
		}
	}
}

// testSharedQueue: QueueRun racing through two handles creates one queued
// run for a book.
func testSharedQueue(t *testing.T, open func(t *testing.T) (bindery.Store, bindery.Store)) {
	ctx := context.Background()
	a, b := open(t)
	u := mustUser(t, a, "q@example.com", bindery.RoleAuthor)
	book := &bindery.Book{OwnerID: u.ID, Title: "B", CreatedAt: t0, UpdatedAt: t0}
	if err := a.CreateBook(ctx, book); err != nil {
		t.Fatal(err)
	}
	ids := make(chan int64, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		s := []bindery.Store{a, b}[i%2]
		wg.Go(func() {
			r, err := s.QueueRun(ctx, &bindery.Run{BookID: book.ID, State: bindery.RunQueued, Formats: []string{"epub"}, CreatedBy: u.ID, CreatedAt: t0}, 0)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- r.ID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 {
		t.Fatalf("8 QueueRuns racing through two handles created %d runs", len(seen))
	}
}

// testSharedClaim: of claims racing through two handles (two nodes'
// workers), exactly one wins, gets lease 1, and stores its event.
func testSharedClaim(t *testing.T, open func(t *testing.T) (bindery.Store, bindery.Store)) {
	ctx := context.Background()
	a, b := open(t)
	u := mustUser(t, a, "c@example.com", bindery.RoleAuthor)
	book := &bindery.Book{OwnerID: u.ID, Title: "B", CreatedAt: t0, UpdatedAt: t0}
	if err := a.CreateBook(ctx, book); err != nil {
		t.Fatal(err)
	}
	r := &bindery.Run{BookID: book.ID, State: bindery.RunQueued, Formats: []string{"epub"}, CreatedBy: u.ID, CreatedAt: t0}
	if err := a.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		s := []bindery.Store{a, b}[i%2]
		wg.Go(func() {
			lease, ok, err := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunQueued}, To: bindery.RunRunning, Claim: true, At: t0,
				Event: &bindery.Event{Type: bindery.EventRunStarted, Timestamp: t0, RunID: r.ID, BookID: book.ID}})
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
				if lease != 1 {
					t.Errorf("the winning claim got lease %d, want 1", lease)
				}
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claims of one run won, want 1", wins.Load())
	}
	if evs, _ := b.EventsAfter(ctx, 0, 0); len(evs) != 1 {
		t.Fatalf("%d run_started events stored, want 1", len(evs))
	}
}
