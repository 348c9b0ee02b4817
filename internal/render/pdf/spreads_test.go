package pdf

import (
	"fmt"
	"math"
	"testing"
)

// spread is a left-hand page and the right-hand page facing it, both
// full (neither the last page of its chapter), by index in d.pages, and
// where each ends: the baseline of its lowest line (the foot of an image
// that ends lower).
type spread struct {
	left, right int
	endL, endR  float64
}

func (s spread) flush(tol float64) bool { return math.Abs(s.endL-s.endR) <= tol }

// pageEnd is where a page's text ends, below the text block's top.
func pageEnd(p *page) float64 {
	end := 0.0
	for _, pl := range p.boxes {
		for _, bl := range pl.b.lines {
			end = max(end, pl.y+bl.base)
		}
		if pl.b.img != nil {
			end = max(end, pl.y+pl.b.h+pl.b.d)
		}
	}
	return end
}

// fullSpreads lists the spreads of the body of two full pages.
func fullSpreads(d *document) []spread {
	full := func(i int) bool {
		if i+1 >= len(d.pages) {
			return false
		}
		k, next := d.pages[i].kind, d.pages[i+1].kind
		return (k == pageBody || k == pageOpening) && next == pageBody
	}
	var out []spread
	for i := d.frontCount + 1; i+1 < len(d.pages); i += 2 {
		if full(i) && full(i+1) {
			out = append(out, spread{left: i, right: i + 1, endL: pageEnd(d.pages[i]), endR: pageEnd(d.pages[i+1])})
		}
	}
	return out
}

// TestSpreadsFlush checks vertical justification on Frankenstein: the
// two pages of every full spread end on the same line, no page starts
// with a line kept with the page before (widows, orphans, headings:
// TestWidowsOrphansHeadings), and the lines of a paragraph stay a lead
// apart.
func TestSpreadsFlush(t *testing.T) {
	d, err := layout(corpusBook(t), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	spreads := fullSpreads(d)
	uneven := 0
	for _, s := range spreads {
		if !s.flush(1) {
			uneven++
			t.Logf("pages %d–%d end %.1f and %.1f pt below the block's top", s.left+1, s.right+1, s.endL, s.endR)
		}
	}
	t.Logf("%d of %d full spreads flush", len(spreads)-uneven, len(spreads))
	if len(spreads) < 60 {
		t.Errorf("only %d full spreads: the measure is broken", len(spreads))
	}
	if uneven > 0 {
		t.Errorf("%d of %d full spreads end on different lines", uneven, len(spreads))
	}
	checkGrid(t, d)
}

// checkGrid checks that consecutive lines of a paragraph on a page stay
// one lead apart: glue stretches between blocks only.
func checkGrid(t *testing.T, d *document) {
	t.Helper()
	for i, p := range d.pages {
		if p.kind != pageBody && p.kind != pageOpening {
			continue
		}
		for k := 1; k < len(p.boxes); k++ {
			a, b := p.boxes[k-1], p.boxes[k]
			if len(a.b.lines) == 0 || len(b.b.lines) == 0 || glueWeight(b.b) > 0 || a.b.notes != nil && false {
				continue
			}
			if got, want := b.y-a.y, a.b.h+a.b.d; math.Abs(got-want) > 1e-6 && b.y > a.y {
				t.Errorf("page %d: lines %q and %q are %.2f pt apart, not %.2f", i+1, boxText(a.b), boxText(b.b), got, want)
				return
			}
		}
	}
}

var _ = fmt.Sprint
