package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

func testRuns(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "a@example.com", bindery.RoleAuthor)
	b := &bindery.Book{OwnerID: u.ID, Title: "B", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	r := &bindery.Run{BookID: b.ID, State: bindery.RunQueued, Formats: []string{"epub", "pdf"}, Publish: true, CreatedBy: u.ID, CreatedAt: t0}
	if err := s.CreateRun(ctx, r); err != nil || r.ID == 0 || len(r.Stages) != len(bindery.Stages) {
		t.Fatalf("CreateRun: %v, %+v", err, r)
	}
	wantCode(t, s.CreateRun(ctx, &bindery.Run{BookID: 9999, State: bindery.RunQueued, CreatedAt: t0}), bindery.ENOTFOUND)

	started := t0.Add(time.Second)
	claim := bindery.RunChange{RunID: r.ID, From: []string{bindery.RunQueued}, To: bindery.RunRunning, Claim: true, At: started,
		Event: &bindery.Event{Type: bindery.EventRunStarted, Timestamp: started, RunID: r.ID, BookID: b.ID}}
	lease, ok, err := s.ChangeRun(ctx, claim)
	if !ok || err != nil || lease != 1 || claim.Event.ID == 0 {
		t.Fatalf("claim = %d, %v, %v (event id %d)", lease, ok, err, claim.Event.ID)
	}
	// A guard that fails changes nothing and stores no event.
	again := claim
	again.Event = &bindery.Event{Type: bindery.EventRunStarted, Timestamp: started, RunID: r.ID}
	if _, ok, _ := s.ChangeRun(ctx, again); ok || again.Event.ID != 0 {
		t.Fatal("a run was claimed twice")
	}
	if evs, _ := s.EventsAfter(ctx, 0, 0); len(evs) != 1 {
		t.Fatalf("events after a refused change: %d", len(evs))
	}
	st := bindery.StageState{Name: bindery.StageContent, State: "running", Progress: 40, Message: "parsing", StartedAt: &started}
	if _, ok, err := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease, Stage: &st}); !ok || err != nil {
		t.Fatalf("stage write under the lease = %v, %v", ok, err)
	}
	got, err := s.RunByID(ctx, r.ID)
	if err != nil || got.State != bindery.RunRunning || !got.Publish || len(got.Formats) != 2 || got.StartedAt == nil || !got.StartedAt.Equal(started) || got.Lease != 1 {
		t.Fatalf("RunByID = %+v, %v", got, err)
	}
	if st := got.Stages[0]; st.Name != bindery.StageContent || st.Progress != 40 || st.State != "running" || st.Message != "parsing" {
		t.Fatalf("stage = %+v", st)
	}
	// Pause interrupts the running stage; a worker holding the lease can
	// then write nothing more.
	if _, ok, err := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunQueued, bindery.RunRunning}, Open: true, To: bindery.RunPaused, Interrupt: true, At: t0}); !ok || err != nil {
		t.Fatalf("pause = %v, %v", ok, err)
	}
	if _, ok, _ := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease, Stage: &st}); ok {
		t.Fatal("a paused run's stage was written under the old lease")
	}
	got, _ = s.RunByID(ctx, r.ID)
	if st := got.Stages[0]; st.State != "pending" || st.Message != "interrupted" {
		t.Fatalf("paused stage = %+v", st)
	}
	// Resume and a second claim: a new lease; the old one is dead, and the
	// start time stays the first.
	s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunPaused}, To: bindery.RunQueued, At: t0})
	claim.At, claim.Event = t0.Add(time.Hour), nil
	lease2, ok, _ := s.ChangeRun(ctx, claim)
	if !ok || lease2 != lease+1 {
		t.Fatalf("second claim = %d, %v", lease2, ok)
	}
	if _, ok, _ := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease, To: bindery.RunSucceeded, At: t0}); ok {
		t.Fatal("a stale lease ended the run")
	}
	if got, _ := s.RunByID(ctx, r.ID); !got.StartedAt.Equal(started) {
		t.Fatal("a resumed run's start time moved")
	}
	// Past the commit point, pause and stop (Open) no longer apply.
	if _, ok, _ := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease2, Commit: true}); !ok {
		t.Fatal("commit refused")
	}
	if _, ok, _ := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Open: true, To: bindery.RunStopped, At: t0}); ok {
		t.Fatal("a committed run was stopped")
	}
	if got, _ := s.RunByID(ctx, r.ID); !got.Committed {
		t.Fatal("Committed not read back")
	}
	// Once: the first book_published is stored, a repeat is not, and the
	// rest of the repeated step (its stage row) still applies.
	pub := bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease2, Once: true,
		Event: &bindery.Event{Type: bindery.EventBookPublished, Timestamp: t0, RunID: r.ID, BookID: b.ID}}
	if _, ok, err := s.ChangeRun(ctx, pub); !ok || err != nil || pub.Event.ID == 0 {
		t.Fatalf("first book_published = %v, %v (id %d)", ok, err, pub.Event.ID)
	}
	done := bindery.StageState{Name: bindery.StagePublish, State: "running", Progress: 90, Message: "again", StartedAt: &started}
	pub.Stage, pub.Event = &done, &bindery.Event{Type: bindery.EventBookPublished, Timestamp: t0, RunID: r.ID, BookID: b.ID}
	if _, ok, err := s.ChangeRun(ctx, pub); !ok || err != nil || pub.Event.ID != 0 {
		t.Fatalf("repeated book_published = %v, %v (id %d): want applied, not stored", ok, err, pub.Event.ID)
	}
	if got, _ := s.RunByID(ctx, r.ID); got.Stages[len(got.Stages)-1].Message != "again" {
		t.Fatalf("the stage row of a step whose event was told before: %+v", got.Stages[len(got.Stages)-1])
	}
	told := 0
	evs, _ := s.EventsAfter(ctx, 0, 0)
	for _, e := range evs {
		if e.RunID == r.ID && e.Type == bindery.EventBookPublished {
			told++
		}
	}
	if told != 1 {
		t.Fatalf("book_published stored %d times", told)
	}
	if _, _, err := s.ChangeRun(ctx, bindery.RunChange{RunID: 9999, From: []string{bindery.RunPaused}, To: bindery.RunStopped, At: t0}); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("change of an unknown run: %v", err)
	}
	active, _ := s.RunsInState(ctx, bindery.RunRunning, bindery.RunQueued)
	if len(active) != 1 {
		t.Fatalf("RunsInState = %v", active)
	}
	if _, ok, _ := s.ChangeRun(ctx, bindery.RunChange{RunID: r.ID, From: []string{bindery.RunRunning}, Lease: lease2, To: bindery.RunFailed, Error: "boom", At: t0.Add(2 * time.Hour)}); !ok {
		t.Fatal("fail refused")
	}
	got, _ = s.RunByID(ctx, r.ID)
	if got.Error != "boom" || got.FinishedAt == nil || got.State != bindery.RunFailed {
		t.Fatalf("failed run: %+v", got)
	}
	r2 := &bindery.Run{BookID: b.ID, State: bindery.RunQueued, Formats: []string{"epub"}, CreatedBy: u.ID, CreatedAt: t0}
	s.CreateRun(ctx, r2)
	if counts, err := s.CountRunsByState(ctx); err != nil || counts[bindery.RunFailed] != 1 || counts[bindery.RunQueued] != 1 {
		t.Fatalf("CountRunsByState = %v, %v", counts, err)
	}
	list, _ := s.ListRuns(ctx, b.ID, 10)
	if len(list) != 2 || list[0].ID != r2.ID {
		t.Fatalf("ListRuns = %v (want newest first)", list)
	}
	_, err = s.RunByID(ctx, 9999)
	wantCode(t, err, bindery.ENOTFOUND)
}

