package pdf

import (
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/render/pdf/pdfwrite"
)

// The PDF is tagged (PDF/UA-1): a structure tree of standard elements —
// Document, a Sect for the front matter and one per chapter, H1…H6, P,
// L/LI/Lbl/LBody, Table/TR/TH/TD, Figure with /Alt, Note, BlockQuote,
// Code, TOC/TOCI and Link — says what each piece of a page is, in
// reading order, for screen readers, reflow and text-to-speech.
//
// The layout builds the tree's elements in reading order and tags each
// line of text (boxLine.tag) and image (figure.tag) with the element it
// belongs to. The emitter then wraps each element's content on a page in
// a marked-content sequence with an MCID ("/P <</MCID 3>> BDC … EMC"),
// adds the MCID to the element's kids and the element to the page's entry
// of the ParentTree; a paragraph broken across pages gets one MCID per
// page. Links are Link elements created by the emitter, holding both the
// link's text and an OBJR to its annotation. Everything else drawn —
// running heads, folios, rules, a done task's check — is an /Artifact.

// selem is a structure element.
type selem struct {
	typ    string // standard structure type: "P", "H1", "Table", …
	alt    string // /Alt, for figures
	attr   string // /A, a PDF dictionary ("" for none)
	href   string // a Link's destination, to join the runs of one link
	id     string // /ID: PDF/UA gives every Note one, unique in the file
	parent *selem
	kids   []skid

	ref  pdfwrite.Ref // when written
	live bool         // has content (marked content or an annotation) below it
}

// skid is a kid of a structure element: another element, a marked-content
// sequence (page index and MCID) or an annotation (annot ≠ 0).
type skid struct {
	el    *selem
	page  int
	mcid  int
	annot pdfwrite.Ref
}

// add appends a new element of type typ to e's kids and returns it.
func (e *selem) add(typ string) *selem {
	k := &selem{typ: typ, parent: e}
	e.kids = append(e.kids, skid{el: k})
	return k
}

// takesText reports whether lines of text belong to e itself rather than
// to a paragraph inside it.
func (e *selem) takesText() bool {
	switch e.typ {
	case "P", "H1", "H2", "H3", "H4", "H5", "H6", "Lbl", "TD", "TH", "Caption", "Code", "TOCI", "Link":
		return true
	}
	return false
}

// moveAfter moves e from its parent's kids to just after el in el's
// parent's kids (a footnote after the paragraph that refers to it).
func (e *selem) moveAfter(el *selem) {
	if e.parent == nil || el == nil || el.parent == nil || el == e {
		return
	}
	for i, k := range e.parent.kids {
		if k.el == e {
			e.parent.kids = append(e.parent.kids[:i], e.parent.kids[i+1:]...)
			break
		}
	}
	p := el.parent
	for i, k := range p.kids {
		if k.el == el {
			p.kids = append(p.kids[:i+1], append([]skid{{el: e}}, p.kids[i+1:]...)...)
			e.parent = p
			return
		}
	}
}

// newStructure returns the root of a book's structure tree (a Document)
// and its first Sect, for the front matter (which is laid out after the
// chapters but comes first).
func newStructure() (root, front *selem) {
	root = &selem{typ: "Document"}
	return root, root.add("Sect")
}

// open starts an element of type typ inside the current one and makes it
// current until the returned function is called. A layouter without a
// structure (l.tag nil) stays without.
func (l *layouter) open(typ string) func() {
	if l.tag == nil {
		return func() {}
	}
	prev := l.tag
	l.tag = prev.add(typ)
	return func() { l.tag = prev }
}

// para opens a paragraph for the lines of l.text, unless the current
// element takes text itself (a heading, a label, a cell).
func (l *layouter) para() func() {
	if l.tag == nil || l.tag.takesText() {
		return func() {}
	}
	return l.open("P")
}

// tagLines gives the lines of b without an element the current one.
func (l *layouter) tagLines(b *vbox) {
	for i := range b.lines {
		if b.lines[i].tag == nil {
			b.lines[i].tag = l.tag
		}
	}
}

// headingTag is the structure type of a heading of Markdown level n.
func headingTag(n int) string {
	return "H" + strconv.Itoa(min(max(n, 1), 6))
}

// marker is the emitter's state of marked content on the current page.
type marker struct {
	page   int
	open   *selem     // element whose marked content is open, nil for none
	mcids  []*selem   // by MCID, for the page's ParentTree entry
	link   *selem     // Link element of the last run, nil if it had no link
	pages  [][]*selem // every page's mcids
	annots []*selem   // Link element by annotation, StructParent npages+i
	orphan *selem     // a P for text laid out without a structure
	root   *selem
	npages int // the document's pages: annotations' keys follow theirs
}

// mark makes el's marked content the open one, closing the one open
// before and starting a new sequence with the next MCID.
func (m *marker) mark(b []byte, el *selem) []byte {
	if m.open == el {
		return b
	}
	b = m.unmark(b)
	id := len(m.mcids)
	m.mcids = append(m.mcids, el)
	el.kids = append(el.kids, skid{page: m.page, mcid: id})
	m.open = el
	b = append(b, '/')
	b = append(b, el.typ...)
	b = append(b, " <</MCID "...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ">> BDC\n"...)
	return b
}

