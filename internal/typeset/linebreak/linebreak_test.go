package linebreak

import (
	"math"
	"strings"
	"testing"
)

// text turns words into items with unit-width letters, unit spaces that
// stretch by 1 and shrink by 1/3, and a flagged hyphen point of width 1
// at every '-' inside a word.
func text(s string) []Item {
	var items []Item
	for i, w := range strings.Fields(s) {
		if i > 0 {
			items = append(items, Item{Kind: Glue, Width: 1, Stretch: 1, Shrink: 1.0 / 3})
		}
		for j, part := range strings.Split(w, "-") {
			if j > 0 {
				items = append(items, Item{Kind: Penalty, Width: 1, Penalty: 50, Flagged: true})
			}
			items = append(items, Item{Kind: Box, Width: float64(len(part))})
		}
	}
	return append(items, Item{Kind: Glue, Stretch: 1e6}, Item{Kind: Penalty, Penalty: -Infinity})
}

// lineWidths returns the typeset width of every line of a solution.
func lineWidths(items []Item, breaks []Break) []float64 {
	var out []float64
	start := 0
	for _, b := range breaks {
		var w, y, z float64
		for i := start; i < b.Position; i++ {
			switch it := items[i]; it.Kind {
			case Box:
				w += it.Width
			case Glue:
				w += it.Width
				y += it.Stretch
				z += it.Shrink
			}
		}
		if it := items[b.Position]; it.Kind == Penalty {
			w += it.Width
		}
		if b.Ratio >= 0 {
			if !math.IsInf(b.Ratio, 1) {
				w += b.Ratio * y
			}
		} else {
			w += b.Ratio * z
		}
		out = append(out, w)
		start = b.Position + 1
		for start < len(items) && items[start].Kind != Box {
			start++
		}
	}
	return out
}

func fixed(w float64) func(int) float64 { return func(int) float64 { return w } }

const frog = "In olden times when wish-ing still helped one, there lived a king whose daugh-ters were all beau-ti-ful; and the young-est was so beau-ti-ful that the sun it-self, which has seen so much, was aston-ished when-ever it shone in her face. Close by the king's castle lay a great dark for-est, and un-der an old lime-tree in the for-est was a well, and when the day was very warm, the king's child went out into the for-est and sat down by the side of the cool foun-tain; and when she was bored she took a golden ball, and threw it up on high and caught it; and this ball was her favor-ite play-thing."

func TestNoLineExceedsMeasure(t *testing.T) {
	items := text(frog)
	for _, measure := range []float64{20, 30, 39, 50, 80} {
		breaks := Breaks(items, fixed(measure), DefaultParams)
		if got := breaks[len(breaks)-1].Position; got != len(items)-1 {
			t.Fatalf("measure %v: last break at %d, want %d", measure, got, len(items)-1)
		}
		for i, w := range lineWidths(items, breaks) {
			if w > measure+1e-9 {
				t.Errorf("measure %v: line %d is %v wide", measure, i, w)
			}
			if breaks[i].Overfull {
				t.Errorf("measure %v: line %d overfull", measure, i)
			}
			if i < len(breaks)-1 && math.Abs(w-measure) > 1e-9 {
				t.Errorf("measure %v: justified line %d is %v wide", measure, i, w)
			}
		}
	}
}

func TestKnownParagraph(t *testing.T) {
	// "aa bb cc dd" in a measure of 5: "aa bb" fills the first line
	// exactly (ratio 0) and "cc dd" is the last line.
	items := text("aa bb cc dd")
	breaks := Breaks(items, fixed(5), DefaultParams)
	var got []int
	for _, b := range breaks {
		got = append(got, b.Position)
	}
	want := []int{3, 8}
	if len(got) != len(want) {
		t.Fatalf("breaks = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("breaks = %v, want %v", got, want)
		}
	}
	if breaks[0].Ratio != 0 {
		t.Errorf("first line ratio = %v, want 0", breaks[0].Ratio)
	}
}

// TestTotalFitBeatsFirstFit: on this paragraph first-fit leaves a very
// loose line that total fit avoids by looking ahead.
func TestTotalFitBeatsFirstFit(t *testing.T) {
	items := text(frog)
	worst := 0.0
	for _, b := range Breaks(items, fixed(39), DefaultParams)[:10] {
		worst = math.Max(worst, b.Ratio)
	}
	if worst > 1 {
		t.Errorf("worst adjustment ratio %v, want ≤ 1 (no very loose line)", worst)
	}
}

