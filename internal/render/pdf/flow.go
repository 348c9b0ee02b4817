package pdf

import (
	"bytes"
	"image"
	_ "image/jpeg" // image sizes
	_ "image/png"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/typeset/hyphen"
	"github.com/bindery/bindery/internal/typeset/linebreak"
)

// boxLine is a line of text inside a vbox: x from the box's left, base
// the baseline's distance below the box's top.
type boxLine struct {
	x, base float64
	ln      *line
	size    float64
	tag     *selem // its structure element (structure.go)
}

// rule is a line inside a vbox from (x0, y) to (x1, y+dy), y below the
// box's top: horizontal when dy is 0. w is its width.
type rule struct{ x0, x1, y, w, dy float64 }

// figure is an image inside a vbox.
type figure struct {
	path       string // read again when the page is written (Book.Images)
	x, y, w, h float64
	tag        *selem // its Figure structure element
}

// vbox is one unbreakable piece of a page's vertical list: a line of
// text, a table row, a figure, a rule or a space. Pages break between
// vboxes only.
type vbox struct {
	h, d          float64 // height above and depth below the baseline
	asc           float64 // ink above the baseline, for the first box of a page
	x             float64 // from the text block's left edge
	lines         []boxLine
	rules         []rule
	img           *figure
	space         bool // discardable vertical space
	noBreakBefore bool // widow, orphan and keep-with-next control
	dests         []string
	outline       string    // bookmark title (section headings)
	table         bool      // a table row (may be cramped when columns do not fit)
	notes         [][]*vbox // footnotes first referred to in this box, laid out, for the page's foot
	parStart      bool      // a paragraph's first line: the gap above it may stretch (see fillPage)
}

// ctx is the measure and type of the block being laid out.
type ctx struct {
	left, width float64
	size, lead  float64
	noIndent    bool
	base        style
}

// layouter lays out the blocks of one flow (a chapter, the contents) as
// a vertical list of vboxes.
type layouter struct {
	g        geometry
	sh       *shaper
	hy       *hyphen.Hyphenator
	hyCache  map[string][]int
	images   func(string) ([]byte, error)
	boxes    []*vbox
	keep     int // lines still to keep with a preceding heading
	ci       int
	pendDest []string
	stop     *stopper // nil: never
	tag      *selem   // the structure element being laid out, nil for none
}

func (l *layouter) push(b *vbox) {
	if l.keep > 0 {
		b.noBreakBefore = true
		if len(b.lines) > 0 {
			l.keep--
		}
	}
	if len(l.pendDest) > 0 && !b.space {
		b.dests = append(b.dests, l.pendDest...)
		l.pendDest = nil
	}
	l.tagLines(b)
	l.boxes = append(l.boxes, b)
}

func (l *layouter) vspace(h float64) {
	if n := len(l.boxes); n == 0 || l.boxes[n-1].space {
		return
	}
	l.push(&vbox{h: h, space: true})
}

func (l *layouter) body() ctx {
	return ctx{width: l.g.width, size: l.g.size, lead: l.g.lead}
}

// lineBox returns the vbox of a text line of the given size and leading.
func lineBox(ln *line, x, size, lead float64, f *face) *vbox {
	d := max(0.3*lead, f.desc*size)
	b := &vbox{h: lead - d, d: d, asc: f.ascent * size, x: x}
	b.lines = []boxLine{{base: lead - d, ln: ln, size: size}}
	b.dests = ln.dests
	return b
}

// text typesets spans and pushes the lines. Widows and orphans are
// avoided by forbidding a page break after the first and before the
// last line.
func (l *layouter) text(spans []span, c ctx, indent float64, a align) {
	defer l.para()()
	pb := l.newPara(c.size, c.width, indent, c.base)
	pb.spans(spans, c.base)
	p := pb.finish()
	if l.stop.stopped() {
		return
	}
	if a != justify {
		// Ragged text does not hyphenate (it may break after a hyphen
		// the text has, which adds nothing).
		for i := range p.items {
			if p.items[i].Flagged && p.items[i].Width > 0 {
				p.items[i].Penalty = linebreak.Infinity
			}
		}
	}
	breaks := breakLines(p, c.width, a, l.stop)
	if l.stop.stopped() {
		return
	}
	lines := setLines(p, breaks, c.width, a)
	f := l.sh.faces[0].forStyle(l.sh, c.base)
	for k, ln := range lines {
		b := lineBox(ln, c.left, c.size, c.lead, f)
		if k == 1 || (k > 0 && k == len(lines)-1) {
			b.noBreakBefore = true
		}
		b.parStart = k == 0
		l.push(b)
	}
}

