package build

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// While PDFs are typeset the target is 50, back to the default when the
// last one ends; an operator's GOGC is left alone.
func TestLeanGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	a := leanGC()
	b := leanGC()
	if p := gcPercent(); p != leanGCPercent {
		t.Fatalf("target %d while typesetting, want %d", p, leanGCPercent)
	}
	a()
	if p := gcPercent(); p != leanGCPercent {
		t.Fatalf("target %d while one PDF is still typeset, want %d", p, leanGCPercent)
	}
	b()
	if p := gcPercent(); p != 100 {
		t.Fatalf("target %d after typesetting, want 100", p)
	}

	debug.SetGCPercent(200) // GOGC=200
	restore := leanGC()
	if p := gcPercent(); p != 200 {
		t.Errorf("target %d with GOGC=200, want it kept", p)
	}
	restore()
	if p := gcPercent(); p != 200 {
		t.Errorf("target %d after typesetting with GOGC=200", p)
	}
}
