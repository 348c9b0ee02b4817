package pdf

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	gtbidi "github.com/go-text/typesetting/bidi"

	"github.com/bindery/bindery/internal/typeset/hyphen"
	"github.com/bindery/bindery/internal/typeset/linebreak"
)

// piece is what a box or penalty of a paragraph draws.
type piece struct {
	f      *face
	size   float64
	glyphs []glyph
	link   string
	anchor string
	st     style
}

// para is a paragraph as Knuth–Plass items, with what each item draws.
type para struct {
	items  []linebreak.Item
	pieces []piece
	// rtl is set when the paragraph has right-to-left text, whose lines
	// reorderLine puts in visual order; rtlBase when its first strong
	// character is right-to-left (a Hebrew or Arabic paragraph).
	rtl, rtlBase bool
}

type align uint8

const (
	justify align = iota
	left
	center
	right
)

// part is a piece placed on a line. space is set when a word space
// precedes it on the line: the emitter draws a space glyph there (but
// for a run's first part, which its own text matrix places), so text
// extraction finds the word boundary, and only there, so that a word
// set as several pieces (at its hyphenation points, or in several
// styles) extracts whole.
type part struct {
	glyphs []glyph
	x      float64
	space  bool
	// rtl marks a right-to-left part of a line put in visual order
	// (reorderLine), and logical is its place in the line's logical
	// order: the emitter draws such parts in logical order (tjLogical).
	rtl     bool
	logical int
}

// run is a sequence of parts in one face, size and style on a line; the
// gaps between parts are word spaces.
type run struct {
	f     *face
	size  float64
	rise  float64
	link  string
	st    style
	parts []part
	end   float64 // x after the last glyph
}

// line is a set line of text; x positions are relative to its start.
type line struct {
	runs       []run
	width      float64
	dests      []string
	hyphenated bool    // ends at a hyphenation point, with a hyphen added
	ratio      float64 // adjustment ratio of a justified line (0 otherwise)
	overfull   bool    // wider than its measure even with its spaces fully shrunk

	// A word broken across lines (at a hyphenation point, after a hyphen
	// or a dash, or in an emergency) is marked for text extraction: the
	// runs of its first line from tailRun on stand for the whole word,
	// tail (the emitter wraps them in a span with that /ActualText), and
	// the first headRuns runs of the next line stand for nothing (a span
	// with an empty /ActualText). So the word extracts whole, on the line
	// where it starts, without the hyphen the break added. tailRun is -1
	// when the line does not end inside a word.
	tailRun  int
	tail     string
	headRuns int

	// words counts the words that begin on the line (see PageStart): a
	// line that starts inside a word broken on the line before does not
	// count that word again.
	words int
}

func (f *face) forStyle(s *shaper, st style) *face {
	switch {
	case st&mono != 0:
		return s.faces[4]
	case st&bold != 0 && st&italic != 0:
		return s.faces[3]
	case st&bold != 0:
		return s.faces[2]
	case st&italic != 0:
		return s.faces[1]
	}
	return s.faces[0]
}

// paraBuilder turns spans into items.
type paraBuilder struct {
	sh      *shaper
	hy      *hyphen.Hyphenator
	size    float64
	measure float64 // narrowest line, for emergency breaks
	p       para
	word    []piece
	wordTxt []string
	hyCache map[string][]int
	stop    *stopper
	// dirKnown is set once a strong character has said the
	// paragraph's direction (see noteDirection).
	dirKnown bool
}

func (l *layouter) newPara(size, measure, indent float64, base style) *paraBuilder {
	b := &paraBuilder{sh: l.sh, hy: l.hy, size: size, measure: measure - indent, hyCache: l.hyCache, stop: l.stop}
	if indent > 0 {
		b.p.items = append(b.p.items, linebreak.Item{Kind: linebreak.Box, Width: indent})
		b.p.pieces = append(b.p.pieces, piece{})
	}
	_ = base
	return b
}

func (b *paraBuilder) add(it linebreak.Item, p piece) {
	b.p.items = append(b.p.items, it)
	b.p.pieces = append(b.p.pieces, p)
}