// blocks lays out a sequence of blocks; the first paragraph is not
// indented when c.noIndent is set.
func (l *layouter) blocks(bs []block, c ctx) {
	noIndent := c.noIndent
	for i, b := range bs {
		if l.stop.stopped() {
			return
		}
		c.noIndent = noIndent
		noIndent = false
		switch b.kind {
		case bPara:
			indent := c.size * 1.5
			if c.noIndent {
				indent = 0
			}
			l.text(b.spans, c, indent, justify)
		case bHeading:
			l.heading(b, c)
			noIndent = true
		case bQuote:
			end := l.open("BlockQuote")
			l.vspace(c.lead / 2)
			q := c
			q.left += c.size * 1.5
			q.width -= c.size * 3
			q.noIndent = true
			l.blocks(b.children, q)
			end()
			l.vspace(c.lead / 2)
			noIndent = true
		case bList:
			l.list(b, c)
			noIndent = true
		case bCode:
			l.code(b.code, c)
			noIndent = true
		case bRule:
			l.vspace(c.lead / 2)
			w := min(c.width/4, 72.0)
			x0 := c.left + (c.width-w)/2
			l.push(&vbox{h: c.lead, rules: []rule{{x0: x0, x1: x0 + w, y: c.lead / 2, w: 0.5}}})
			l.vspace(c.lead / 2)
			noIndent = true
		case bTable:
			l.table(b, c)
			noIndent = true
		case bFigure:
			l.figure(b, c)
			noIndent = true
		}
		_ = i
	}
}

func (l *layouter) heading(b block, c ctx) {
	size, st, a := c.size, bold, left
	switch b.level {
	case 1, 2:
		size, a = c.size*1.25, center
	case 3:
		size = c.size * 1.1
	default:
		st = bold | italic
	}
	l.vspace(c.lead)
	if b.anchor != "" {
		l.pendDest = append(l.pendDest, b.anchor)
	}
	h := c
	h.size, h.lead, h.base = size, size*1.3, st
	start := len(l.boxes)
	end := l.open(headingTag(b.level))
	l.text(b.spans, h, 0, a)
	end()
	for _, bx := range l.boxes[start+1:] {
		bx.noBreakBefore = true
	}
	if start < len(l.boxes) && b.level <= 2 && len(l.boxes[start].dests) > 0 {
		l.boxes[start].outline = plain(b.spans)
	}
	l.keep = 2
	l.vspace(c.lead / 2)
}

func (l *layouter) list(b block, c ctx) {
	defer l.open("L")()
	l.vspace(c.lead / 2)
	indent := c.size * 1.8
	for i, item := range b.items {
		marker := "\u2022"
		if b.ordered {
			marker = strconv.Itoa(b.start+i) + "."
		}
		task := taskNone
		if i < len(b.tasks) {
			task = b.tasks[i]
		}
		ic := c
		ic.left += indent
		ic.width -= indent
		ic.noIndent = true
		start := len(l.boxes)
		endItem := l.open("LI")
		var lbl *selem
		if l.tag != nil {
			lbl = l.tag.add("Lbl")
		}
		endBody := l.open("LBody")
		l.blocks(item, ic)
		endBody()
		endItem()
		// Hang the marker left of the item's first line.
		for _, bx := range l.boxes[start:] {
			if len(bx.lines) == 0 {
				continue
			}
			f, size := l.sh.faces[0], c.size
			gs := l.sh.shape(f, marker)
			if task != taskNone {
				f, gs = l.taskBox(task)
				size *= 1.35 // the mono square is small: about the x-height
			}
			w := width(gs) * size
			mk := &line{runs: []run{{f: f, size: size, parts: []part{{glyphs: gs}}, end: w}}, width: w}
			x := c.left + indent - c.size*0.5 - w - bx.x
			base := bx.lines[0].base
			bx.lines = append(bx.lines, boxLine{x: x, base: base, ln: mk, size: size, tag: lbl})
			if task == taskDone && gs[0].alias {
				bx.rules = append(bx.rules, checkMark(f, x, base, size)...)
			}
			break
		}
	}
	l.vspace(c.lead / 2)
}

// taskBox returns the glyph of a task list item's box: the white square
// of the mono face (the text face has none), standing for U+2610 BALLOT
// BOX or, when done, U+2611 BALLOT BOX WITH CHECK, which the text face
// lacks too; the check is drawn over it (checkMark). Where the mono face
// lacks the square, the item keeps its literal "[ ]" or "[x]".
func (l *layouter) taskBox(t taskState) (*face, []glyph) {
	f := l.sh.faces[4]
	text := "\u2610"
	if t == taskDone {
		text = "\u2611"
	}
	if !f.covers('\u25a1') {
		f = l.sh.faces[0]
		lit := "[ ]"
		if t == taskDone {
			lit = "[x]"
		}
		return f, l.sh.shape(f, lit)
	}
	g := l.sh.shape(f, "\u25a1")[0]
	g.text, g.alias = text, true
	return f, []glyph{g}
}

