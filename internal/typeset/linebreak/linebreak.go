// Package linebreak chooses where to break a paragraph into lines with the
// Knuth–Plass total-fit algorithm ("Breaking Paragraphs into Lines", 1981),
// the one TeX uses.
//
// A paragraph is a list of Items: boxes (fixed width material), glue
// (breakable, stretchable space) and penalties (optional break points with
// a cost, e.g. hyphenation points). Breaks returns the break positions that
// minimise the total demerits of the paragraph. The package knows nothing
// about fonts or glyphs: widths are plain numbers in any unit.
package linebreak

import "math"

// Kind says what an Item is.
type Kind uint8

// The three kinds of item of Knuth and Plass.
const (
	Box Kind = iota
	Glue
	Penalty
)

// Infinity is the penalty that forbids (+Infinity) or forces (-Infinity) a
// break.
const Infinity = 10000

// Item is one element of a paragraph. Width is used by every kind;
// Stretch and Shrink only by glue; Penalty and Flagged only by penalties.
// A flagged penalty is a hyphenation point: Width is then the width of the
// hyphen typeset when the line breaks there.
type Item struct {
	Kind    Kind
	Width   float64
	Stretch float64
	Shrink  float64
	Penalty float64
	Flagged bool
}

// Params tunes the algorithm. The zero value is not useful; start from
// DefaultParams.
type Params struct {
	// Tolerance is the largest badness (100·|r|³, r the adjustment ratio)
	// a line may have in the first pass. When no solution exists within
	// it, a second, emergency pass accepts any stretched line.
	Tolerance float64
	// LinePenalty is added to each line's badness (TeX's \linepenalty).
	LinePenalty float64
	// FlaggedDemerits are added when two consecutive lines end flagged
	// (TeX's \doublehyphendemerits).
	FlaggedDemerits float64
	// FitnessDemerits are added when adjacent lines differ by more than
	// one fitness class (TeX's \adjdemerits).
	FitnessDemerits float64
	// MaxConsecutiveFlagged, when > 0, is a hard limit on the number of
	// consecutive lines ending at a flagged penalty (hyphenated lines).
	MaxConsecutiveFlagged int
	// FinalFlaggedDemerits are added when the penultimate line of the
	// paragraph ends flagged, so the word is not split across the last
	// break (TeX's \finalhyphendemerits, 5000 in plain TeX). Zero in
	// DefaultParams.
	FinalFlaggedDemerits float64
	// Stop, when set, is asked every StopEvery items whether to give up
	// (the render's context ended); once it says yes, Breaks returns nil
	// within StopEvery items, whatever the paragraph's length.
	Stop func() bool
}

// StopEvery is how many items Breaks handles between two calls of
// Params.Stop: a few milliseconds of work.
const StopEvery = 2048

// DefaultParams are TeX-like settings with at most two consecutive
// hyphenated lines.
var DefaultParams = Params{
	Tolerance:             400,
	LinePenalty:           10,
	FlaggedDemerits:       10000,
	FitnessDemerits:       10000,
	MaxConsecutiveFlagged: 2,
}

// Fitness classes of a line, from its adjustment ratio r.
const (
	Tight    = 0 // r < -0.5
	Normal   = 1 // -0.5 ≤ r ≤ 0.5
	Loose    = 2 // 0.5 < r ≤ 1
	VeryLoos = 3 // r > 1
)

// FitnessClass returns the fitness class of a line of adjustment ratio r.
func FitnessClass(r float64) int {
	switch {
	case r < -0.5:
		return Tight
	case r <= 0.5:
		return Normal
	case r <= 1:
		return Loose
	}
	return VeryLoos
}

// Break is one chosen break. Position is the index of the glue or
// penalty item where the line ends (that item is not part of either line,
// except that a penalty's Width is typeset at the end of the line). Ratio
// is the adjustment ratio of the line that ends there: glue is set to
// Width + Ratio·Stretch when Ratio ≥ 0 and Width + Ratio·Shrink otherwise.
// Ratio is never below -1 unless the line is Overfull.
type Break struct {
	Position int
	Ratio    float64
	Flagged  bool
	// Overfull is set when no feasible break existed and the line is
	// wider than its measure even fully shrunk. Callers avoid it by
	// giving every unbreakable run of boxes a width within the measure.
	Overfull bool
}

type node struct {
	pos       int
	line      int
	fitness   int
	flagged   int // consecutive flagged lines ending here
	width     float64
	stretch   float64
	shrink    float64
	demerits  float64
	ratio     float64
	prev      *node
	overfull  bool
	isFlagged bool
}