// spans adds inline text in base style (xor-ed with each span's style).
func (b *paraBuilder) spans(spans []span, base style) {
	for _, sp := range spans {
		if sp.brk {
			b.flush()
			b.add(linebreak.Item{Kind: linebreak.Penalty, Penalty: linebreak.Infinity}, piece{})
			b.add(linebreak.Item{Kind: linebreak.Glue, Stretch: 1e6}, piece{})
			b.add(linebreak.Item{Kind: linebreak.Penalty, Penalty: -linebreak.Infinity}, piece{})
			continue
		}
		st := sp.style ^ (base & italic) | (base &^ italic)
		size := b.size
		if st&(super|sub) != 0 {
			size *= 0.62
		}
		if st&mono != 0 {
			size *= 0.88
		}
		f := (*face)(nil).forStyle(b.sh, st)
		anchor := sp.anchor
		t := sp.text
		for t != "" {
			if b.stop.stopped() {
				return // the render ends; what is built is thrown away
			}
			i := strings.IndexFunc(t, isSpace)
			if i < 0 {
				i = len(t)
			}
			if i > 0 {
				b.word = append(b.word, piece{f: f, size: size, link: sp.link, anchor: anchor, st: st})
				b.wordTxt = append(b.wordTxt, t[:i])
				anchor = ""
			}
			t = t[i:]
			if t == "" {
				break
			}
			_, n := utf8.DecodeRuneInString(t)
			t = t[n:]
			b.flush()
			b.space(f, size)
		}
		if anchor != "" { // anchor on an empty span
			b.word = append(b.word, piece{f: f, size: size, anchor: anchor, st: st})
			b.wordTxt = append(b.wordTxt, "")
		}
	}
	b.flush()
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u2002' || r == '\u2003' || r == '\u2009'
}

func (b *paraBuilder) space(f *face, size float64) {
	n := len(b.p.items)
	if n == 0 || b.p.items[n-1].Kind != linebreak.Box {
		return // collapse spaces, none at the start
	}
	w := float64(f.space.adv) * size
	b.add(linebreak.Item{Kind: linebreak.Glue, Width: w, Stretch: w * spaceStretch, Shrink: w * spaceShrink}, piece{f: f, size: size})
}

// flush turns the pending word into boxes and penalties.
func (b *paraBuilder) flush() {
	if len(b.word) == 0 {
		return
	}
	for i := range b.wordTxt {
		txt := strings.ReplaceAll(b.wordTxt[i], "\u2060", "")
		b.wordTxt[i] = strings.ReplaceAll(txt, "\u00ad", "")
		b.noteDirection(b.wordTxt[i])
	}
	b.fallback()
	total := 0.0
	for i := range b.word {
		txt := b.wordTxt[i]
		b.word[i].glyphs = b.sh.shape(b.word[i].f, txt)
		b.wordTxt[i] = txt
		total += width(b.word[i].glyphs) * b.word[i].size
	}
	emergency := total > b.measure
	for i, p := range b.word {
		b.pieceItems(p, b.wordTxt[i], emergency, len(b.word) == 1)
		if i+1 < len(b.word) && cjkBreak(lastRune(b.wordTxt[i]), firstRune(b.wordTxt[i+1])) {
			b.cjkGlue(p.size)
		}
	}
	b.word, b.wordTxt = b.word[:0], b.wordTxt[:0]
}

