package pdf

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/render/pdf/pdfwrite"
	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

// Render typesets b and writes the PDF to w. It returns ErrNoChapters for
// a book without chapters, an error for an unknown page size or
// impossible margins or font size, and any write error of w. Images that
// cannot be read are replaced by their alt text, not reported.
//
// A font of b.Fonts that cannot be used is a *FontError. Such fonts are
// checked before use, but they come from the book's author, and go-text
// and the subsetter read deep into them: a panic while rendering with
// them is reported as a *FontError too, never passed on.
func Render(w io.Writer, b *Book, opts Options) error {
	return RenderContext(context.Background(), w, b, opts)
}

// RenderContext is Render that stops soon after ctx ends — within a word,
// a few thousand line-breaking items, an image row or 256 KiB of
// compression — and returns ctx's error; what was written to w by then
// is an incomplete PDF, for the caller to discard.
func RenderContext(ctx context.Context, w io.Writer, b *Book, opts Options) (err error) {
	if b.Fonts != nil {
		defer func() {
			if r := recover(); r != nil {
				err = &FontError{Name: "font", Err: fmt.Errorf("malformed font: %v", r)}
			}
		}()
	}
	st := newStopper(ctx)
	d, err := layout(b, opts, st)
	if err != nil {
		return err
	}
	return d.write(w, b, st)
}

// emitter writes a laid-out document.
type emitter struct {
	d        *document
	pw       *pdfwrite.Writer
	pageRefs []pdfwrite.Ref
	fontIdx  map[*sfnt.Font]int // PDF font index by font program: faux styles share their font's
	fonts    []*pdfwrite.Font
	seen     [][]bool // glyphs already recorded with Use, by font index
	images   map[imageKey]pdfwrite.Ref
	read     func(string) ([]byte, error) // Book.Images
	buf      []byte
	mk       marker // marked content and the structure tree (structure.go)
}

// imageKey is an image at a printed size: an image printed at two sizes
// is embedded at the resolution of each.
type imageKey struct {
	path string
	w, h int // pixels at imageDPI
}

// imageDPI is the resolution images are embedded at, at most: an offset
// printer's (an image with fewer pixels keeps them all).
const imageDPI = 300

func (d *document) write(w io.Writer, b *Book, st *stopper) error {
	pw := pdfwrite.New(w)
	pw.SetStop(st.now)
	e := &emitter{d: d, pw: pw, fontIdx: map[*sfnt.Font]int{}, images: map[imageKey]pdfwrite.Ref{}, read: b.Images}
	e.mk.root, e.mk.npages = d.tags, len(d.pages)
	if e.mk.root == nil {
		e.mk.root = &selem{typ: "Document"}
	}
	catalog, pagesRef, info, meta := pw.Alloc(), pw.Alloc(), pw.Alloc(), pw.Alloc()
	e.pageRefs = make([]pdfwrite.Ref, len(d.pages))
	for i := range e.pageRefs {
		e.pageRefs[i] = pw.Alloc()
	}
	for i, p := range d.pages {
		if err := st.now(); err != nil {
			return err
		}
		e.page(i, p, pagesRef)
	}
	var kids strings.Builder
	for i, r := range e.pageRefs {
		if i > 0 {
			kids.WriteByte(' ')
		}
		kids.WriteString(r.String())
	}
	// The page tree, pages, links, outline and structure tree are small
	// dictionaries by the hundred: packed into compressed object streams,
	// they cost less than the structure tree adds.
	pw.Packed(pagesRef, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), len(e.pageRefs)))

	outlines := e.outline()
	structRoot := e.writeStructure()
	lang := b.Language
	if lang == "" {
		lang = "en"
	}
	labels := fmt.Sprintf("<< /Nums [0 << /S /r >> %d << /S /D >>] >>", d.frontCount)
	pw.Object(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %s /Outlines %s /PageMode /UseOutlines /PageLabels %s /Metadata %s /Lang %s /ViewerPreferences << /DisplayDocTitle true >> /StructTreeRoot %s /MarkInfo << /Marked true >> >>",
		pagesRef, outlines, labels, meta, pdfwrite.Text(lang), structRoot))

	var inf strings.Builder
	inf.WriteString("<< /Title " + pdfwrite.Text(b.Title))
	if len(b.Authors) > 0 {
		inf.WriteString(" /Author " + pdfwrite.Text(strings.Join(b.Authors, ", ")))
	}
	if b.Description != "" {
		inf.WriteString(" /Subject " + pdfwrite.Text(b.Description))
	}
	inf.WriteString(" /Creator (Bindery) /Producer (Bindery PDF renderer) >>")
	pw.Object(info, inf.String())
	pw.Stream(meta, "/Type /Metadata /Subtype /XML", []byte(xmp(b)), false)

	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %v %d", b.Title, b.Identifier, b.Date, b.Authors, len(d.pages))
	for _, c := range b.Chapters {
		h.Write(c.Markdown)
	}
	if err := st.now(); err != nil {
		return err
	}
	return pw.Close(catalog, info, h.Sum(nil)[:16])
}

