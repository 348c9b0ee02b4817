package pdf

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/typeset/hyphen"
)

type pageKind uint8

const (
	pageFront pageKind = iota
	pageBlank
	pageOpening // a chapter's first page: no running head, no folio
	pageBody
)

// page is one laid-out page.
type page struct {
	kind  pageKind
	boxes []placed
	head  string // running head, "" for none
	folio string // printed page number, "" for none

	start textPos // where a body page starts in the text (see PageStart)
}

// dest is a place in the document: a page index and a distance below
// the text block's top.
type dest struct {
	page int
	y    float64
}

// outlineItem is a bookmark.
type outlineItem struct {
	title string
	dest  string
	kids  []outlineItem
}

// document is a laid-out book, ready to be written.
type document struct {
	g          geometry
	sh         *shaper
	pages      []*page
	frontCount int
	dests      map[string]dest
	outline    []outlineItem
	chapters   []chapterInfo
	tags       *selem // the structure tree's root (structure.go)
	front      *selem // its Sect of the front matter
}

type chapterInfo struct {
	title string
	id    string
	first int // page index of the opening page
}

// layout lays out the whole book.
func layout(b *Book, opts Options, st *stopper) (*document, error) {
	if len(b.Chapters) == 0 {
		return nil, ErrNoChapters
	}
	lang := b.Language
	if lang == "" {
		lang = "en"
	}
	sh, err := newShaper(lang, b.Fonts, opts.FontDirs)
	if err != nil {
		return nil, err
	}
	g, err := resolveGeometry(b, sh.faces[0].xHeight)
	if err != nil {
		return nil, err
	}
	var hy *hyphen.Hyphenator
	if !opts.NoHyphenation && strings.HasPrefix(strings.ToLower(lang), "en") {
		hy = hyphen.English()
	}
	d := &document{g: g, sh: sh, dests: map[string]dest{}}
	d.tags, d.front = newStructure()
	l := &layouter{g: g, sh: sh, hy: hy, hyCache: map[string][]int{}, images: b.Images, stop: st}

	ids := map[string]int{}
	for i, c := range b.Chapters {
		id := c.ID
		if id == "" {
			id = "chapter-" + strconv.Itoa(i+1)
		}
		if _, dup := ids[id]; !dup {
			ids[id] = i
		}
		d.chapters = append(d.chapters, chapterInfo{id: id})
	}

	// Body pages are a whole number of lines tall (see spreads.go).
	bodyH := gridHeight(g.height, g.size, g.lead, sh.faces[0].forStyle(sh, 0))
	// Body: chapters first, numbered from 1 on a right-hand page.
	var body []*page
	bodyDests := map[string]dest{}
	for ci, c := range b.Chapters {
		if err := st.now(); err != nil {
			return nil, err
		}
		doc := parseChapter(c.Markdown, linker{ci: ci, chapter: ids}, st)
		title := c.Title
		if title == "" {
			title = doc.title
		}
		titleIsText := false // the title stands for the chapter's leading h1
		if len(doc.blocks) > 0 && doc.blocks[0].kind == bHeading && doc.blocks[0].level == 1 {
			h := plain(doc.blocks[0].spans)
			if title == "" || strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(title)) {
				if title == "" {
					title = h
				}
				doc.blocks = doc.blocks[1:]
				titleIsText = true
			}
		}
		if title == "" {
			title = "Chapter " + strconv.Itoa(ci+1)
		}
		d.chapters[ci].title = title

		l.ci = ci
		l.tag = d.tags.add("Sect")
		l.boxes = nil
		l.keep = 0
		l.openChapter(title)
		titleEnd := len(l.boxes)
		l.blocks(doc.blocks, ctx{width: g.width, size: g.size, lead: g.lead, noIndent: true})
		text := l.boxes // the chapter's text, without the notes l.notes may add
		if !titleIsText {
			text = l.boxes[titleEnd:]
		}
		l.notes(doc.footnotes)
		sep := l.noteSeparator()
		if err := st.now(); err != nil {
			return nil, err
		}

		if len(body)%2 == 1 {
			body = append(body, &page{kind: pageBlank, start: textPos{chapter: ci}})
		}
		d.chapters[ci].first = len(body)
		bodyDests[chapterDest(ci)] = dest{page: len(body)}
		item := outlineItem{title: title, dest: chapterDest(ci)}
		pages := paginateFlush(l.boxes, bodyH, g.lead, sep)
		starts := pageWords(text, pages)
		for k, pg := range pages {
			kind := pageBody
			if k == 0 {
				kind = pageOpening
			}
			p := &page{kind: kind, boxes: pg, head: title, start: textPos{chapter: ci, word: starts[k]}}
			for _, pl := range pg {
				for _, dn := range pl.b.dests {
					if _, ok := bodyDests[dn]; !ok {
						bodyDests[dn] = dest{page: len(body), y: pl.y}
					}
				}
				if pl.b.outline != "" {
					item.kids = append(item.kids, outlineItem{title: pl.b.outline, dest: pl.b.dests[0]})
				}
			}
			body = append(body, p)
		}
		d.outline = append(d.outline, item)
	}

	// Front matter: its page count is even, so page 1 is a right-hand page.
	front := []*page{d.halfTitle(b), {kind: pageBlank}, d.titlePage(b), d.copyrightPage(b)}
	tocStart := len(front)
	toc := d.contents(l)
	if err := st.now(); err != nil {
		return nil, err
	}
	front = append(front, toc...)
	if len(front)%2 == 1 {
		front = append(front, &page{kind: pageBlank})
	}
	d.frontCount = len(front)
	d.dests["contents"] = dest{page: tocStart}
	d.outline = append([]outlineItem{{title: "Contents", dest: "contents"}}, d.outline...)
	for k, v := range bodyDests {
		d.dests[k] = dest{page: v.page + len(front), y: v.y}
	}
	for i := range d.chapters {
		d.chapters[i].first += len(front)
	}
	d.pages = append(front, body...)
	for i, p := range d.pages {
		if p.kind != pageBody {
			p.head = ""
			continue
		}
		p.folio = strconv.Itoa(i - len(front) + 1)
		if i%2 == 1 { // left-hand page: the book's title
			p.head = b.Title
		}
	}
	return d, nil
}