func testEvents(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	p := 50
	var ids []int64
	for i := 0; i < 5; i++ {
		e := &bindery.Event{Type: bindery.EventStageProgress, Timestamp: t0.Add(time.Duration(i) * time.Minute), RunID: 7, BookID: 3, Stage: "format", Progress: &p}
		if i%2 == 1 {
			e.Type, e.Level, e.Message, e.Progress = bindery.EventLog, "info", "line", nil
		}
		if err := s.AppendEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && e.ID <= ids[len(ids)-1] {
			t.Fatalf("ids not increasing: %v then %d", ids, e.ID)
		}
		ids = append(ids, e.ID)
	}
	after, _ := s.EventsAfter(ctx, ids[1], 0)
	if len(after) != 3 || after[0].ID != ids[2] || after[0].Progress == nil || *after[0].Progress != 50 || after[0].Stage != "format" {
		t.Fatalf("EventsAfter = %+v", after)
	}
	recent, _ := s.RecentEvents(ctx, 2)
	if len(recent) != 2 || recent[0].ID != ids[3] || recent[1].ID != ids[4] {
		t.Fatalf("RecentEvents = %+v", recent)
	}
	logs, _ := s.RunLogs(ctx, 7, 0)
	if len(logs) != 2 || logs[0].Type != bindery.EventLog {
		t.Fatalf("RunLogs = %+v", logs)
	}
	if n, _ := s.DeleteEventsBefore(ctx, t0.Add(2*time.Minute)); n != 2 {
		t.Fatalf("DeleteEventsBefore = %d", n)
	}
	if id, _ := s.OldestEventID(ctx); id != ids[2] {
		t.Fatalf("OldestEventID = %d, want %d", id, ids[2])
	}
	// Ids are never reused, even after deleting the newest.
	e := &bindery.Event{Type: bindery.EventLog, Timestamp: t0}
	s.AppendEvent(ctx, e)
	if e.ID <= ids[4] {
		t.Fatalf("id %d reused", e.ID)
	}
}