// origin returns the PDF coordinates of the text block's top-left corner
// on page i (0-based; even indexes are right-hand pages).
func (d *document) origin(i int) (x, y float64) {
	x = d.g.m.Inner
	if i%2 == 1 {
		x = d.g.m.Outer
	}
	return x, d.g.pageH - d.g.m.Top
}

// headBaseline and folioBaseline are the PDF y of the running head and
// the folio.
func (d *document) headBaseline() float64 {
	return d.g.pageH - d.g.m.Top + max(d.g.lead, d.g.m.Top*0.42)
}

func (d *document) folioBaseline() float64 {
	return d.g.m.Bottom - max(d.g.lead*1.2, d.g.m.Bottom*0.45)
}

type annot struct {
	rect [4]float64
	link string
	el   *selem // its Link structure element
}

func (e *emitter) page(i int, p *page, parent pdfwrite.Ref) {
	d := e.d
	ox, oy := d.origin(i)
	e.buf = e.buf[:0]
	var annots []annot
	fontsUsed := map[int]bool{}
	var imgs []string
	var rules []byte
	var figs []placedFig

	mk := &e.mk
	mk.page = i
	e.buf = append(e.buf, "BT\n"...)
	cur := textState{}
	// drawLine draws a line of the structure element tag, or of an
	// artifact when tag is nil (the caller marks it). The element's
	// marked content changes only outside the spans of /ActualText,
	// which nest inside it.
	drawLine := func(bl boxLine, tag *selem, x, base float64) {
		ln := bl.ln
		inSpan := false
		for ri, r := range ln.runs {
			var el *selem
			if tag != nil {
				el = mk.element(tag, r.link)
				if !inSpan {
					e.buf = mk.mark(e.buf, el)
				}
			}
			if ri == 0 && ln.headRuns > 0 {
				e.buf = append(e.buf, "/Span << /ActualText () >> BDC\n"...)
				inSpan = true
			}
			if ri == ln.tailRun && ln.tail != "" {
				inSpan = true
				e.buf = append(e.buf, "/Span << /ActualText "...)
				e.buf = append(e.buf, pdfwrite.Text(ln.tail)...)
				e.buf = append(e.buf, " >> BDC\n"...)
			}
			fi := e.font(r.f)
			fontsUsed[fi] = true
			e.buf = cur.set(e.buf, fi, r.size, r.rise, r.f.stroke*r.size)
			e.buf = e.tj(e.buf, r, x, base)
			if r.link != "" {
				annots = append(annots, annot{link: r.link, el: el, rect: [4]float64{x + r.parts[0].x, base - r.f.desc*r.size, x + r.end, base + r.f.ascent*r.size}})
			}
			// Strike-through at about half the x-height, underline a
			// little below the baseline (clear of most descenders' tops),
			// both as thick as a light stem, from the run's baseline
			// (raised or lowered with a superscript or subscript).
			// A decoration continues over the word space before a run
			// that the run before it has too.
			for _, deco := range [...]struct {
				bit style
				y   float64
			}{{strike, 0.28}, {under, -0.12}} {
				if r.st&deco.bit == 0 {
					continue
				}
				x0 := x + r.parts[0].x
				if prev := ri - 1; prev >= 0 && r.parts[0].space && ln.runs[prev].st&deco.bit != 0 {
					x0 = x + ln.runs[prev].end
				}
				y := base + r.rise + r.size*deco.y
				rules = fmt.Appendf(rules, "%s w %s %s m %s %s l S\n", pdfwrite.Num(r.size*0.05),
					pdfwrite.Num(x0), pdfwrite.Num(y), pdfwrite.Num(x+r.end), pdfwrite.Num(y))
			}
			if ri == ln.headRuns-1 {
				e.buf = append(e.buf, "EMC\n"...)
				inSpan = false
			}
		}
		if ln.tailRun >= 0 && ln.tailRun < len(ln.runs) && ln.tail != "" {
			e.buf = append(e.buf, "EMC\n"...)
		}
	}
	for _, pl := range p.boxes {
		bx := pl.b
		for _, bl := range bx.lines {
			tag := bl.tag
			if tag == nil {
				tag = mk.element(nil, "")
			}
			drawLine(bl, tag, ox+bx.x+bl.x, oy-pl.y-bl.base)
		}
		for _, r := range bx.rules {
			y := oy - pl.y - r.y
			rules = fmt.Appendf(rules, "%s w %s %s m %s %s l S\n", pdfwrite.Num(r.w),
				pdfwrite.Num(ox+bx.x+r.x0), pdfwrite.Num(y), pdfwrite.Num(ox+bx.x+r.x1), pdfwrite.Num(y-r.dy))
		}
		if f := bx.img; f != nil {
			name := e.image(f)
			imgs = append(imgs, name)
			figs = append(figs, placedFig{f, name, ox + bx.x + f.x, oy - pl.y - f.y - f.h})
		}
	}
	e.buf = mk.unmark(e.buf)
	size := d.g.size * 0.82
	if p.head != "" {
		ln := e.simpleLine(e.d.sh.faces[1], p.head, size, d.g.width)
		e.buf = append(e.buf, "/Artifact << /Type /Pagination /Subtype /Header >> BDC\n"...)
		drawLine(boxLine{ln: ln}, nil, ox+(d.g.width-ln.width)/2, d.headBaseline())
		e.buf = append(e.buf, "EMC\n"...)
	}
	if p.folio != "" {
		ln := e.simpleLine(e.d.sh.faces[0], p.folio, size, d.g.width)
		e.buf = append(e.buf, "/Artifact << /Type /Pagination /Subtype /Footer >> BDC\n"...)
		drawLine(boxLine{ln: ln}, nil, ox+(d.g.width-ln.width)/2, d.folioBaseline())
		e.buf = append(e.buf, "EMC\n"...)
	}
	e.buf = append(e.buf, "ET\n"...)
	if len(rules) > 0 {
		// Rules (of tables, notes, underlines) are layout, not content.
		e.buf = append(e.buf, "/Artifact BMC\n0 G\n"...)
		e.buf = append(e.buf, rules...)
		e.buf = append(e.buf, "EMC\n"...)
	}
	for _, pf := range figs {
		if pf.f.tag != nil {
			e.buf = mk.mark(e.buf, pf.f.tag)
		} else {
			e.buf = append(e.buf, "/Artifact BMC\n"...)
		}
		e.buf = fmt.Appendf(e.buf, "q %s 0 0 %s %s %s cm /%s Do Q\n", pdfwrite.Num(pf.f.w), pdfwrite.Num(pf.f.h),
			pdfwrite.Num(pf.x), pdfwrite.Num(pf.y), pf.name)
		if pf.f.tag == nil {
			e.buf = append(e.buf, "EMC\n"...)
		}
	}
	e.buf = mk.endPage(e.buf)

	content := e.pw.Alloc()
	e.pw.Stream(content, "", e.buf, true)

	var res strings.Builder
	res.WriteString("<< /Font <<")
	idx := make([]int, 0, len(fontsUsed))
	for fi := range fontsUsed {
		idx = append(idx, fi)
	}
	sort.Ints(idx)
	for _, fi := range idx {
		fmt.Fprintf(&res, " /F%d %s", fi, e.fontRef(fi))
	}
	res.WriteString(" >>")
	if len(imgs) > 0 {
		res.WriteString(" /XObject <<")
		sort.Strings(imgs)
		for k, name := range imgs {
			if k > 0 && imgs[k-1] == name {
				continue
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(name, "Im"))
			fmt.Fprintf(&res, " /%s %s", name, pdfwrite.Ref(n))
		}
		res.WriteString(" >>")
	}
	res.WriteString(" >>")

	var ann strings.Builder
	for _, a := range annots {
		ref := e.pw.Alloc()
		rect := fmt.Sprintf("[%s %s %s %s]", pdfwrite.Num(a.rect[0]), pdfwrite.Num(a.rect[1]), pdfwrite.Num(a.rect[2]), pdfwrite.Num(a.rect[3]))
		var action, what string
		if name, ok := strings.CutPrefix(a.link, "#"); ok {
			dst, ok := d.dests[name]
			if !ok {
				e.pw.Packed(ref, "null")
				continue
			}
			action = "/Dest " + e.destArray(dst)
			what = "Go to page " + e.pageLabel(dst.page)
		} else {
			action = "/A << /S /URI /URI " + pdfwrite.Text(a.link) + " >>"
			what = a.link
		}
		if a.el != nil {
			action += " /StructParent " + strconv.Itoa(mk.annot(a.el, ref))
		}
		// PDF/UA: an annotation says what it does in /Contents.
		e.pw.Packed(ref, fmt.Sprintf("<< /Type /Annot /Subtype /Link /Rect %s /Border [0 0 0] /Contents %s %s >>", rect, pdfwrite.Text(what), action))
		ann.WriteString(" " + ref.String())
	}
	box := fmt.Sprintf("[0 0 %s %s]", pdfwrite.Num(d.g.pageW), pdfwrite.Num(d.g.pageH))
	annotsEntry := ""
	if ann.Len() > 0 {
		annotsEntry = " /Annots [" + ann.String() + " ]"
	}
	e.pw.Packed(e.pageRefs[i], fmt.Sprintf("<< /Type /Page /Parent %s /MediaBox %s /TrimBox %s /Resources %s /Contents %s%s /StructParents %d /Tabs /S >>",
		parent, box, box, res.String(), content, annotsEntry, i))
}