// Breaks returns the breaks of the paragraph items, one per line, in order;
// the last one is at the final item. lineWidth gives the measure of line
// number n (0-based). The paragraph should end with a forced break
// (Penalty -Infinity), usually after a finishing glue of large stretch;
// if it does not, one is assumed at the end.
//
// Breaks always returns a solution (unless p.Stop gives up: nil): a first
// pass within p.Tolerance, then an
// emergency pass accepting any underfull line, then, only if some run of
// boxes cannot fit, overfull lines (marked Overfull). The hyphen limit is
// dropped only when keeping it would force an overfull line.
//
// Memory and time stay bounded whatever the paragraph's length: one longer
// than WindowItems items (an 8 MB paragraph is a million words) is broken
// window by window — each window is set as a paragraph of its own, all
// its lines but the last are kept, and the next window starts after them,
// so no window's end shows (its last line, set as a paragraph's, is set
// again within the next). Line numbers restart in each window, so
// lineWidth should not depend on them for such paragraphs.
func Breaks(items []Item, lineWidth func(line int) float64, p Params) []Break {
	if len(items) == 0 {
		return nil
	}
	if last := items[len(items)-1]; last.Kind != Penalty || last.Penalty > -Infinity {
		items = append(items[:len(items):len(items)], Item{Kind: Penalty, Penalty: -Infinity})
	}
	stopped := false
	if stop := p.Stop; stop != nil {
		// Once told to stop, every later look says so without asking.
		p.Stop = func() bool {
			stopped = stopped || stop()
			return stopped
		}
	}
	var bs []Break
	if len(items) > WindowItems {
		bs = windowed(items, lineWidth, p, WindowItems)
	} else {
		bs = whole(items, lineWidth, p)
	}
	if stopped {
		return nil
	}
	return bs
}

// stopped reports whether p.Stop asks to give up.
func (p Params) stopped() bool { return p.Stop != nil && p.Stop() }

// WindowItems is the longest paragraph Breaks sets in one piece (see
// Breaks): some 3,000 words, far beyond any real paragraph.
const WindowItems = 20_000

// windowed sets a long paragraph window by window, of at most size items
// (see Breaks).
func windowed(items []Item, lineWidth func(line int) float64, p Params, size int) []Break {
	var out []Break
	start := 0
	for {
		if p.stopped() {
			return nil
		}
		if len(items)-start <= size {
			for _, b := range whole(items[start:], lineWidth, p) {
				b.Position += start
				out = append(out, b)
			}
			return out
		}
		// End the window at a legal glue break, finished like a paragraph.
		end := start + size
		for end > start+1 && !(items[end].Kind == Glue && items[end-1].Kind == Box) {
			end--
		}
		window := make([]Item, 0, end-start+2)
		window = append(window, items[start:end]...)
		window = append(window, Item{Kind: Glue, Stretch: 1e6}, Item{Kind: Penalty, Penalty: -Infinity})
		bs := whole(window, lineWidth, p)
		if len(bs) < 2 {
			// One line in a whole window: nothing to keep apart from it.
			for _, b := range whole(items[start:], lineWidth, p) {
				b.Position += start
				out = append(out, b)
			}
			return out
		}
		for _, b := range bs[:len(bs)-1] {
			b.Position += start
			out = append(out, b)
		}
		// The next line starts at the next box: glue and penalties at a
		// break vanish.
		start = out[len(out)-1].Position + 1
		for start < len(items)-1 && items[start].Kind != Box {
			start++
		}
	}
}

// whole sets items, which end with a forced break, as one paragraph.
func whole(items []Item, lineWidth func(line int) float64, p Params) []Break {
	if b := run(items, lineWidth, p, p.Tolerance, false); b != nil || p.stopped() {
		return b
	}
	b := run(items, lineWidth, p, math.Inf(1), true)
	if overfull(b) > 0 && p.MaxConsecutiveFlagged > 0 {
		// The hyphen limit may be what makes the paragraph infeasible:
		// an overfull line is worse than a third hyphen.
		q := p
		q.MaxConsecutiveFlagged = 0
		if b2 := run(items, lineWidth, q, math.Inf(1), true); overfull(b2) < overfull(b) {
			return b2
		}
	}
	return b
}

func overfull(bs []Break) int {
	n := 0
	for _, b := range bs {
		if b.Overfull {
			n++
		}
	}
	return n
}