// checkMark is a check drawn as two strokes in the ink box of the square
// of face f set at x on the baseline base (vbox coordinates), at size.
func checkMark(f *face, x, base, size float64) []rule {
	upem := float64(f.sf.UnitsPerEm)
	left, top, w, h := 0.1*size, 0.5*size, 0.4*size, 0.4*size // a guess if the font has no extents
	if id, ok := f.gt.NominalGlyph('\u25a1'); ok {
		if ext, ok := f.gt.GlyphExtents(id); ok && ext.Width > 0 && ext.Height < 0 {
			left, top = float64(ext.XBearing)/upem*size, float64(ext.YBearing)/upem*size
			w, h = float64(ext.Width)/upem*size, -float64(ext.Height)/upem*size
		}
	}
	lw := size * 0.06
	at := func(fx, fy float64) (float64, float64) { // fractions of the box from its bottom left
		return x + left + w*fx, base - top + h*(1-fy)
	}
	x0, y0 := at(0.22, 0.52)
	x1, y1 := at(0.42, 0.25)
	x2, y2 := at(0.8, 0.8)
	return []rule{
		{x0: x0, x1: x1, y: y0, dy: y1 - y0, w: lw},
		{x0: x1, x1: x2, y: y1, dy: y2 - y1, w: lw},
	}
}

func (l *layouter) code(src string, c ctx) {
	defer l.open("Code")()
	f := l.sh.faces[4]
	size := c.size * 0.85
	lead := size * 1.25
	x := c.left + c.size
	measure := c.width - c.size
	l.vspace(c.lead / 2)
	var lines []*line
	var cont []bool // the line continues the one before (a wrapped line)
	hang := 2 * float64(f.space.adv) * size
	for _, raw := range strings.Split(strings.ReplaceAll(src, "\t", "    "), "\n") {
		if l.stop.stopped() {
			return
		}
		gs := l.sh.shape(f, raw)
		allowed := codeBreaks(raw)
		// Wrap where code may break (after a space, or where a URL may:
		// see urlBreakPoints), else at any character: code is never
		// hyphenated. Wrapped lines hang in by two spaces, which marks
		// them as continuations.
		first := true
		for {
			m := measure
			if !first {
				m -= hang
			}
			w, cut, last := 0.0, len(gs), -1
			for i, g := range gs {
				if i > 0 && g.text != "" && allowed[g.cluster] {
					last = i
				}
				if w+float64(g.adv)*size > m && i > 0 && g.text != "" {
					cut = i
					if last > 0 {
						cut = last
					}
					break
				}
				w += float64(g.adv) * size
			}
			seg := gs[:cut]
			ln := &line{width: width(seg) * size}
			if len(seg) > 0 {
				ln.runs = []run{{f: f, size: size, st: mono, parts: []part{{glyphs: seg}}, end: ln.width}}
			}
			lines = append(lines, ln)
			cont = append(cont, !first)
			first = false
			gs = gs[cut:]
			if len(gs) == 0 {
				break
			}
		}
	}
	for k, ln := range lines {
		lx := x
		if cont[k] {
			lx += hang
		}
		b := lineBox(ln, lx, size, lead, f)
		if k == 1 || (k > 0 && k == len(lines)-1) {
			b.noBreakBefore = true
		}
		l.push(b)
	}
	l.vspace(c.lead / 2)
}

// codeBreaks returns, by rune index, where a line of a code block may
// wrap: before a character that follows a space, and at the points
// where a URL may break.
func codeBreaks(line string) map[int]bool {
	out := map[int]bool{}
	prev := rune(-1)
	i := 0
	for _, r := range line {
		if prev == ' ' && r != ' ' {
			out[i] = true
		}
		prev = r
		i++
	}
	for _, p := range urlBreakPoints(line) {
		out[p.rune] = true
	}
	return out
}

// cell typesets spans ragged in a measure and returns the lines.
func (l *layouter) cellLines(spans []span, measure, size float64, base style, a align) []*line {
	pb := l.newPara(size, measure, 0, base)
	pb.spans(spans, base)
	p := pb.finish()
	return setLines(p, firstFit(p.items, measure), measure, a)
}