// placedFig is an image on a page, its lower left corner at (x, y).
type placedFig struct {
	f    *figure
	name string
	x, y float64
}

// pageLabel is the printed number of page i: roman in the front matter.
func (e *emitter) pageLabel(i int) string {
	if i < e.d.frontCount {
		return roman(i + 1)
	}
	return strconv.Itoa(i - e.d.frontCount + 1)
}

// roman returns n (≥ 1) in lower-case roman numerals.
func roman(n int) string {
	var b strings.Builder
	for _, v := range []struct {
		n int
		s string
	}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}} {
		for n >= v.n {
			b.WriteString(v.s)
			n -= v.n
		}
	}
	return b.String()
}

func (e *emitter) destArray(dst dest) string {
	_, oy := e.d.origin(dst.page)
	return fmt.Sprintf("[%s /XYZ null %s null]", e.pageRefs[dst.page], pdfwrite.Num(min(oy-dst.y+e.d.g.lead, e.d.g.pageH)))
}

// simpleLine shapes one line of text, scaled down to fit measure.
func (e *emitter) simpleLine(f *face, text string, size, measure float64) *line {
	return e.d.sh.simpleLine(f, text, size, measure)
}

// font returns the index of face f's PDF font, creating it on first use.
// Faces that share a font program (a faux italic and its regular) share
// the PDF font.
func (e *emitter) font(f *face) int {
	if f.pdf != nil {
		return f.pdfIdx
	}
	i, ok := e.fontIdx[f.sf]
	if !ok {
		i = len(e.fonts)
		e.fontIdx[f.sf] = i
		e.fonts = append(e.fonts, e.pw.NewFont(f.sf))
		e.seen = append(e.seen, make([]bool, 65536))
	}
	f.pdf, f.pdfIdx = e.fonts[i], i
	return i
}