// fallback splits the pieces of the pending word where their face lacks
// characters, and sets those in the face the fallback chain gives (see
// shaper.fallbackFace): Noto Serif of the same style under a book's own
// family, then the fonts of Options.FontDirs. A combining mark or a
// default-ignorable character (a joiner, a variation selector) stays with
// the character before it. A word so split is not hyphenated (see
// pieceItems).
func (b *paraBuilder) fallback() {
	var word []piece
	var txts []string
	for i, p := range b.word {
		txt := b.wordTxt[i]
		if b.covered(p.f, txt) {
			word, txts = append(word, p), append(txts, txt)
			continue
		}
		start, cur := 0, p.f
		curDir := dirNeutral
		for j, r := range txt {
			f := p.f
			// A piece has one direction: split where it changes.
			d := strongDir(r)
			turn := d != dirNeutral && curDir != dirNeutral && d != curDir
			switch {
			case unicode.In(r, unicode.Cf, unicode.Variation_Selector) || j > 0 && unicode.In(r, unicode.Mn, unicode.Me):
				f = cur // a combining mark stays with its base; shaping hides an ignorable one the face lacks
			case !p.f.covers(r):
				if fb := b.sh.fallbackFace(p.f, r); fb != nil {
					f = fb
				}
			}
			if (f != cur || turn) && j > start {
				q := p
				q.f = cur
				word, txts = append(word, q), append(txts, txt[start:j])
				p.anchor = ""
				start = j
				curDir = dirNeutral
			}
			if d != dirNeutral {
				curDir = d
			}
			cur = f
		}
		p.f = cur
		word, txts = append(word, p), append(txts, txt[start:])
	}
	b.word, b.wordTxt = word, txts
}

// covered reports whether face f has every character of txt.
func (b *paraBuilder) covered(f *face, txt string) bool {
	for _, r := range txt {
		if !f.covers(r) {
			return false
		}
	}
	return true
}

// breakPoint is a place inside a word where a line may end: before rune
// index rune. hyphen is set where the break adds a hyphen (a hyphenation
// point), flagged where the line then ends in a hyphen, added or the
// word's own (so Knuth–Plass counts both against consecutive hyphens,
// as TeX does). A break after a hyphen the word has adds none: no
// "fellow--creature".
type breakPoint struct {
	rune    int
	flagged bool
	hyphen  bool
	kind    breakKind
}

// breakKind is what kind of place a break point is, for its penalty.
type breakKind uint8

const (
	breakDash      breakKind = iota // after a dash or the word's own hyphen
	breakHyphen                     // a hyphenation point (adds a hyphen)
	breakURL                        // an allowed point of a URL or code (adds nothing)
	breakEmergency                  // any character boundary of a word too long for the line
	breakCJK                        // between two characters of Chinese or Japanese (a stretchable glue, see cjk.go)
)

// penalty is the cost of breaking at p: a hyphenation point costs more
// than a break after a dash or a hyphen, which the word already has; a
// break inside a URL or code more than that, and one anywhere else in a
// word too long for the line most.
func (p breakPoint) penalty() float64 {
	switch p.kind {
	case breakHyphen:
		return hyphenPenalty
	case breakURL:
		return urlPenalty
	case breakEmergency:
		return emergencyPenalty
	}
	return dashPenalty
}

// pieceItems adds the boxes of one piece of a word, with penalties at its
// break points: hyphenation points (when whole is set: the piece is the
// whole word), after dashes, and, when emergency is set, between any two
// clusters.
func (b *paraBuilder) pieceItems(p piece, txt string, emergency, whole bool) {
	gs := p.glyphs
	var pts []breakPoint
	switch {
	case p.st&mono != 0 || isURL(txt):
		pts = urlBreakPoints(txt)
	case whole:
		pts = mergePoints(b.breakPoints(txt), cjkBreakPoints(txt))
	default:
		pts = cjkBreakPoints(txt)
	}
	if firstStrong(txt) == dirRTL {
		// Shaped right to left, its glyphs are in visual order, which
		// the break points (in logical order) cannot follow: a
		// right-to-left word breaks only at its spaces.
		pts, emergency = nil, false
	}
	if emergency {
		pts = withEmergency(pts, gs, p.size, b.measure)
	}
	start := 0
	pi := 0
	for i := 1; i < len(gs) && pi < len(pts); i++ {
		g := gs[i]
		if g.text == "" {
			continue
		}
		for pi < len(pts) && pts[pi].rune < g.cluster {
			pi++
		}
		if pi == len(pts) || pts[pi].rune != g.cluster {
			continue
		}
		bp := pts[pi]
		q := p
		q.glyphs = gs[start:i]
		b.add(linebreak.Item{Kind: linebreak.Box, Width: width(q.glyphs) * p.size}, q)
		p.anchor = ""
		start = i
		if bp.kind == breakCJK {
			b.cjkGlue(p.size)
			continue
		}
		hy := piece{f: p.f, size: p.size, link: p.link, st: p.st}
		it := linebreak.Item{Kind: linebreak.Penalty, Penalty: bp.penalty(), Flagged: bp.flagged}
		if bp.hyphen {
			hy.glyphs = []glyph{p.f.hyphen}
			it.Width = float64(p.f.hyphen.adv) * p.size
		}
		b.add(it, hy)
	}
	q := p
	q.glyphs = gs[start:]
	b.add(linebreak.Item{Kind: linebreak.Box, Width: width(q.glyphs) * p.size}, q)
}