func testPublications(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "a@example.com", bindery.RoleAuthor)
	b := &bindery.Book{OwnerID: u.ID, Title: "B", CreatedAt: t0, UpdatedAt: t0}
	s.CreateBook(ctx, b)
	_, err := s.Publication(ctx, b.ID)
	wantCode(t, err, bindery.ENOTFOUND)
	audit := func(run int64) *bindery.AuditEvent {
		return &bindery.AuditEvent{At: t0, Action: bindery.AuditBookPublished, ActorID: &u.ID, Target: "book", Detail: fmt.Sprint("run ", run)}
	}
	p := &bindery.Publication{BookID: b.ID, RunID: 3, PublishedBy: u.ID, PublishedAt: t0, Title: "B", Authors: []string{"A"}, Files: []string{"b.epub"}}
	if err := s.PutPublication(ctx, p, audit(3)); err != nil {
		t.Fatal(err)
	}
	p.RunID, p.Files = 4, []string{"b.epub", "b.pdf"}
	if err := s.PutPublication(ctx, p, audit(4)); err != nil {
		t.Fatal(err)
	}
	// Each switch has its audit entry, in the chain.
	entries, err := s.ListAudit(ctx, bindery.AuditFilter{Action: bindery.AuditBookPublished})
	if err != nil || len(entries) != 2 || entries[0].Detail != "run 4" || entries[0].Hash == "" {
		t.Fatalf("audit of publications = %+v, %v", entries, err)
	}
	if v, err := s.VerifyAudit(ctx); err != nil || !v.OK() {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
	got, err := s.Publication(ctx, b.ID)
	if err != nil || got.RunID != 4 || len(got.Files) != 2 || got.Authors[0] != "A" {
		t.Fatalf("Publication = %+v, %v", got, err)
	}
	list, _ := s.ListPublications(ctx)
	if len(list) != 1 {
		t.Fatalf("ListPublications = %v", list)
	}
	// A refused switch leaves no audit entry behind.
	wantCode(t, s.PutPublication(ctx, &bindery.Publication{BookID: 999, Files: []string{}, Authors: []string{}}, audit(5)), bindery.ENOTFOUND)
	if entries, _ := s.ListAudit(ctx, bindery.AuditFilter{Action: bindery.AuditBookPublished}); len(entries) != 2 {
		t.Fatalf("a refused publication was audited: %d entries", len(entries))
	}
	s.DeleteBook(ctx, b.ID)
	if list, _ := s.ListPublications(ctx); len(list) != 0 {
		t.Fatal("a publication outlived its book")
	}
}

// testQueueRun: a book has at most one queued run (a second request gets
// it back), and a creator at most maxActive runs queued, running or
// paused; concurrent requests create one run between them.
func testQueueRun(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "q@example.com", bindery.RoleAuthor)
	book := func() *bindery.Book {
		b := &bindery.Book{OwnerID: u.ID, Title: "B", CreatedAt: t0, UpdatedAt: t0}
		if err := s.CreateBook(ctx, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	queued := func(b *bindery.Book) *bindery.Run {
		return &bindery.Run{BookID: b.ID, State: bindery.RunQueued, Formats: []string{"epub"}, CreatedBy: u.ID, CreatedAt: t0}
	}
	b1 := book()
	first, err := s.QueueRun(ctx, queued(b1), 3)
	if err != nil || first.ID == 0 {
		t.Fatalf("QueueRun: %v %+v", err, first)
	}
	again, err := s.QueueRun(ctx, queued(b1), 3)
	if err != nil || again.ID != first.ID || len(again.Stages) != len(bindery.Stages) {
		t.Fatalf("a second QueueRun of a book with a queued run = %+v, %v; want run %d back", again, err, first.ID)
	}
	// Once it runs, one more may queue.
	if _, ok, err := s.ChangeRun(ctx, bindery.RunChange{RunID: first.ID, From: []string{bindery.RunQueued}, To: bindery.RunRunning, Claim: true, At: t0}); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	second, err := s.QueueRun(ctx, queued(b1), 3)
	if err != nil || second.ID == first.ID {
		t.Fatalf("QueueRun beside a running run = %+v, %v", second, err)
	}
	// The creator now has 2 active runs; a third book makes 3; then no more.
	if _, err := s.QueueRun(ctx, queued(book()), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.QueueRun(ctx, queued(book()), 3); bindery.ErrorCode(err) != bindery.ETOOMANY {
		t.Fatalf("past the per-user limit: %v, want too_many_requests", err)
	}
	// Racing requests for a fresh book create one queued run.
	b4 := book()
	ids := make(chan int64, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.QueueRun(ctx, queued(b4), 0)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- r.ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		seen[id] = true
	}
	if len(seen) != 1 {
		t.Fatalf("8 racing QueueRuns created %d runs", len(seen))
	}
}
