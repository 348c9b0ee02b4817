package auth_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/clock"
)

func TestLimiter(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	l := auth.NewLimiter(3, time.Minute, 2, clk.Now)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := range 3 {
		if over, _, _ := l.Hit(a); over {
			t.Fatalf("hit %d over the limit", i+1)
		}
	}
	clk.Advance(20 * time.Second)
	over, first, retry := l.Hit(a)
	if !over || !first || retry != 40*time.Second {
		t.Fatalf("4th hit: over %v first %v retry %v", over, first, retry)
	}
	if over, first, _ := l.Hit(a); !over || first {
		t.Fatalf("5th hit: over %v first %v", over, first)
	}
	if over, _, _ := l.Hit(b); over {
		t.Fatal("another address is limited")
	}
	clk.Advance(40 * time.Second)
	if over, _, _ := l.Hit(a); over {
		t.Fatal("still limited in a new window")
	}
}