func (e *emitter) fontRef(i int) pdfwrite.Ref { return e.fonts[i].Ref }

func (e *emitter) image(f *figure) string {
	k := imageKey{f.path, int(math.Ceil(f.w * imageDPI / 72)), int(math.Ceil(f.h * imageDPI / 72))}
	ref, ok := e.images[k]
	if !ok {
		var data []byte
		var err error
		if e.read != nil {
			data, err = e.read(f.path)
		}
		var r pdfwrite.Ref
		if err == nil {
			r, _, _, err = e.pw.ImageFit(data, k.w, k.h)
		}
		if err != nil {
			r = e.pw.Alloc() // an empty form keeps the page valid
			e.pw.Stream(r, "/Type /XObject /Subtype /Form /BBox [0 0 1 1]", nil, false)
		}
		ref = r
		e.images[k] = ref
	}
	return "Im" + strconv.Itoa(int(ref))
}

// textState tracks the font, size, rise and outline stroke set in a text
// object.
type textState struct {
	font               int
	size, rise, stroke float64
	set0               bool
}

// set appends the operators that change the text state to the given one.
// stroke > 0 draws glyphs filled and stroked with a line that wide (a
// faux bold); 0 fills them only.
func (t *textState) set(b []byte, font int, size, rise, stroke float64) []byte {
	if !t.set0 || t.font != font || t.size != size {
		b = append(b, '/', 'F')
		b = strconv.AppendInt(b, int64(font), 10)
		b = append(b, ' ')
		b = pdfwrite.AppendNum(b, size)
		b = append(b, " Tf\n"...)
	}
	if !t.set0 || t.rise != rise {
		b = pdfwrite.AppendNum(b, rise)
		b = append(b, " Ts\n"...)
	}
	if stroke != t.stroke {
		if stroke > 0 {
			b = pdfwrite.AppendNum(b, stroke)
			b = append(b, " w 2 Tr\n"...)
		} else {
			b = append(b, "0 Tr\n"...)
		}
	}
	t.font, t.size, t.rise, t.stroke, t.set0 = font, size, rise, stroke, true
	return b
}