// plain returns the text of spans without styles.
func plain(spans []span) string {
	var sb strings.Builder
	for _, s := range spans {
		if s.brk {
			sb.WriteByte(' ')
			continue
		}
		sb.WriteString(s.text)
	}
	return sb.String()
}

// openChapter pushes the sink and title of a chapter's opening page.
func (l *layouter) openChapter(title string) {
	l.push(&vbox{h: l.g.height * 0.2, dests: []string{chapterDest(l.ci)}})
	c := l.body()
	c.size, c.lead = l.g.size*1.7, l.g.size*1.7*1.25
	start := len(l.boxes)
	end := l.open("H1")
	l.text([]span{{text: title}}, c, 0, center)
	end()
	for _, b := range l.boxes[start:] {
		b.noBreakBefore = true
		b.parStart = false // the title keeps its place (see paginateFlush)
	}
	l.push(&vbox{h: l.g.lead * 2, noBreakBefore: true})
	l.keep = 2
}

// notes lays out a chapter's footnotes and attaches each to the box that
// first refers to it, for the foot of that box's page (see paginate). A
// note no box refers to (one referred to only from a table cell, a
// caption or another note) is set at the chapter's end instead, under a
// short rule, as all notes were before notes went to the page's foot.
func (l *layouter) notes(notes [][]block) {
	if len(notes) == 0 {
		return
	}
	c := l.body()
	nc := c
	nc.size, nc.lead = c.size*0.85, c.size*0.85*1.25
	nc.noIndent = true
	laid := make([][]*vbox, len(notes))
	var noteEls []*selem // Note elements, nil without a structure
	for i, blocks := range notes {
		n := i + 1
		mark := span{text: strconv.Itoa(n) + "\u00a0", style: super, link: "#" + noteRefDest(l.ci, n), anchor: noteDest(l.ci, n)}
		if len(blocks) > 0 && blocks[0].kind == bPara {
			blocks = append([]block{{kind: bPara, spans: append([]span{mark}, blocks[0].spans...)}}, blocks[1:]...)
		} else {
			blocks = append([]block{{kind: bPara, spans: []span{mark}}}, blocks...)
		}
		saved, keep := l.boxes, l.keep
		l.boxes, l.keep = nil, 0
		end := l.open("Note")
		if l.tag != nil {
			l.tag.id = noteDest(l.ci, n)
		}
		noteEls = append(noteEls, l.tag)
		l.blocks(blocks, nc)
		end()
		l.vspace(nc.lead / 4)
		laid[i] = l.boxes
		l.boxes, l.keep = saved, keep
	}
	ref := make(map[string]int, len(notes))
	for i := range notes {
		ref[noteRefDest(l.ci, i+1)] = i
	}
	placed := make([]bool, len(notes))
	for _, b := range l.boxes {
		for _, dn := range b.dests {
			if i, ok := ref[dn]; ok && !placed[i] {
				placed[i] = true
				b.notes = append(b.notes, laid[i])
				if l.tag != nil && len(b.lines) > 0 {
					noteEls[i].moveAfter(b.lines[0].tag) // read after the text that refers to it
				}
			}
		}
	}
	first := true
	for i, boxes := range laid {
		if placed[i] {
			continue
		}
		if first {
			first = false
			l.vspace(c.lead)
			x0 := c.width / 2
			w := min(c.width/4, 72.0)
			l.push(&vbox{h: c.lead, rules: []rule{{x0: x0 - w/2, x1: x0 + w/2, y: c.lead / 2, w: 0.5}}})
		}
		l.boxes = append(l.boxes, boxes...)
	}
}