// cjkGlue adds a break opportunity between two CJK characters: glue of
// no width that stretches (a justified line of CJK spreads its
// characters) and that is no word space (nothing is drawn for it; see
// setLines).
func (b *paraBuilder) cjkGlue(size float64) {
	b.add(linebreak.Item{Kind: linebreak.Glue, Stretch: cjkStretch * size}, piece{})
}

// breakPoints returns where a word may break: after a dash between two
// characters, and at the hyphenation points of its runs of letters.
func (b *paraBuilder) breakPoints(word string) []breakPoint {
	if pts, ok := b.hyCache[word]; ok {
		return decodePoints(pts)
	}
	runes := []rune(word)
	var pts []breakPoint
	for i := 0; i < len(runes); {
		r := runes[i]
		if (r == '\u2014' || r == '\u2013' || r == '-') && i > 0 && i+1 < len(runes) && runes[i+1] != '\u2014' {
			pts = append(pts, breakPoint{rune: i + 1, flagged: r == '-', kind: breakDash})
			i++
			continue
		}
		if !unicode.IsLetter(r) || b.hy == nil {
			i++
			continue
		}
		j := i
		for j < len(runes) && unicode.IsLetter(runes[j]) {
			j++
		}
		if j-i >= 5 && (i == 0 || !unicode.IsDigit(runes[i-1])) {
			for _, p := range b.hy.Points(string(runes[i:j])) {
				pts = append(pts, breakPoint{rune: i + p, flagged: true, hyphen: true, kind: breakHyphen})
			}
		}
		i = j
	}
	b.hyCache[word] = encodePoints(pts)
	return pts
}

// encodePoints and decodePoints pack break points for the cache: the
// rune index shifted left by two, flagged in bit 0 and hyphen in bit 1.
func encodePoints(pts []breakPoint) []int {
	out := make([]int, len(pts))
	for i, p := range pts {
		v := p.rune << 2
		if p.flagged {
			v |= 1
		}
		if p.hyphen {
			v |= 2
		}
		out[i] = v
	}
	return out
}

func decodePoints(v []int) []breakPoint {
	out := make([]breakPoint, len(v))
	for i, x := range v {
		out[i] = breakPoint{rune: x >> 2, flagged: x&1 == 1, hyphen: x&2 == 2}
		if out[i].hyphen {
			out[i].kind = breakHyphen
		}
	}
	return out
}

// isURL reports whether a word is a URL (it has a scheme's "://" or
// starts "www.") or an e-mail address (a "." after an "@"): it breaks
// where URLs may, never at hyphenation points.
func isURL(word string) bool {
	if strings.Contains(word, "://") || strings.HasPrefix(word, "www.") {
		return true
	}
	at := strings.IndexByte(word, '@')
	return at > 0 && strings.Contains(word[at+1:], ".")
}