const hexDigits = "0123456789ABCDEF"

// tj appends the text positioning and TJ operator of run r with its
// origin at (x, base). Shaped advances (kerning) and justified spaces
// become TJ adjustments against the font's glyph widths.
func (e *emitter) tj(b []byte, r run, x, base float64) []byte {
	for _, p := range r.parts {
		if p.rtl {
			return e.tjLogical(b, r, x, base)
		}
	}
	t := e.startTJ(b, r, x+r.parts[0].x, base)
	pf := r.f.pdf
	pen := r.parts[0].x
	for k, p := range r.parts {
		if k > 0 {
			gap := (p.x - pen) / r.size * 1000
			if p.space {
				sp := r.f.space
				t.glyph(sp)
				gap -= pf.Width(sp.gid)
			}
			t.adjust(-gap)
		}
		for _, g := range p.glyphs {
			t.glyph(g)
			t.adjust(pf.Width(g.gid) - float64(g.adv)*1000)
		}
		pen = p.x + width(p.glyphs)*r.size
	}
	return t.end()
}

// tjArray is one run's text positioning and TJ array being written:
// glyph codes in hex strings, adjustments between them.
type tjArray struct {
	b    []byte
	seen []bool
	pf   *pdfwrite.Font
	open bool
}

// startTJ begins the TJ array of run r, its first glyph at (x, base).
func (e *emitter) startTJ(b []byte, r run, x, base float64) tjArray {
	b = append(b, "1 0 "...)
	b = pdfwrite.AppendNum(b, r.f.slant)
	b = append(b, " 1 "...)
	b = pdfwrite.AppendNum(b, x)
	b = append(b, ' ')
	b = pdfwrite.AppendNum(b, base)
	b = append(b, " Tm\n["...)
	return tjArray{b: b, seen: e.seen[r.f.pdfIdx], pf: r.f.pdf}
}