// noteSeparator is the rule above the footnotes at a page's foot: short,
// thin and flush left, as in most books.
func (l *layouter) noteSeparator() *vbox {
	return &vbox{h: l.g.lead, rules: []rule{{x0: 0, x1: l.g.width * 0.3, y: l.g.lead * 0.45, w: 0.4}}}
}

// halfTitle is the first page: the title alone.
func (d *document) halfTitle(b *Book) *page {
	l := d.frontLayouter()
	c := l.body()
	c.size, c.lead = d.g.size*1.4, d.g.size*1.4*1.3
	l.push(&vbox{h: d.g.height * 0.25})
	l.text([]span{{text: b.Title}}, c, 0, center)
	return &page{kind: pageFront, boxes: place(l.boxes, 0)}
}

func (d *document) titlePage(b *Book) *page {
	l := d.frontLayouter()
	c := l.body()
	l.push(&vbox{h: d.g.height * 0.15})
	tc := c
	tc.size, tc.lead = d.g.size*2.4, d.g.size*2.4*1.2
	l.text([]span{{text: b.Title}}, tc, 0, center)
	if b.Subtitle != "" {
		sc := c
		sc.size, sc.lead, sc.base = d.g.size*1.3, d.g.size*1.3*1.3, italic
		l.vspace(c.lead / 2)
		l.text([]span{{text: b.Subtitle}}, sc, 0, center)
	}
	if len(b.Authors) > 0 {
		l.push(&vbox{h: c.lead * 3})
		ac := c
		ac.size, ac.lead = d.g.size*1.4, d.g.size*1.4*1.3
		l.text([]span{{text: strings.Join(b.Authors, ", ")}}, ac, 0, center)
	}
	boxes := place(l.boxes, 0)
	if b.Publisher != "" {
		pl := d.frontLayouter()
		pl.text([]span{{text: b.Publisher}}, c, 0, center)
		boxes = append(boxes, place(pl.boxes, d.g.height-height(pl.boxes))...)
	}
	return &page{kind: pageFront, boxes: boxes}
}

