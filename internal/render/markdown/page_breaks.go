package markdown

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// PageBreak is a page of a print edition that starts in this chapter:
// before its word number Word (counted from 0 as pdf.PageStart counts
// them; 0 is the start of the chapter), page Number begins.
type PageBreak struct {
	Word   int
	Number int
}

// PageBreaks inserts a page-break marker for each page of breaks
// (sorted by Word) and returns the IDs it gave them, in order:
//
//	<span epub:type="pagebreak" role="doc-pagebreak" id="page-N" aria-label="N"></span>
//
// Word 0 goes before everything; a later word, just before that word (so
// inside the paragraph where the printed page turns); a word beyond the
// chapter's text, at its end, before the notes. Words are counted as the
// PDF typesetter counts them (see pdf.PageStart): runs of text between
// white space, a block's end ending a word; not counted are the title
// RenderChapter added, the notes, code blocks (pre), figures, the "[ ]"
// of a task list item and the alt text of an image alone in its
// paragraph, but the alt text of an image inside text is, as the PDF
// prints it there.
//
// The ID is "page-N", unless the chapter already has that ID (a heading
// written {#page-3} in a chapter whose ID is "ch"+"page"…), then
// "pagebreak-N". Like PopUpNotes, for the XHTML of an EPUB only.
func (f *Fragment) PageBreaks(breaks []PageBreak) []string {
	if len(breaks) == 0 {
		return nil
	}
	ids := f.ids()
	pb := &pageBreaker{f: f, breaks: breaks, ids: ids}
	first := f.body.FirstChild
	for len(pb.breaks) > 0 && pb.breaks[0].Word <= 0 {
		pb.insert(f.body, first)
	}
	pb.walk(f.body)
	var end *html.Node // before the notes, or at the end
	for n := f.body.FirstChild; n != nil; n = n.NextSibling {
		if n.DataAtom == atom.Div && hasClass(n, "footnotes") {
			end = n
			break
		}
	}
	for len(pb.breaks) > 0 {
		pb.insert(f.body, end)
	}
	return pb.out
}

type pageBreaker struct {
	f      *Fragment
	breaks []PageBreak
	ids    map[string]bool
	out    []string
	words  int                 // words begun so far
	inWord bool                // the text so far ends inside a word
	skip   map[*html.Node]bool // task list markers, not counted
}

// insert inserts the marker of the next break before ref in parent.
func (pb *pageBreaker) insert(parent, ref *html.Node) {
	n := strconv.Itoa(pb.breaks[0].Number)
	pb.breaks = pb.breaks[1:]
	id := "page-" + n
	if pb.ids[id] {
		id = "pagebreak-" + n
	}
	pb.ids[id] = true
	pb.out = append(pb.out, id)
	span := &html.Node{Type: html.ElementNode, Data: "span", DataAtom: atom.Span, Attr: []html.Attribute{
		{Namespace: epubNS, Key: "type", Val: "pagebreak"},
		{Key: "role", Val: "doc-pagebreak"},
		{Key: "id", Val: id},
		{Key: "aria-label", Val: n},
	}}
	parent.InsertBefore(span, ref)
}

// blockElements end a word where they start and end; inline elements
// (a, em, strong, code, sup…) do not.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Blockquote: true, atom.Ul: true, atom.Ol: true, atom.Li: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Table: true, atom.Thead: true, atom.Tbody: true, atom.Tfoot: true, atom.Tr: true,
	atom.Th: true, atom.Td: true, atom.Caption: true, atom.Hr: true, atom.Br: true,
	atom.Figure: true, atom.Figcaption: true, atom.Pre: true, atom.Aside: true,
}

