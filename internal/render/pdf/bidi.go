package pdf

import (
	"unicode"

	gtbidi "github.com/go-text/typesetting/bidi"
	"golang.org/x/text/unicode/bidi"
)

// Right-to-left text (Hebrew, Arabic) is set in two steps. Each piece of
// a word is shaped in its own direction (shaper.shape): HarfBuzz returns
// the glyphs of a right-to-left word in visual order, Arabic joined. Then
// each line, once broken, is put in visual order by the Unicode
// bidirectional algorithm (UAX #9, the implementation of go-text's bidi
// package, a port of golang.org/x/text/unicode/bidi that also reports
// the embedding levels rule L2 needs): the pieces of the line are
// reordered by their levels, and a paragraph whose first strong
// character is right-to-left is set from the right margin. The emitter
// draws the right-to-left parts of a run in logical order, each glyph at
// its visual place (tjLogical): poppler orders text by position, MuPDF
// and pdfminer by drawing order, and all three then give the logical
// order back (build.TestEveryGlyphExtracts, TestBidiExtractsLogicalOrder).

// Directions of strongDir.
const (
	dirNeutral int8 = iota
	dirLTR
	dirRTL
)

// strongDir returns the strong direction of r (bidi classes L, and R or
// AL), or dirNeutral for weak and neutral characters (digits,
// punctuation, spaces, marks).
func strongDir(r rune) int8 {
	if r < 0x590 {
		if unicode.IsLetter(r) {
			return dirLTR
		}
		return dirNeutral
	}
	p, _ := bidi.LookupRune(r)
	switch p.Class() {
	case bidi.L:
		return dirLTR
	case bidi.R, bidi.AL:
		return dirRTL
	}
	return dirNeutral
}

// firstStrong returns the direction of the first strong character of s.
func firstStrong(s string) int8 {
	for _, r := range s {
		if d := strongDir(r); d != dirNeutral {
			return d
		}
	}
	return dirNeutral
}

// hasRTL reports whether s has a right-to-left character; Latin text
// pays a byte comparison per byte.
func hasRTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xd6 { // the lead byte of U+0580 and above
			for _, r := range s[i:] {
				if r >= 0x590 && strongDir(r) == dirRTL {
					return true
				}
			}
			return false
		}
	}
	return false
}

// noteDirection records what the paragraph's text says of its
// direction: whether it has right-to-left characters, and whether its
// first strong character is right-to-left (UAX #9 rules P2 and P3).
func (b *paraBuilder) noteDirection(txt string) {
	if !b.dirKnown {
		if d := firstStrong(txt); d != dirNeutral {
			b.dirKnown, b.p.rtlBase = true, d == dirRTL
		}
	}
	if !b.p.rtl && hasRTL(txt) {
		b.p.rtl = true
	}
}

// bidiItem is a part of a line, or the gap before one, in reorderLine.
type bidiItem struct {
	run   int     // the run of the part; -1 for a gap
	pt    part    // the part
	w     float64 // its width (of the gap, for a gap)
	space bool    // a gap that is a word space
	level gtbidi.Level
}

// reorderLine puts ln in visual order: the levels of its parts come from
// the bidi algorithm run on the line's text at the paragraph's direction
// (rtlBase), a gap between parts takes the lower level of its two
// neighbours (a space between two right-to-left words stays between
// them), and rule L2 reverses every sequence at or above each odd
// level. A right-to-left paragraph's line is set from the right margin
// (its indent on the right). A line broken inside a word loses the
// /ActualText of the broken word when its parts move.
func reorderLine(ln *line, measure float64, rtlBase bool, bp *gtbidi.Paragraph) {
	var items []bidiItem
	var text []rune
	var starts []int // by item: its first rune in text, -1 for gaps
	mark := '\u200e' // LRM: the paragraph's direction, whatever the line's first strong character
	if rtlBase {
		mark = '\u200f'
	}
	text = append(text, mark)
	prevEnd := 0.0
	for ri, r := range ln.runs {
		for _, pt := range r.parts {
			w := width(pt.glyphs) * r.size
			if len(items) > 0 {
				items = append(items, bidiItem{run: -1, w: pt.x - prevEnd, space: pt.space})
				starts = append(starts, -1)
				if pt.space || pt.x-prevEnd > 0.2*r.size {
					text = append(text, ' ')
				}
			}
			items = append(items, bidiItem{run: ri, pt: pt, w: w})
			starts = append(starts, len(text))
			for _, g := range pt.glyphs {
				if !g.alias {
					text = append(text, []rune(g.text)...)
				}
			}
			prevEnd = pt.x + w
		}
	}
	if len(items) == 0 {
		return
	}
	runs := bp.Segment(text, gtbidi.LeftToRight)
	levels := make([]gtbidi.Level, len(text))
	for i := 0; i < runs.NumRuns(); i++ {
		r := runs.Run(i)
		for k := r.Start; k < r.End && k < len(levels); k++ {
			levels[k] = r.Level
		}
	}
	base := gtbidi.Level(0)
	if rtlBase {
		base = 1
	}
	for i := range items {
		if items[i].run < 0 {
			continue
		}
		it := &items[i]
		it.level = base
		end := len(text)
		if i+2 < len(items) {
			end = starts[i+2]
		}
		lv, found := base, false
		for k := starts[i]; k < end && k < len(text); k++ {
			if strongDir(text[k]) != dirNeutral || unicode.IsDigit(text[k]) {
				lv, found = levels[k], true
				break
			}
		}
		if !found && starts[i] < len(text) && starts[i] < end {
			lv = levels[starts[i]]
		}
		it.level = lv
	}
	for i := 1; i+1 < len(items); i += 2 {
		items[i].level = min(items[i-1].level, items[i+1].level)
	}
	order := make([]int, len(items))
	var top gtbidi.Level
	lowOdd := gtbidi.Level(127)
	for i, it := range items {
		order[i] = i
		top = max(top, it.level)
		if it.level%2 == 1 {
			lowOdd = min(lowOdd, it.level)
		}
	}
	if lowOdd == 127 && !rtlBase {
		return // all left to right: the logical order is the visual one
	}
	for lv := top; lv >= lowOdd && lv > 0; lv-- {
		for i := 0; i < len(order); {
			if items[order[i]].level < lv {
				i++
				continue
			}
			j := i
			for j < len(order) && items[order[j]].level >= lv {
				j++
			}
			for a, b := i, j-1; a < b; a, b = a+1, b-1 {
				order[a], order[b] = order[b], order[a]
			}
			i = j
		}
	}
	first := ln.runs[0].parts[0].x
	last := items[len(items)-1]
	x := first
	if rtlBase {
		x = measure - (last.pt.x + last.w)
	}
	old := ln.runs
	ln.runs = nil
	space := false
	for _, k := range order {
		it := items[k]
		if it.run < 0 {
			x += it.w
			space = space || it.space
			continue
		}
		r := old[it.run]
		pt := it.pt
		pt.x, pt.space = x, space
		pt.rtl, pt.logical = it.level%2 == 1, k
		space = false
		if n := len(ln.runs); n > 0 {
			l := &ln.runs[n-1]
			if l.f == r.f && l.size == r.size && l.rise == r.rise && l.link == r.link && l.st == r.st {
				l.parts = append(l.parts, pt)
				l.end = x + it.w
				x += it.w
				continue
			}
		}
		r.parts = []part{pt}
		r.end = x + it.w
		ln.runs = append(ln.runs, r)
		x += it.w
	}
	ln.width = max(ln.width, x)
	ln.tailRun, ln.tail, ln.headRuns = -1, "", 0
}
