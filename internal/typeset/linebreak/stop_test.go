package linebreak

import (
	"strings"
	"testing"
)

// Breaks asks Params.Stop every StopEvery items, in one window as across
// windows, and gives up (nil) at the first yes: a paragraph of any length
// stops within StopEvery items of being told to.
func TestBreaksStops(t *testing.T) {
	items := text(strings.Repeat(frog+" ", 1500)) // some 150,000 items, several windows
	asked := 0
	p := DefaultParams
	p.Stop = func() bool { asked++; return false }
	if bs := Breaks(items, fixed(39), p); len(bs) == 0 {
		t.Fatal("no breaks")
	}
	if min := len(items) / StopEvery; asked < min {
		t.Fatalf("Stop asked %d times for %d items, want at least %d (once every %d items)", asked, len(items), min, StopEvery)
	}
	total := asked
	for _, at := range []int{1, 2, total / 3, total / 2, total - 1} {
		asked = 0
		after := 0
		p.Stop = func() bool {
			if asked >= at {
				after++
				return true
			}
			asked++
			return false
		}
		if bs := Breaks(items, fixed(39), p); bs != nil {
			t.Errorf("stopped at look %d of %d: %d breaks, want nil", at, total, len(bs))
		}
		if after > 3 {
			t.Errorf("stopped at look %d of %d: asked %d more times", at, total, after)
		}
	}
}