func (d *document) copyrightPage(b *Book) *page {
	l := d.frontLayouter()
	c := l.body()
	c.size, c.lead = d.g.size*0.85, d.g.size*0.85*1.35
	para := func(s string, st style) {
		if s == "" {
			return
		}
		l.text([]span{{text: s, style: st}}, c, 0, left)
		l.vspace(c.lead / 2)
	}
	t := b.Title
	if b.Subtitle != "" {
		t += ": " + b.Subtitle
	}
	para(t, italic)
	para(strings.Join(b.Authors, ", "), 0)
	if b.Date != "" {
		para("First published "+b.Date+".", 0)
	}
	para(b.Rights, 0)
	if b.Publisher != "" {
		para("Published by "+b.Publisher+".", 0)
	}
	if b.Identifier != "" {
		para(b.Identifier, 0)
	}
	para("Set in "+d.sh.family+" and Liberation Mono with Bindery.", 0)
	for len(l.boxes) > 0 && l.boxes[len(l.boxes)-1].space {
		l.boxes = l.boxes[:len(l.boxes)-1]
	}
	return &page{kind: pageFront, boxes: place(l.boxes, d.g.height-height(l.boxes))}
}

// contents lays out the table of contents; chapter page numbers are known
// (body pages are laid out first).
func (d *document) contents(main *layouter) []*page {
	l := d.frontLayouter()
	l.hy = main.hy
	c := l.body()
	hc := c
	hc.size, hc.lead = d.g.size*1.4, d.g.size*1.4*1.3
	l.push(&vbox{h: c.lead * 2})
	end := l.open("H1")
	l.text([]span{{text: "Contents"}}, hc, 0, center)
	end()
	l.push(&vbox{h: c.lead, noBreakBefore: true})
	defer l.open("TOC")()
	numW := c.size * 2.5
	for i, ch := range d.chapters {
		link := "#" + chapterDest(i)
		lines := l.cellLines([]span{{text: ch.title, link: link}}, c.width-numW-c.size, c.size, 0, left)
		num := strconv.Itoa(ch.first + 1)
		f := d.sh.faces[0]
		gs := d.sh.shape(f, num)
		w := width(gs) * c.size
		endItem := l.open("TOCI")
		for k, ln := range lines {
			b := lineBox(ln, 0, c.size, c.lead, f)
			if k > 0 {
				b.noBreakBefore = true
				b.x = c.size
			}
			if k == len(lines)-1 {
				b.lines = append(b.lines, boxLine{x: c.width - w - b.x, base: b.lines[0].base, size: c.size,
					ln: &line{width: w, runs: []run{{f: f, size: c.size, link: link, parts: []part{{glyphs: gs}}, end: w}}}})
			}
			l.push(b)
		}
		endItem()
	}
	var pages []*page
	for _, pg := range paginate(l.boxes, d.g.height, nil) {
		pages = append(pages, &page{kind: pageFront, boxes: pg})
	}
	return pages
}

func (d *document) frontLayouter() *layouter {
	return &layouter{g: d.g, sh: d.sh, hyCache: map[string][]int{}, tag: d.front}
}

// place stacks boxes from y0 down, without page breaks.
func place(boxes []*vbox, y0 float64) []placed {
	var out []placed
	y := y0
	for _, b := range boxes {
		out = append(out, placed{b: b, y: y})
		y += b.h + b.d
	}
	return out
}

func height(boxes []*vbox) float64 {
	h := 0.0
	for _, b := range boxes {
		h += b.h + b.d
	}
	return h
}

func (d *document) String() string {
	return fmt.Sprintf("document{%d pages, %d front}", len(d.pages), d.frontCount)
}