func run(items []Item, lineWidth func(int) float64, p Params, tolerance float64, emergency bool) []Break {
	var sumW, sumY, sumZ float64
	active := []*node{{pos: 0, fitness: Normal, line: 0}}
	var lastDeactivated *node
	// Candidates found for the current breakpoint, one per (fitness, flagged).
	type cand struct {
		n   *node
		ok  bool
		dem float64
	}
	for i := 0; i < len(items); i++ {
		if i%StopEvery == StopEvery-1 && p.stopped() {
			return nil
		}
		it := items[i]
		legal := false
		switch it.Kind {
		case Box:
			sumW += it.Width
		case Glue:
			legal = i > 0 && items[i-1].Kind == Box
		case Penalty:
			legal = it.Penalty < Infinity
		}
		if legal {
			var best [4][3]cand
			// Width after the break: skip glue and non-forced penalties.
			var next = active[:0:0]
			anyFeasible := false
			var keep []*node
			for _, a := range active {
				w := sumW - a.width
				if it.Kind == Penalty {
					w += it.Width
				}
				lw := lineWidth(a.line)
				var r float64
				switch {
				case w < lw:
					y := sumY - a.stretch
					if y > 0 {
						r = (lw - w) / y
					} else {
						r = math.Inf(1)
					}
				case w > lw:
					z := sumZ - a.shrink
					if z > 0 {
						r = (lw - w) / z
					} else {
						r = math.Inf(-1)
					}
				}
				forced := it.Kind == Penalty && it.Penalty <= -Infinity
				if r < -1 || forced {
					// a can no longer start a line reaching past here.
					if r < -1 {
						lastDeactivated = a
					}
				} else {
					keep = append(keep, a)
				}
				if r < -1 {
					continue
				}
				bad := badness(r)
				if bad > tolerance && !(emergency && r >= -1) {
					continue
				}
				flaggedHere := it.Kind == Penalty && it.Flagged
				fl := 0
				if flaggedHere {
					fl = a.flagged + 1
					if p.MaxConsecutiveFlagged > 0 && fl > p.MaxConsecutiveFlagged {
						continue
					}
				}
				anyFeasible = true
				d := demerits(bad, it, p)
				if flaggedHere && a.isFlagged {
					d += p.FlaggedDemerits
				}
				if forced && a.isFlagged {
					d += p.FinalFlaggedDemerits
				}
				fc := FitnessClass(r)
				if a.pos > 0 && abs(fc-a.fitness) > 1 {
					d += p.FitnessDemerits
				}
				d += a.demerits
				fi := min(fl, 2)
				if c := &best[fc][fi]; !c.ok || d < c.dem {
					*c = cand{ok: true, dem: d, n: &node{
						pos: i, line: a.line + 1, fitness: fc, flagged: fl, demerits: d,
						ratio: r, prev: a, isFlagged: flaggedHere,
					}}
				}
			}
			_ = next
			active = keep
			if anyFeasible {
				// Totals after the break: skip following glue/penalties.
				tw, ty, tz := sumW, sumY, sumZ
				for j := i; j < len(items); j++ {
					jt := items[j]
					if jt.Kind == Box || (j > i && jt.Kind == Penalty && jt.Penalty <= -Infinity) {
						break
					}
					if jt.Kind == Glue {
						tw += jt.Width
						ty += jt.Stretch
						tz += jt.Shrink
					}
				}
				for fc := range best {
					for fi := range best[fc] {
						if c := best[fc][fi]; c.ok {
							c.n.width, c.n.stretch, c.n.shrink = tw, ty, tz
							active = append(active, c.n)
						}
					}
				}
			}
			if len(active) == 0 {
				if !emergency {
					return nil
				}
				// Overfull rescue: break here from the last node that
				// could not reach, and go on from there.
				a := lastDeactivated
				if a == nil {
					a = &node{}
				}
				tw, ty, tz := sumW, sumY, sumZ
				for j := i; j < len(items); j++ {
					jt := items[j]
					if jt.Kind == Box {
						break
					}
					if jt.Kind == Glue {
						tw += jt.Width
						ty += jt.Stretch
						tz += jt.Shrink
					}
				}
				active = append(active, &node{pos: i, line: a.line + 1, fitness: Tight, demerits: a.demerits + 1e9,
					ratio: -1, prev: a, overfull: true, width: tw, stretch: ty, shrink: tz,
					isFlagged: it.Kind == Penalty && it.Flagged})
			}
		}
		if it.Kind == Glue {
			sumW += it.Width
			sumY += it.Stretch
			sumZ += it.Shrink
		}
	}
	var best *node
	for _, a := range active {
		if a.pos == len(items)-1 && (best == nil || a.demerits < best.demerits) {
			best = a
		}
	}
	if best == nil {
		return nil
	}
	var out []Break
	for n := best; n != nil && n.prev != nil; n = n.prev {
		out = append(out, Break{Position: n.pos, Ratio: n.ratio, Flagged: n.isFlagged, Overfull: n.overfull})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func badness(r float64) float64 {
	if math.IsInf(r, 1) {
		return 1e6
	}
	b := 100 * math.Abs(r*r*r)
	return math.Min(b, 1e6)
}

func demerits(bad float64, it Item, p Params) float64 {
	l := p.LinePenalty + bad
	d := l * l
	if it.Kind == Penalty {
		switch {
		case it.Penalty >= 0:
			d += it.Penalty * it.Penalty
		case it.Penalty > -Infinity:
			d -= it.Penalty * it.Penalty
		}
	}
	return d
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
