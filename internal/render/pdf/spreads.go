package pdf

import "math"

// Vertical justification: the full pages of a chapter end at the foot of
// the text block, as with TeX's \flushbottom, so that the two pages of a
// spread end on the same line.
//
// The text block of a chapter's pages is a whole number of body lines
// tall (gridHeight), so a page of plain text is full without stretching,
// as TeX's \textheight is \topskip plus n \baselineskip. A page that
// ends short (a widow or orphan moved a line overleaf, a heading kept
// with its text, a figure that did not fit) is filled by stretching the
// glue between blocks: above each paragraph (as \parskip 0pt plus 1pt)
// and the discardable spaces around headings, quotes, lists, tables,
// figures and rules (twice as much). The lines of a paragraph never
// move apart: they keep the baseline grid. A gap stretches by a line's
// height at most; a page that cannot be filled that way is moved on by
// a line — its break or a neighbour's is forbidden, so paginate chooses
// the legal break before it — when that makes more spreads flush;
// otherwise both pages of its spread end on the same line if they can.
// Only legal breaks are ever chosen, so widows and orphans are still
// avoided and headings stay with their text.
//
// A page with footnotes ends at the foot whatever its text: its notes
// are set there, and the gap above their rule stretches (as TeX's
// \skip\footins).

// flushTolerance is how far apart (pt) the ends of a spread's pages may
// be and still count as the same line.
const flushTolerance = 0.5

// gridHeight is the height of the text block of body pages: the foot of
// the last whole line of body text (size, lead, face f) that fits in h,
// the first lowered so that its ink stays in the block, as paginate sets
// the first box of a page.
func gridHeight(h, size, lead float64, f *face) float64 {
	d := max(0.3*lead, f.desc*size) // as lineBox
	off := max(0, f.ascent*size-(lead-d))
	n := math.Floor((h-off)/lead + 1e-9)
	if n < 1 {
		return h
	}
	return off + n*lead
}

// glueWeight is how much the gap above b may stretch: 1 for
// a gap above a paragraph, 2 for a discardable space, 0 for a line inside
// a paragraph, a table row, or a chapter's title (it keeps its place
// below the sink: openChapter clears parStart).
func glueWeight(b *vbox) float64 {
	switch {
	case b.space:
		return 2
	case b.parStart:
		return 1
	}
	return 0
}

// glueWeights returns the weight of the gap above each of the first n
// boxes of a page (0 above the first).
func glueWeights(pg []placed, n int) []float64 {
	w := make([]float64, n)
	for i := 1; i < n; i++ {
		w[i] = glueWeight(pg[i].b)
	}
	return w
}

// pageFit is what a page's body can do: its natural foot, the lowest
// foot its gaps can reach, and the foot of the page when notes are set
// there (0 for none).
type pageFit struct {
	body    int     // the body's boxes are pg[:body]; the rule and notes follow
	nb      float64 // natural foot of the body
	reach   float64 // lowest foot the body can reach by stretching, within limit
	limit   float64 // the top of the notes' rule, or the block's foot
	noted   bool    // notes at the foot: the page ends at the block's foot
	illegal bool    // the page starts where no break is allowed (paginate had no choice)
}

// end returns where the page ends when its body is stretched to t.
func (p pageFit) end(h, t float64) float64 {
	if p.noted {
		return h
	}
	return max(p.nb, t)
}

// maxRepaginations bounds the times a chapter is paginated again to move
// lines on (each try paginates the whole chapter, in time linear in its
// length): about 16 spreads a chapter can be mended so; the others stay
// as their gaps can make them. Frankenstein needs none (every short page
// has gaps enough).
// maxRepaginatedBoxes bounds it for a very long chapter, in boxes
// paginated again: about 20 passes over 100,000 lines.
const (
	maxRepaginations    = 64
	maxRepaginatedBoxes = 1 << 21
)

// flusher paginates one chapter with full pages flush at the foot.
type flusher struct {
	boxes []*vbox
	h     float64 // the text block's height: gridHeight
	lead  float64 // the body's leading: the most a gap stretches
	sep   *vbox
}

// paginateFlush paginates boxes as paginate does, into a text block of
// height h (gridHeight), then fills the full pages (all but the last) to
// the block's foot; see the comment at the top of this file.
func paginateFlush(boxes []*vbox, h, lead float64, sep *vbox) [][]placed {
	f := &flusher{boxes: boxes, h: h, lead: lead, sep: sep}
	avoid := map[int]bool{}
	pages := paginateAvoiding(boxes, h, sep, avoid)
	if len(pages) < 3 { // no spread of two full pages
		f.fill(pages, f.plan(pages).targets)
		return pages
	}
	var index map[*vbox]int // built when a line must move
	cur := f.plan(pages)
	n0 := len(pages)
	given := map[int]bool{} // left pages of spreads that no move made flush
	limit := min(maxRepaginations, 1+maxRepaginatedBoxes/len(boxes))
	for tries := 0; tries < limit; {
		a := -1
		for _, s := range cur.bad {
			if !given[s] {
				a = s
				break
			}
		}
		if a < 0 {
			break
		}
		if index == nil {
			index = make(map[*vbox]int, len(boxes))
			for i, b := range boxes {
				index[b] = i
			}
		}
		moved := false
		// Move a line on from the page before the spread, from its left
		// page, from its right page, or from the page before that.
		for _, p := range [...]int{a - 1, a, a + 1, a - 2} {
			if p < 0 || p+1 >= len(pages) {
				continue
			}
			first, ok := firstBody(pages[p+1], sep)
			last, ok2 := lastBody(pages[p], sep)
			if !ok || !ok2 {
				continue
			}
			try := make(map[int]bool, len(avoid)+2)
			for k := range avoid {
				try[k] = true
			}
			for k := index[last] + 1; k <= index[first]; k++ {
				try[k] = true
			}
			tries++
			pg := paginateAvoiding(boxes, h, sep, try)
			if pl := f.plan(pg); pl.better(cur, n0) {
				avoid, pages, cur, moved = try, pg, pl, true
				break
			}
		}
		if !moved {
			given[a] = true
		}
	}
	f.fill(pages, cur.targets)
	return pages
}