// glyph appends the code of g — an alias CID when g is drawn for other
// text than its own — and returns it.
func (t *tjArray) glyph(g glyph) uint16 {
	gid := g.gid
	if g.alias {
		gid = t.pf.Alias(gid, g.text)
	} else if !t.seen[gid] {
		t.pf.Use(gid, g.text)
		t.seen[gid] = g.text != ""
	}
	if !t.open {
		t.b = append(t.b, '<')
		t.open = true
	}
	t.b = append(t.b, hexDigits[gid>>12], hexDigits[gid>>8&15], hexDigits[gid>>4&15], hexDigits[gid&15])
	return gid
}

// adjust moves the pen by -v thousandths of the font size (a positive v
// moves it left); a negligible move is left out.
func (t *tjArray) adjust(v float64) {
	if v > -0.05 && v < 0.05 {
		return
	}
	if t.open {
		t.b = append(t.b, '>')
		t.open = false
	}
	t.b = pdfwrite.AppendNum(t.b, v)
}

// end closes the array and returns the content stream.
func (t *tjArray) end() []byte {
	if t.open {
		t.b = append(t.b, '>')
	}
	return append(t.b, "] TJ\n"...)
}

// tjLogical is tj for a run with right-to-left parts: it draws the run's
// parts in their logical order, and the clusters of a right-to-left part
// from right to left, each glyph moved to its place by TJ adjustments
// (the page looks the same). Extractors that take glyphs in the order
// they are drawn (pdfminer; MuPDF) then read the text in its logical
// order, as poppler does by position; a word space is drawn in the gap
// between two parts, where a reader of the stream expects it.
func (e *emitter) tjLogical(b []byte, r run, x, base float64) []byte {
	type drawn struct {
		g glyph
		x float64 // relative to the line
	}
	order := make([]int, len(r.parts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(r.parts[a].logical, r.parts[b].logical) })
	var seq []drawn
	for k, i := range order {
		p := r.parts[i]
		if k > 0 {
			// The gap between this part and the previous one drawn, if
			// they are neighbours on the line: the word space is the
			// gap before the right one of the two.
			prev := order[k-1]
			left, right := min(prev, i), max(prev, i)
			if right == left+1 && r.parts[right].space {
				lp := r.parts[left]
				seq = append(seq, drawn{g: r.f.space, x: lp.x + width(lp.glyphs)*r.size})
			}
		}
		xs := make([]float64, len(p.glyphs))
		pen := p.x
		for j, g := range p.glyphs {
			xs[j] = pen
			pen += float64(g.adv) * r.size
		}
		if !p.rtl {
			for j, g := range p.glyphs {
				seq = append(seq, drawn{g, xs[j]})
			}
			continue
		}
		// Clusters from right to left, each cluster's glyphs in the
		// shaper's order (a mark before its base, as HarfBuzz gives a
		// right-to-left run): poppler, which orders by position, keeps
		// a base's marks with it only so.
		for end := len(p.glyphs); end > 0; {
			start := end - 1
			for start > 0 && p.glyphs[start-1].cluster == p.glyphs[end-1].cluster {
				start--
			}
			for j := start; j < end; j++ {
				seq = append(seq, drawn{p.glyphs[j], xs[j]})
			}
			end = start
		}
	}
	if len(seq) == 0 {
		return b
	}
	t := e.startTJ(b, r, x+seq[0].x, base)
	for k, d := range seq {
		gid := t.glyph(d.g)
		if k+1 < len(seq) {
			// After the glyph the pen is at its x plus its width in
			// the font; a positive adjustment moves it left.
			t.adjust((d.x + t.pf.Width(gid)*r.size/1000 - seq[k+1].x) / r.size * 1000)
		}
	}
	return t.end()
}