// urlBreakPoints returns where a URL or a piece of code may break, by
// the Chicago Manual of Style's rule for URLs: after a double slash or
// a colon (not one before "//"); before a single slash, a tilde, a
// period, a comma, a hyphen, an underscore, a question mark, a number
// sign or a percent sign (or an e-mail address's "@"); before or after
// an equals sign or an ampersand. No hyphen is added (it would read as part of the URL);
// the line simply ends there.
func urlBreakPoints(word string) []breakPoint {
	runes := []rune(word)
	var pts []breakPoint
	add := func(i int) {
		if i <= 0 || i >= len(runes) || (len(pts) > 0 && pts[len(pts)-1].rune >= i) {
			return
		}
		pts = append(pts, breakPoint{rune: i, kind: breakURL})
	}
	for i, r := range runes {
		switch r {
		case '/':
			switch {
			case i+1 < len(runes) && runes[i+1] == '/': // the first of "//": after the second
			case i > 0 && runes[i-1] == '/':
				add(i + 1)
			default:
				add(i)
			}
		case ':':
			if !(i+1 < len(runes) && runes[i+1] == '/') {
				add(i + 1)
			}
		case '~', '.', ',', '-', '_', '?', '#', '%', '@':
			if i > 0 && !strings.ContainsRune("/.~,-_?#%@", runes[i-1]) {
				add(i)
			}
		case '=', '&':
			add(i)
			add(i + 1)
		}
	}
	return pts
}

// withEmergency adds a break point at every character boundary of gs,
// set at size, that pts lacks, for a word too long for the line, but
// only between two of its break points (or its ends) that are farther
// apart than the measure: a URL breaks at its allowed points, however
// loose the line, wherever they are close enough.
func withEmergency(pts []breakPoint, gs []glyph, size, measure float64) []breakPoint {
	// The glyph index where each segment between break points starts.
	starts := []int{0}
	k := 0
	for i, g := range gs {
		for k < len(pts) && pts[k].rune < g.cluster {
			k++
		}
		if k < len(pts) && pts[k].rune == g.cluster && g.text != "" && i > 0 {
			starts = append(starts, i)
			k++
		}
	}
	starts = append(starts, len(gs))
	long := make([]bool, len(gs)) // by glyph: in a segment wider than the measure
	for s := 0; s+1 < len(starts); s++ {
		a, b := starts[s], starts[s+1]
		if width(gs[a:b])*size > measure {
			for i := a; i < b; i++ {
				long[i] = true
			}
		}
	}
	out := make([]breakPoint, 0, len(pts))
	k = 0
	for i, g := range gs {
		if g.cluster == 0 || g.text == "" {
			continue
		}
		for k < len(pts) && pts[k].rune < g.cluster {
			out = append(out, pts[k])
			k++
		}
		if k < len(pts) && pts[k].rune == g.cluster || !long[i] {
			continue
		}
		out = append(out, breakPoint{rune: g.cluster, kind: breakEmergency})
	}
	return append(out, pts[k:]...)
}

// finish ends the paragraph: no break before the finishing glue, which
// fills the last line, and a forced break.
func (b *paraBuilder) finish() para {
	b.flush()
	// Drop trailing spaces and forced breaks.
	for n := len(b.p.items); n > 0 && b.p.items[n-1].Kind != linebreak.Box; n-- {
		b.p.items, b.p.pieces = b.p.items[:n-1], b.p.pieces[:n-1]
	}
	b.add(linebreak.Item{Kind: linebreak.Penalty, Penalty: linebreak.Infinity}, piece{})
	b.add(linebreak.Item{Kind: linebreak.Glue, Stretch: 1e6}, piece{})
	b.add(linebreak.Item{Kind: linebreak.Penalty, Penalty: -linebreak.Infinity}, piece{})
	return b.p
}

// breakLines chooses the breaks: Knuth–Plass for justified text,
// first-fit for ragged text.
// Knuth–Plass gives up when st is stopped.
func breakLines(p para, measure float64, a align, st *stopper) []linebreak.Break {
	if a == justify {
		prm := breakParams
		prm.Stop = st.stopFunc()
		return linebreak.Breaks(p.items, func(int) float64 { return measure }, prm)
	}
	return firstFit(p.items, measure)
}