func (l *layouter) table(b block, c ctx) {
	if len(b.rows) == 0 {
		return
	}
	ncol := 0
	for _, r := range b.rows {
		if l.stop.stopped() {
			return
		}
		ncol = max(ncol, len(r))
	}
	size := c.size * 0.9
	lead := size * 1.3
	pad := size * 0.5
	// Natural and minimal column widths.
	nat := make([]float64, ncol)
	minw := make([]float64, ncol)
	for ri, r := range b.rows {
		st := style(0)
		if ri == 0 && b.header {
			st = bold
		}
		for ci, cell := range r {
			ln := l.cellLines(cell, 1e6, size, st, left)
			if len(ln) > 0 {
				nat[ci] = max(nat[ci], ln[0].width)
			}
			for _, w := range l.cellLines(cell, 1, size, st, left) {
				minw[ci] = max(minw[ci], w.width)
			}
		}
	}
	avail := c.width - 2*pad*float64(ncol)
	widths := make([]float64, ncol)
	sumNat, sumMin := 0.0, 0.0
	for i := range nat {
		sumNat += nat[i]
		sumMin += minw[i]
	}
	for i := range widths {
		switch {
		case sumNat <= avail:
			widths[i] = nat[i] + (avail-sumNat)/float64(ncol)*0
		case sumMin < avail && sumNat > sumMin:
			widths[i] = minw[i] + (avail-sumMin)*(nat[i]-minw[i])/(sumNat-sumMin)
		default:
			widths[i] = avail / float64(ncol)
		}
		widths[i] = max(widths[i], 1)
	}
	total := 0.0
	for _, w := range widths {
		total += w + 2*pad
	}
	x0 := c.left + (c.width-total)/2
	l.vspace(c.lead / 2)
	tbl := l.tag
	if tbl != nil {
		tbl = tbl.add("Table")
	}
	for ri, r := range b.rows {
		var tr *selem
		if tbl != nil {
			tr = tbl.add("TR")
		}
		st := style(0)
		if ri == 0 && b.header {
			st = bold
		}
		bx := &vbox{x: x0, table: true}
		x := 0.0
		nlines := 1
		for ci := 0; ci < ncol; ci++ {
			var cell []span
			if ci < len(r) {
				cell = r[ci]
			}
			a := left
			if ci < len(b.aligns) {
				a = b.aligns[ci]
			}
			lines := l.cellLines(cell, widths[ci], size, st, a)
			nlines = max(nlines, len(lines))
			td := tableCell(tr, ri == 0 && b.header)
			for k, ln := range lines {
				bx.lines = append(bx.lines, boxLine{x: x + pad, base: pad + lead*float64(k) + lead*0.75, ln: ln, size: size, tag: td})
			}
			x += widths[ci] + 2*pad
		}
		bx.h = float64(nlines)*lead + 2*pad
		bx.asc = bx.h
		if ri == 0 {
			bx.rules = append(bx.rules, rule{x0: 0, x1: total, y: 0, w: 0.8})
		}
		if ri == 0 && b.header {
			bx.rules = append(bx.rules, rule{x0: 0, x1: total, y: bx.h, w: 0.4})
		}
		if ri == len(b.rows)-1 {
			bx.rules = append(bx.rules, rule{x0: 0, x1: total, y: bx.h, w: 0.8})
		}
		if ri == 1 && b.header {
			bx.noBreakBefore = true
		}
		l.push(bx)
	}
	l.vspace(c.lead / 2)
}

func (l *layouter) figure(b block, c ctx) {
	var data []byte
	if l.images != nil {
		data, _ = l.images(b.image)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if data == nil || err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		// No image (a draft build of a book whose image is missing): a
		// visible placeholder, the alt text as a caption-like paragraph.
		ic := c
		ic.base = italic
		l.text(append([]span{{text: "[missing image] "}}, b.spans...), ic, 0, center)
		return
	}
	maxH := l.g.height * 0.7
	w := c.width
	h := w * float64(cfg.Height) / float64(cfg.Width)
	if natW := float64(cfg.Width) * 72 / 150; natW < w { // no upscaling beyond 150 dpi
		w, h = natW, natW*float64(cfg.Height)/float64(cfg.Width)
	}
	if h > maxH {
		w, h = w*maxH/h, maxH
	}
	l.vspace(c.lead / 2)
	// The image's bytes are not kept: a book of many images would hold
	// them all until the end of the layout. The page reads them again.
	bx := &vbox{x: c.left, img: &figure{path: b.image, x: (c.width - w) / 2, y: 0, w: w, h: h}}
	total := h
	var caption *selem
	if l.tag != nil {
		bx.img.tag = l.tag.add("Figure")
		bx.img.tag.alt = plain(b.spans)
		caption = l.tag.add("P")
	}
	if len(b.spans) > 0 {
		size := c.size * 0.9
		lead := size * 1.3
		total += lead * 0.5
		for _, ln := range l.cellLines(b.spans, c.width, size, italic, center) {
			total += lead
			bx.lines = append(bx.lines, boxLine{base: total - lead*0.3, ln: ln, size: size, tag: caption})
		}
	}
	bx.h, bx.asc = total, total
	l.push(bx)
	l.vspace(c.lead / 2)
}
