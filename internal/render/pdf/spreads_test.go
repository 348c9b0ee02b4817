package pdf

import (
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
	// A chapter's title keeps its place on its opening page.
	titleY := -1.0
	for i, p := range d.pages {
		if p.kind != pageOpening || len(p.boxes) < 2 {
			continue
		}
		if y := p.boxes[1].y; titleY < 0 {
			titleY = y
		} else if y != titleY {
			t.Errorf("page %d: the chapter title is %.2f pt below the block's top, not %.2f", i+1, y, titleY)
		}
	}
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
			if len(a.b.lines) == 0 || len(b.b.lines) == 0 || glueWeight(b.b) > 0 {
				continue
			}
			if got, want := b.y-a.y, a.b.h+a.b.d; math.Abs(got-want) > 1e-6 && b.y > a.y {
				t.Errorf("page %d: lines %q and %q are %.2f pt apart, not %.2f", i+1, boxText(a.b), boxText(b.b), got, want)
				return
			}
		}
	}
}

// paraBoxes returns the line boxes of a paragraph of n lines a lead of 12
// apart, flagged as text flags them: no break after the first line or
// before the last, glue above the first.
func paraBoxes(n int) []*vbox {
	var out []*vbox
	for k := range n {
		b := &vbox{h: 10, d: 2, asc: 8, lines: []boxLine{{base: 10, ln: &line{}}}, parStart: k == 0}
		b.noBreakBefore = k == 1 || (k > 0 && k == n-1)
		out = append(out, b)
	}
	return out
}

func paras(ns ...int) []*vbox {
	var out []*vbox
	for _, n := range ns {
		out = append(out, paraBoxes(n)...)
	}
	return out
}

// bodyEnd is the foot of a page's last box.
func bodyEnd(pg []placed) float64 {
	last := pg[len(pg)-1]
	return last.y + last.b.h + last.b.d
}

// checkPages checks that pages keep every box once, in order, that no
// page but the first starts with a box kept with the one before (a
// widow, an orphan), and that consecutive lines of a paragraph stay a
// lead apart.
func checkPages(t *testing.T, boxes []*vbox, pages [][]placed) {
	t.Helper()
	k := 0
	for i, pg := range pages {
		for j, pl := range pg {
			if pl.b != boxes[k] {
				t.Fatalf("page %d box %d is not box %d", i, j, k)
			}
			k++
			if j == 0 && i > 0 && pl.b.noBreakBefore {
				t.Errorf("page %d starts with a widow or an orphan", i)
			}
			if j > 0 && !pl.b.parStart && pl.y-pg[j-1].y != 12 {
				t.Errorf("page %d: line %d is %.1f below the line before", i, j, pl.y-pg[j-1].y)
			}
		}
	}
	if k != len(boxes) {
		t.Errorf("%d boxes placed, want %d", k, len(boxes))
	}
}

// TestFlushStretchesBetweenParagraphs: a page one line short (the widow
// of its second paragraph went overleaf) ends at the foot, the gap above
// the paragraph grown by a lead, its lines still a lead apart.
func TestFlushStretchesBetweenParagraphs(t *testing.T) {
	boxes := paras(6, 5, 10)
	pages := paginateFlush(boxes, 120, 12, nil)
	checkPages(t, boxes, pages)
	if len(pages) != 3 || len(pages[0]) != 9 {
		t.Fatalf("got %d pages, the first of %d lines; want 3, 9", len(pages), len(pages[0]))
	}
	if got := bodyEnd(pages[0]); got != 120 {
		t.Errorf("the first page ends at %.1f, want 120", got)
	}
	if got := pages[0][6].y - pages[0][5].y; got != 24 {
		t.Errorf("the gap above the second paragraph is %.1f, want 24", got)
	}
	if got := bodyEnd(pages[2]); got != 12*2 {
		t.Errorf("the last page, not full, ends at %.1f, want %d: it is not stretched", got, 12*2)
	}
}

// TestFlushMovesALine: a left-hand page of one paragraph ends short (the
// widow rule) and has no gap to stretch; the page before gives it a
// line (that page has a gap), and the spread ends on the same line. A
// gap never stretches by more than a lead.
func TestFlushMovesALine(t *testing.T) {
	// Page 0: A (7 lines) and 3 lines of B; page 1: B's next 10 lines but
	// for the widow rule, which leaves it 9; page 2 full.
	boxes := paras(7, 14, 8, 30)
	plain := paginate(boxes, 120, nil)
	if got := bodyEnd(plain[1]); got != 108 {
		t.Fatalf("the test is broken: first-fit ends page 1 at %.1f, want 108", got)
	}
	pages := paginateFlush(boxes, 120, 12, nil)
	checkPages(t, boxes, pages)
	for k := 0; k < len(pages)-1; k++ {
		if got := bodyEnd(pages[k]); got != 120 {
			t.Errorf("full page %d ends at %.1f, want 120", k, got)
		}
	}
	if len(pages) != len(plain) {
		t.Errorf("%d pages, first-fit makes %d", len(pages), len(plain))
	}

	// Page 0 is two lines short (C's orphan and widow go overleaf) with
	// one gap, which takes a lead, not two: the page stays a line short.
	few := paras(3, 5, 3, 40)
	pages = paginateFlush(few, 120, 12, nil)
	checkPages(t, few, pages)
	for k, pg := range pages {
		for j := 1; j < len(pg); j++ {
			if gap := pg[j].y - pg[j-1].y - 12; gap > 12+1e-9 {
				t.Errorf("page %d: a gap of %.1f, more than a lead", k, gap)
			}
		}
	}
	if got := bodyEnd(pages[0]); got != 108 {
		t.Errorf("page 0 ends at %.1f, want 108", got)
	}
}

// TestFlushWithNotes: a page with footnotes ends at the foot with its
// last note, the gap above the notes' rule taking what the text's gaps
// do not; the other full pages end at the foot too.
func TestFlushWithNotes(t *testing.T) {
	boxes := paras(6, 5, 10, 7, 9, 12, 4, 10)
	boxes[14].notes = [][]*vbox{paras(2)}
	sep := &vbox{h: 6}
	pages := paginateFlush(boxes, 120, 12, sep)
	noted := 0
	for k, pg := range pages[:len(pages)-1] {
		if bodyLen(pg, sep) < len(pg) {
			noted++
		}
		if got := bodyEnd(pg); got != 120 {
			t.Errorf("full page %d ends at %.1f, want 120", k, got)
		}
		n := bodyLen(pg, sep)
		for j := 1; j < n; j++ {
			if !pg[j].b.parStart && pg[j].y-pg[j-1].y != 12 {
				t.Errorf("page %d: line %d is %.1f below the line before", k, j, pg[j].y-pg[j-1].y)
			}
		}
		if n < len(pg) && bodyEnd(pg[:n]) > pg[n].y+1e-9 {
			t.Errorf("page %d: the text runs into the notes' rule", k)
		}
	}
	if noted != 1 {
		t.Errorf("%d pages with notes, want 1", noted)
	}
}