// firstBody and lastBody return the first and the last box of a page's
// body (before its notes).
func firstBody(pg []placed, sep *vbox) (*vbox, bool) {
	if len(pg) == 0 || (sep != nil && pg[0].b == sep) {
		return nil, false
	}
	return pg[0].b, true
}

func lastBody(pg []placed, sep *vbox) (*vbox, bool) {
	n := bodyLen(pg, sep)
	if n == 0 {
		return nil, false
	}
	return pg[n-1].b, true
}

func bodyLen(pg []placed, sep *vbox) int {
	for k, p := range pg {
		if sep != nil && p.b == sep {
			return k
		}
	}
	return len(pg)
}

// plan is where a chapter's pages should end: targets[k] is the foot
// page k's body is stretched to (0: left as it is); bad lists the left
// pages of spreads of two full pages that do not end on the same line;
// illegal counts the pages that start where no break is allowed.
type plan struct {
	targets []float64
	bad     []int
	illegal int
	pages   int
}

// better reports whether p is a better pagination than q, which has n0
// pages: no more forced breaks, more flush spreads, at most one more page.
func (p plan) better(q plan, n0 int) bool {
	if p.illegal != q.illegal {
		return p.illegal < q.illegal
	}
	return len(p.bad) < len(q.bad) && p.pages <= n0+1
}

// fit measures page pg; k is its index in the chapter.
func (f *flusher) fit(pg []placed, k int) pageFit {
	n := bodyLen(pg, f.sep)
	p := pageFit{body: n, limit: f.h, noted: n < len(pg)}
	if p.noted {
		p.limit = pg[n].y
	}
	if k > 0 && n > 0 && pg[0].b.noBreakBefore {
		p.illegal = true
	}
	gaps := 0
	for i := 0; i < n; i++ {
		b := pg[i].b
		p.nb = max(p.nb, pg[i].y+b.h+b.d)
		if i > 0 && glueWeight(b) > 0 {
			gaps++
		}
	}
	p.reach = max(p.nb, min(p.limit, p.nb+float64(gaps)*f.lead))
	return p
}

// plan decides where the pages end.
func (f *flusher) plan(pages [][]placed) plan {
	m := len(pages)
	pl := plan{targets: make([]float64, m), pages: m}
	fits := make([]pageFit, m)
	for k, pg := range pages {
		fits[k] = f.fit(pg, k)
		if fits[k].illegal {
			pl.illegal++
		}
		if k < m-1 { // a full page: as low as it can, up to the foot
			pl.targets[k] = fits[k].reach
		}
	}
	// A chapter opens on a right-hand page: its spreads are pages
	// (1, 2), (3, 4)…, full when neither is the chapter's last.
	for a := 1; a+1 < m-1; a += 2 {
		l, r := fits[a], fits[a+1]
		if math.Abs(l.end(f.h, pl.targets[a])-r.end(f.h, pl.targets[a+1])) <= flushTolerance {
			continue
		}
		pl.bad = append(pl.bad, a)
		if l.noted || r.noted {
			continue
		}
		// Both short of the foot: the same line if both can.
		if lo, hi := max(l.nb, r.nb), min(l.reach, r.reach); lo <= hi+1e-6 {
			pl.targets[a], pl.targets[a+1] = hi, hi
			pl.bad = pl.bad[:len(pl.bad)-1]
		}
	}
	return pl
}

// fill stretches the gaps of each page's body so that it ends at its
// target: in proportion to their weights, none by more than a lead.
func (f *flusher) fill(pages [][]placed, targets []float64) {
	for k, pg := range pages {
		n := bodyLen(pg, f.sep)
		nb := 0.0
		for i := 0; i < n; i++ {
			nb = max(nb, pg[i].y+pg[i].b.h+pg[i].b.d)
		}
		extra := targets[k] - nb
		if extra <= 1e-6 {
			continue
		}
		add := stretch(glueWeights(pg, n), extra, f.lead)
		shift := 0.0
		for i := 1; i < n; i++ {
			shift += add[i]
			pg[i].y += shift
		}
	}
}

// stretch shares extra among gaps of weights ws, in proportion to their
// weights, none by more than most; it returns each gap's share (what
// cannot be shared is left out).
func stretch(ws []float64, extra, most float64) []float64 {
	add := make([]float64, len(ws))
	full := make([]bool, len(ws))
	for extra > 1e-6 {
		w := 0.0
		for i, gw := range ws {
			if !full[i] {
				w += gw
			}
		}
		if w == 0 {
			break
		}
		unit, over := extra/w, false
		for i, gw := range ws {
			if !full[i] && gw > 0 && add[i]+gw*unit > most {
				extra -= most - add[i]
				add[i], full[i], over = most, true, true
			}
		}
		if over {
			continue
		}
		for i, gw := range ws {
			if !full[i] {
				add[i] += gw * unit
			}
		}
		extra = 0
	}
	return add
}