// firstFit breaks ragged text: each line takes as much as fits.
func firstFit(items []linebreak.Item, measure float64) []linebreak.Break {
	var out []linebreak.Break
	w := 0.0
	last := -1
	lastW := 0.0
	lineStart := true
	for i, it := range items {
		switch it.Kind {
		case linebreak.Box:
			if !lineStart && w+it.Width > measure+1e-9 && last >= 0 {
				out = append(out, linebreak.Break{Position: last, Flagged: items[last].Flagged})
				w -= lastW
				last = -1
			}
			w += it.Width
			lineStart = false
		case linebreak.Glue:
			if i > 0 && items[i-1].Kind == linebreak.Box {
				last, lastW = i, w+it.Width
			}
			w += it.Width
		case linebreak.Penalty:
			if it.Penalty <= -linebreak.Infinity {
				out = append(out, linebreak.Break{Position: i})
				w, last, lineStart = 0, -1, true
				continue
			}
			if it.Penalty < linebreak.Infinity && w+it.Width <= measure+1e-9 {
				last, lastW = i, w
			}
		}
		if lineStart && it.Kind == linebreak.Glue {
			w = 0
		}
	}
	if len(out) == 0 || out[len(out)-1].Position != len(items)-1 {
		out = append(out, linebreak.Break{Position: len(items) - 1})
	}
	return out
}

// setLines typesets the lines of p at the given breaks.
func setLines(p para, breaks []linebreak.Break, measure float64, a align) []*line {
	var lines []*line
	var bp *gtbidi.Paragraph // made for a paragraph with right-to-left text
	start := 0
	cont := false // the line starts inside a word broken on the line before
	for _, br := range breaks {
		for start < br.Position && p.items[start].Kind != linebreak.Box {
			start++
		}
		r := br.Ratio
		if a != justify || math.IsInf(r, 0) || math.IsNaN(r) {
			r = 0
		}
		ln := &line{ratio: r, overfull: br.Overfull, tailRun: -1}
		// The first box of the word the line breaks inside, if any, and
		// the first box after the word the line starts inside.
		tailBox, headEnd := -1, -1
		if midWord(p.items, br.Position) {
			tailBox = wordStart(p.items, br.Position, start)
			ln.tail = wordText(p, tailBox)
		}
		if cont {
			headEnd = start
			for headEnd < br.Position && p.items[headEnd].Kind != linebreak.Glue {
				headEnd++
			}
		}
		x := 0.0
		var trailing float64
		space, split := false, false
		addPart := func(pc piece, x float64) {
			if pc.anchor != "" {
				ln.dests = append(ln.dests, pc.anchor)
			}
			if len(pc.glyphs) == 0 {
				return
			}
			if space || len(ln.runs) == 0 && !cont {
				ln.words++
			}
			rise := 0.0
			switch {
			case pc.st&super != 0:
				rise = pc.size * 0.6
			case pc.st&sub != 0:
				rise = -pc.size * 0.3
			}
			pt := part{glyphs: pc.glyphs, x: x, space: space}
			space = false
			if n := len(ln.runs); n > 0 && !split {
				last := &ln.runs[n-1]
				if last.f == pc.f && last.size == pc.size && last.rise == rise && last.link == pc.link && last.st == pc.st {
					last.parts = append(last.parts, pt)
					last.end = x + width(pc.glyphs)*pc.size
					return
				}
			}
			split = false
			ln.runs = append(ln.runs, run{f: pc.f, size: pc.size, rise: rise, link: pc.link, st: pc.st,
				parts: []part{pt}, end: x + width(pc.glyphs)*pc.size})
		}
		for i := start; i < br.Position; i++ {
			it := p.items[i]
			if i == tailBox {
				split = true
				ln.tailRun = len(ln.runs)
			}
			if i == headEnd {
				split = true
				ln.headRuns = len(ln.runs)
			}
			switch it.Kind {
			case linebreak.Box:
				addPart(p.pieces[i], x)
				x += it.Width
				trailing = 0
			case linebreak.Glue:
				gw := it.Width
				if r >= 0 {
					gw += r * it.Stretch
				} else {
					gw += r * it.Shrink
				}
				if it.Stretch >= 1e5 { // finishing glue: natural width
					gw = it.Width
				}
				x += gw
				trailing += gw
				// Glue of no width is a break between CJK characters,
				// not a word space.
				space = space || len(ln.runs) > 0 && it.Width > 0
			}
		}
		if cont && headEnd == br.Position { // the whole line is inside the word
			ln.headRuns = len(ln.runs)
			if tailBox >= 0 {
				ln.tailRun, ln.tail = -1, ""
			}
		}
		if it := p.items[br.Position]; it.Kind == linebreak.Penalty && it.Width > 0 {
			addPart(p.pieces[br.Position], x)
			x += it.Width
			trailing = 0
			ln.hyphenated = it.Flagged
		}
		if ln.tailRun >= len(ln.runs) { // nothing drawn of the word (empty pieces)
			ln.tailRun, ln.tail = -1, ""
		}
		cont = tailBox >= 0 || (cont && headEnd == br.Position)
		ln.width = x - trailing
		var off float64
		switch a {
		case center:
			off = (measure - ln.width) / 2
		case right:
			off = measure - ln.width
		}
		if off != 0 {
			for i := range ln.runs {
				ln.runs[i].end += off
				for j := range ln.runs[i].parts {
					ln.runs[i].parts[j].x += off
				}
			}
			ln.width += off
		}
		if p.rtl && len(ln.runs) > 0 {
			if bp == nil {
				bp = new(gtbidi.Paragraph)
			}
			reorderLine(ln, measure, p.rtlBase, bp)
		}
		lines = append(lines, ln)
		start = br.Position + 1
	}
	return lines
}