// unmark closes the open marked content, if any.
func (m *marker) unmark(b []byte) []byte {
	if m.open != nil {
		m.open = nil
		b = append(b, "EMC\n"...)
	}
	return b
}

// element returns the element of a run of text of a line tagged tag: a
// Link inside tag when the run is a link (the runs of one link, even
// across lines, share it).
func (m *marker) element(tag *selem, link string) *selem {
	if tag == nil {
		if m.orphan == nil {
			m.orphan = m.root.add("P")
		}
		tag = m.orphan
	}
	if link == "" {
		m.link = nil
		return tag
	}
	if m.link != nil && m.link.href == link && m.link.parent == tag {
		return m.link
	}
	m.link = tag.add("Link")
	m.link.href = link
	return m.link
}

// endPage closes the page's marked content and keeps its MCIDs.
func (m *marker) endPage(b []byte) []byte {
	b = m.unmark(b)
	m.pages = append(m.pages, m.mcids)
	m.mcids = nil
	return b
}

// annot records annotation ref as a kid of link and returns its
// StructParent key.
func (m *marker) annot(link *selem, ref pdfwrite.Ref) int {
	link.kids = append(link.kids, skid{annot: ref})
	m.annots = append(m.annots, link)
	return m.npages + len(m.annots) - 1
}

// markLive sets live on the elements with content below them.
func markLive(e *selem) bool {
	for _, k := range e.kids {
		if k.el == nil || markLive(k.el) {
			e.live = true
		}
	}
	return e.live
}

// writeStructure writes the structure tree of root and the ParentTree and
// returns the StructTreeRoot.
func (e *emitter) writeStructure() pdfwrite.Ref {
	m := &e.mk
	markLive(m.root)
	m.root.live = true
	var alloc func(s *selem)
	alloc = func(s *selem) {
		s.ref = e.pw.Alloc()
		for _, k := range s.kids {
			if k.el != nil && k.el.live {
				alloc(k.el)
			}
		}
	}
	alloc(m.root)
	treeRoot, parentTree := e.pw.Alloc(), e.pw.Alloc()
	var write func(s *selem, parent pdfwrite.Ref)
	var b strings.Builder
	write = func(s *selem, parent pdfwrite.Ref) {
		b.Reset()
		b.WriteString("<< /Type /StructElem /S /" + s.typ + " /P " + parent.String())
		pg := -1
		for _, k := range s.kids {
			if k.el == nil && k.annot == 0 {
				pg = k.page
				break
			}
		}
		if pg >= 0 {
			b.WriteString(" /Pg " + e.pageRefs[pg].String())
		}
		if s.alt != "" {
			b.WriteString(" /Alt " + pdfwrite.Text(s.alt))
		}
		if s.id != "" {
			b.WriteString(" /ID " + pdfwrite.Text(s.id))
		}
		if s.attr != "" {
			b.WriteString(" /A " + s.attr)
		}
		b.WriteString(" /K [")
		for _, k := range s.kids {
			switch {
			case k.el != nil:
				if k.el.live {
					b.WriteString(" " + k.el.ref.String())
				}
			case k.annot != 0:
				b.WriteString(" << /Type /OBJR /Obj " + k.annot.String() + " >>")
			case k.page == pg:
				b.WriteString(" " + strconv.Itoa(k.mcid))
			default:
				b.WriteString(" << /Type /MCR /Pg " + e.pageRefs[k.page].String() + " /MCID " + strconv.Itoa(k.mcid) + " >>")
			}
		}
		b.WriteString(" ] >>")
		e.pw.Packed(s.ref, b.String())
		for _, k := range s.kids {
			if k.el != nil && k.el.live {
				write(k.el, s.ref)
			}
		}
	}
	write(m.root, treeRoot)

	var nums strings.Builder
	nums.WriteString("<< /Nums [")
	for i, els := range m.pages {
		nums.WriteString(" " + strconv.Itoa(i) + " [")
		for _, el := range els {
			nums.WriteString(" " + el.ref.String())
		}
		nums.WriteString(" ]")
	}
	for i, el := range m.annots {
		nums.WriteString(" " + strconv.Itoa(m.npages+i) + " " + el.ref.String())
	}
	nums.WriteString(" ] >>")
	e.pw.Packed(parentTree, nums.String())
	e.pw.Packed(treeRoot, "<< /Type /StructTreeRoot /K "+m.root.ref.String()+" /ParentTree "+parentTree.String()+
		" /ParentTreeNextKey "+strconv.Itoa(m.npages+len(m.annots))+" >>")
	return treeRoot
}

// tableCell adds a cell to row tr: a TH with a column scope in a header
// row (PDF/UA asks headers for their scope), else a TD. tr nil: none.
func tableCell(tr *selem, header bool) *selem {
	if tr == nil {
		return nil
	}
	if header {
		th := tr.add("TH")
		th.attr = "<< /O /Table /Scope /Column >>"
		return th
	}
	return tr.add("TD")
}