func (pb *pageBreaker) walk(n *html.Node) {
	for c := n.FirstChild; c != nil && len(pb.breaks) > 0; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			if pb.skip[c] {
				pb.inWord = false
				continue
			}
			c = pb.text(c)
		case html.ElementNode:
			if c == pb.f.addedTitle || c.DataAtom == atom.Pre || c.DataAtom == atom.Figure ||
				c.DataAtom == atom.Div && hasClass(c, "footnotes") {
				pb.inWord = false
				continue
			}
			if c.DataAtom == atom.Img {
				pb.image(c)
				continue
			}
			block := blockElements[c.DataAtom]
			if block {
				pb.inWord = false
			}
			if c.DataAtom == atom.Li {
				pb.skipTaskMarker(c)
			}
			pb.walk(c)
			if block {
				pb.inWord = false
			}
		}
	}
}

// text counts the words of text node t, splitting it where a marker goes
// before a word; it returns the last node of what t became.
func (pb *pageBreaker) text(t *html.Node) *html.Node {
	s := t.Data
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) {
			pb.inWord = false
		} else if !pb.inWord {
			pb.inWord = true
			if len(pb.breaks) > 0 && pb.breaks[0].Word <= pb.words {
				// Split t: the text before the word stays in t, the
				// markers follow, then the rest in a new node.
				rest := &html.Node{Type: html.TextNode, Data: s[i:]}
				t.Data = s[:i]
				t.Parent.InsertBefore(rest, t.NextSibling)
				for len(pb.breaks) > 0 && pb.breaks[0].Word <= pb.words {
					pb.insert(t.Parent, rest)
				}
				pb.words++
				t, s, i = rest, rest.Data, size
				continue
			}
			pb.words++
		}
		i += size
	}
	return t
}

// skipTaskMarker leaves the "[ ] " or "[x] " that opens a task list item
// ("- [ ] to do") out of the count, as the PDF draws a box in its place:
// the marker becomes a text node of its own, which walk passes over.
func (pb *pageBreaker) skipTaskMarker(li *html.Node) {
	t := li.FirstChild
	for t != nil && t.Type == html.TextNode && allSpace(t.Data) {
		t = t.NextSibling
	}
	if t != nil && t.DataAtom == atom.P {
		t = t.FirstChild
	}
	if t == nil || t.Type != html.TextNode {
		return
	}
	for _, m := range []string{"[ ] ", "[x] ", "[X] "} {
		if rest, ok := strings.CutPrefix(t.Data, m); ok && !allSpace(rest) {
			marker := &html.Node{Type: html.TextNode, Data: m}
			t.Parent.InsertBefore(marker, t)
			t.Data = rest
			if pb.skip == nil {
				pb.skip = map[*html.Node]bool{}
			}
			pb.skip[marker] = true
			return
		}
	}
}

// image counts the alt text of an image that is not alone in its
// paragraph: the PDF sets it in the line.
func (pb *pageBreaker) image(img *html.Node) {
	if p := img.Parent; p != nil && p.DataAtom == atom.P {
		alone := true
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c != img && (c.Type == html.ElementNode || c.Type == html.TextNode && !allSpace(c.Data)) {
				alone = false
			}
		}
		if alone {
			return
		}
	}
	for _, a := range img.Attr {
		if a.Key != "alt" {
			continue
		}
		for _, r := range a.Val {
			if isSpace(r) {
				pb.inWord = false
			} else if !pb.inWord {
				pb.inWord = true
				// A page that starts inside the alt text starts
				// before the image.
				for len(pb.breaks) > 0 && pb.breaks[0].Word <= pb.words {
					pb.insert(img.Parent, img)
				}
				pb.words++
			}
		}
	}
}

// isSpace is the white space that separates words, as the PDF typesetter
// has it (render/pdf's isSpace): the no-break space is no word space.
func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u2002' || r == '\u2003' || r == '\u2009'
}

func allSpace(s string) bool {
	for _, r := range s {
		if !isSpace(r) {
			return false
		}
	}
	return true
}

// ids returns the IDs of the fragment's elements.
func (f *Fragment) ids() map[string]bool {
	ids := map[string]bool{}
	var collect func(*html.Node)
	collect = func(n *html.Node) {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Namespace == "" {
				ids[a.Val] = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			collect(c)
		}
	}
	collect(f.body)
	return ids
}