func TestFitnessClass(t *testing.T) {
	tests := []struct {
		r    float64
		want int
	}{{-1, Tight}, {-0.51, Tight}, {-0.5, Normal}, {0, Normal}, {0.5, Normal}, {0.7, Loose}, {1, Loose}, {1.5, VeryLoos}}
	for _, tt := range tests {
		if got := FitnessClass(tt.r); got != tt.want {
			t.Errorf("FitnessClass(%v) = %d, want %d", tt.r, got, tt.want)
		}
	}
}

func TestFitnessDemeritsAvoidTightAfterLoose(t *testing.T) {
	items := text(frog)
	p := DefaultParams
	p.FitnessDemerits = 1e7
	breaks := Breaks(items, fixed(39), p)
	for i := 1; i < len(breaks)-1; i++ {
		a, b := FitnessClass(breaks[i-1].Ratio), FitnessClass(breaks[i].Ratio)
		if abs(a-b) > 1 {
			t.Errorf("lines %d and %d have fitness %d and %d", i-1, i, a, b)
		}
	}
}

func TestConsecutiveHyphenLimit(t *testing.T) {
	// Every word hyphenates everywhere and hyphens are free: without the
	// limit, runs of hyphenated lines are cheap.
	words := strings.Repeat("ab-cd-ef-gh-ij-kl-mn ", 40)
	items := text(words)
	for i := range items {
		if items[i].Flagged {
			items[i].Penalty = 0
		}
	}
	for _, limit := range []int{1, 2} {
		p := DefaultParams
		p.MaxConsecutiveFlagged = limit
		p.FlaggedDemerits = 0
		run := 0
		for _, b := range Breaks(items, fixed(17), p) {
			if b.Flagged {
				run++
			} else {
				run = 0
			}
			if run > limit {
				t.Fatalf("limit %d: %d consecutive hyphenated lines", limit, run)
			}
		}
	}
}

func TestOverfullOnlyWhenUnavoidable(t *testing.T) {
	items := text("a bbbbbbbbbbbb c")
	breaks := Breaks(items, fixed(5), DefaultParams)
	over := 0
	for _, b := range breaks {
		if b.Overfull {
			over++
		}
	}
	if over != 1 {
		t.Errorf("overfull lines = %d, want 1 (the 12-letter word)", over)
	}
}

func BenchmarkBreaks(b *testing.B) {
	items := text(strings.Repeat(frog+" ", 10))
	for b.Loop() {
		Breaks(items, fixed(45), DefaultParams)
	}
}

// TestFinalFlaggedDemerits: with them, the line before the last one does
// not end in a hyphen where another set of breaks exists.
func TestFinalFlaggedDemerits(t *testing.T) {
	items := text(frog)
	penultimate := func(p Params, measure float64) bool {
		bs := Breaks(items, fixed(measure), p)
		return len(bs) > 1 && bs[len(bs)-2].Flagged
	}
	p := DefaultParams
	p.FinalFlaggedDemerits = 1e6
	before := 0
	for measure := 18.0; measure <= 60; measure++ {
		if penultimate(DefaultParams, measure) {
			before++
			if penultimate(p, measure) {
				t.Errorf("measure %v: penultimate line still hyphenated", measure)
			}
		}
	}
	if before == 0 {
		t.Fatal("no measure hyphenates the penultimate line by default: the test proves nothing")
	}
}

// TestWindowedBreaks: a paragraph broken window by window (as Breaks does
// past WindowItems) is justified on every line but its last, reaches the
// end, overflows nowhere, and has about as many lines as the one-piece
// optimum (windows only cost optimality near their seams).
func TestWindowedBreaks(t *testing.T) {
	long := strings.Repeat(frog+" ", 40)
	items := text(long)
	const measure = 39
	one := Breaks(items, fixed(measure), DefaultParams)
	for _, size := range []int{300, 1000, 5000} {
		got := windowed(items, fixed(measure), DefaultParams, size)
		if got[len(got)-1].Position != len(items)-1 {
			t.Fatalf("window %d: last break at %d, want %d", size, got[len(got)-1].Position, len(items)-1)
		}
		for i, w := range lineWidths(items, got) {
			if got[i].Overfull || w > measure+1e-9 {
				t.Fatalf("window %d: line %d is %v wide (overfull %v)", size, i, w, got[i].Overfull)
			}
			if i < len(got)-1 && math.Abs(w-measure) > 1e-9 {
				t.Fatalf("window %d: line %d is not justified (%v)", size, i, w)
			}
			if i > 0 && got[i].Position <= got[i-1].Position {
				t.Fatalf("window %d: breaks out of order at line %d", size, i)
			}
		}
		if d := len(got) - len(one); d < 0 || d > len(one)/50+2 {
			t.Errorf("window %d: %d lines against %d in one piece", size, len(got), len(one))
		}
	}
}