// outline writes the bookmarks and returns the outline root.
func (e *emitter) outline() pdfwrite.Ref {
	root := e.pw.Alloc()
	first, last, count := e.outlineItems(e.d.outline, root)
	e.pw.Packed(root, fmt.Sprintf("<< /Type /Outlines /First %s /Last %s /Count %d >>", first, last, count))
	return root
}

func (e *emitter) outlineItems(items []outlineItem, parent pdfwrite.Ref) (first, last pdfwrite.Ref, count int) {
	refs := make([]pdfwrite.Ref, len(items))
	for i := range items {
		refs[i] = e.pw.Alloc()
	}
	for i, it := range items {
		var s strings.Builder
		fmt.Fprintf(&s, "<< /Title %s /Parent %s", pdfwrite.Text(it.title), parent)
		if i > 0 {
			fmt.Fprintf(&s, " /Prev %s", refs[i-1])
		}
		if i < len(items)-1 {
			fmt.Fprintf(&s, " /Next %s", refs[i+1])
		}
		if dst, ok := e.d.dests[it.dest]; ok {
			s.WriteString(" /Dest " + e.destArray(dst))
		}
		if len(it.kids) > 0 {
			f, l, n := e.outlineItems(it.kids, refs[i])
			fmt.Fprintf(&s, " /First %s /Last %s /Count %d", f, l, -n)
		}
		s.WriteString(" >>")
		e.pw.Packed(refs[i], s.String())
	}
	if len(refs) == 0 {
		return 0, 0, 0
	}
	return refs[0], refs[len(refs)-1], len(items)
}

// xmp returns the XMP metadata packet of b.
func xmp(b *Book) string {
	esc := func(s string) string {
		r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
		return r.Replace(s)
	}
	alt := func(tag, v string) string {
		if v == "" {
			return ""
		}
		return fmt.Sprintf("<%s><rdf:Alt><rdf:li xml:lang=\"x-default\">%s</rdf:li></rdf:Alt></%s>\n", tag, esc(v), tag)
	}
	var s strings.Builder
	s.WriteString("<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n")
	s.WriteString("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n")
	s.WriteString("<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\">\n")
	s.WriteString("<pdfuaid:part>1</pdfuaid:part>\n")
	s.WriteString("<dc:format>application/pdf</dc:format>\n")
	s.WriteString(alt("dc:title", b.Title))
	if len(b.Authors) > 0 {
		s.WriteString("<dc:creator><rdf:Seq>")
		for _, a := range b.Authors {
			s.WriteString("<rdf:li>" + esc(a) + "</rdf:li>")
		}
		s.WriteString("</rdf:Seq></dc:creator>\n")
	}
	s.WriteString(alt("dc:description", b.Description))
	s.WriteString(alt("dc:rights", b.Rights))
	if b.Publisher != "" {
		s.WriteString("<dc:publisher><rdf:Bag><rdf:li>" + esc(b.Publisher) + "</rdf:li></rdf:Bag></dc:publisher>\n")
	}
	if b.Language != "" {
		s.WriteString("<dc:language><rdf:Bag><rdf:li>" + esc(b.Language) + "</rdf:li></rdf:Bag></dc:language>\n")
	}
	if b.Identifier != "" {
		s.WriteString("<dc:identifier>" + esc(b.Identifier) + "</dc:identifier>\n")
	}
	if b.Date != "" {
		s.WriteString("<dc:date><rdf:Seq><rdf:li>" + esc(b.Date) + "</rdf:li></rdf:Seq></dc:date>\n")
	}
	s.WriteString("<pdf:Producer>Bindery PDF renderer</pdf:Producer><xmp:CreatorTool>Bindery</xmp:CreatorTool>\n")
	s.WriteString("</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>")
	return s.String()
}