// midWord reports whether a break at items[pos] falls inside a word: at
// a penalty between two boxes.
func midWord(items []linebreak.Item, pos int) bool {
	return items[pos].Kind == linebreak.Penalty && pos > 0 && pos+1 < len(items) &&
		items[pos-1].Kind == linebreak.Box && items[pos+1].Kind == linebreak.Box
}

// wordStart returns the first box of the word that items[pos] is inside,
// not before the line's first item.
func wordStart(items []linebreak.Item, pos, lineStart int) int {
	i := pos
	for i > lineStart && items[i-1].Kind != linebreak.Glue {
		i--
	}
	for items[i].Kind != linebreak.Box {
		i++
	}
	return i
}

// wordText returns the text of the word whose first box is items[from]:
// its boxes up to the next word space, without the hyphens of its
// hyphenation points.
func wordText(p para, from int) string {
	var sb strings.Builder
	for i := from; i < len(p.items) && p.items[i].Kind != linebreak.Glue; i++ {
		if p.items[i].Kind != linebreak.Box {
			continue
		}
		for _, g := range p.pieces[i].glyphs {
			sb.WriteString(g.text)
		}
	}
	return sb.String()
}

// Justification settings, tuned on Frankenstein at 6×9 in (about 62
// characters a line): with them about 7.5% of the lines end in a hyphen
// (pandoc and xelatex: about 6%, on longer lines), one in two hundred
// has two in a row, and fewer than 3% have word spaces narrower than
// 0.2 em or wider than 0.45 em. TeX's \hyphenpenalty is 50, but its
// interword glue stretches less: the two together give a similar balance.
const (
	// hyphenPenalty is the cost of a line ending at a hyphenation point.
	hyphenPenalty = 150
	// dashPenalty is the cost of a line ending after a dash or a hyphen
	// inside a word ("fellow-|creature", "so—|and").
	dashPenalty = 50
	// urlPenalty is the cost of a line ending inside a URL or code, at a
	// point where they may break.
	urlPenalty = 100
	// emergencyPenalty is the cost of a break between two characters of
	// a word too long for the line.
	emergencyPenalty = 1000
	// spaceStretch and spaceShrink are how far a word space may stretch
	// and shrink, as fractions of its natural width (the font's space);
	// Knuth–Plass only exceeds the stretch where nothing better exists.
	spaceStretch = 0.75
	spaceShrink  = 0.3
)

// breakParams are the line-breaking parameters of justified text: TeX's,
// plus demerits for a hyphen on the penultimate line.
var breakParams = func() linebreak.Params {
	p := linebreak.DefaultParams
	p.FinalFlaggedDemerits = 5000
	return p
}()
