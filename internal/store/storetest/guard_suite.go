package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

func testGuard(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	window := 10 * time.Minute
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	// Failures count inside the window only; keys are separate.
	for i, d := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		n, err := s.GuardFailure(ctx, "203.0.113.7", at(d), at(d).Add(-window))
		if err != nil || n != i+1 {
			t.Fatalf("failure %d: count %d, %v", i+1, n, err)
		}
	}
	if n, err := s.GuardFailure(ctx, "acct:1234", at(2*time.Minute), at(2*time.Minute).Add(-window)); err != nil || n != 1 {
		t.Fatalf("another key: count %d, %v", n, err)
	}
	// 11 minutes later the first failure is out of the window.
	if n, err := s.GuardFailure(ctx, "203.0.113.7", at(11*time.Minute), at(11*time.Minute).Add(-window)); err != nil || n != 3 {
		t.Fatalf("sliding window: count %d, %v; want 3", n, err)
	}
	n, last, err := s.GuardFailures(ctx, "203.0.113.7", at(11*time.Minute).Add(-window))
	if err != nil || n != 3 || !last.Equal(at(11*time.Minute)) {
		t.Fatalf("GuardFailures = %d, %v, %v", n, last, err)
	}
	if n, last, err := s.GuardFailures(ctx, "nobody", t0); err != nil || n != 0 || !last.IsZero() {
		t.Fatalf("GuardFailures of an unknown key = %d, %v, %v", n, last, err)
	}
	if err := s.GuardClear(ctx, "acct:1234"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.GuardFailures(ctx, "acct:1234", t0); n != 0 {
		t.Fatalf("after GuardClear: %d failures", n)
	}

	// Blocks: active until their end, listed soonest first, lifted once.
	if err := s.GuardBlock(ctx, "203.0.113.7", at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.GuardFailures(ctx, "203.0.113.7", t0); n != 0 {
		t.Fatalf("a block keeps %d failures", n)
	}
	if err := s.GuardBlock(ctx, "2001:db8::/64", at(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if until, ok, err := s.GuardBlocked(ctx, "203.0.113.7", at(59*time.Minute)); err != nil || !ok || !until.Equal(at(time.Hour)) {
		t.Fatalf("GuardBlocked = %v, %v, %v", until, ok, err)
	}
	if _, ok, _ := s.GuardBlocked(ctx, "203.0.113.7", at(time.Hour)); ok {
		t.Fatal("a block is active at its end")
	}
	blocks, err := s.GuardBlocks(ctx, at(time.Minute))
	if err != nil || len(blocks) != 2 || blocks[0].Key != "2001:db8::/64" || !blocks[1].Until.Equal(at(time.Hour)) {
		t.Fatalf("GuardBlocks = %+v, %v", blocks, err)
	}
	// A block again extends it (an upsert, not a second row).
	if err := s.GuardBlock(ctx, "2001:db8::/64", at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if blocks, _ := s.GuardBlocks(ctx, at(time.Minute)); len(blocks) != 2 || blocks[1].Key != "2001:db8::/64" {
		t.Fatalf("after a second block: %+v", blocks)
	}
	if ok, err := s.GuardLift(ctx, "203.0.113.7", at(time.Minute)); err != nil || !ok {
		t.Fatalf("GuardLift = %v, %v", ok, err)
	}
	if ok, err := s.GuardLift(ctx, "203.0.113.7", at(time.Minute)); err != nil || ok {
		t.Fatalf("GuardLift twice = %v, %v", ok, err)
	}
	if _, ok, _ := s.GuardBlocked(ctx, "203.0.113.7", at(time.Minute)); ok {
		t.Fatal("still blocked after GuardLift")
	}
	// Expired blocks are not listed.
	if blocks, _ := s.GuardBlocks(ctx, at(3*time.Hour)); len(blocks) != 0 {
		t.Fatalf("expired blocks listed: %+v", blocks)
	}
}
