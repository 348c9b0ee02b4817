package markdown

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Fragment is a sanitised, rewritten chapter as an HTML tree (children of
// a body element). Write it with WriteHTML or WriteXHTML; do not add
// elements or attributes that did not pass the sanitiser, but for the
// fixed ones of this package's own rewrites (PopUpNotes, PageBreaks).
type Fragment struct {
	body       *html.Node // the children of body are the fragment
	addedTitle *html.Node // the h1 RenderChapter added, if any
}

// WriteHTML writes the fragment as HTML5, escaped by golang.org/x/net/html.
func (f *Fragment) WriteHTML(w io.Writer) error {
	for n := f.body.FirstChild; n != nil; n = n.NextSibling {
		if err := html.Render(w, n); err != nil {
			return err
		}
	}
	return nil
}

// WriteXHTML writes the fragment as well-formed XML in the XHTML namespace
// of its parent document (EPUB content documents are XHTML): void elements
// self-closed, every text and attribute value escaped, no named entities,
// and characters that XML forbids (most C0 controls, U+FFFE, U+FFFF)
// replaced by U+FFFD, so that no input can make the file unparsable.
func (f *Fragment) WriteXHTML(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for n := f.body.FirstChild; n != nil; n = n.NextSibling {
		writeXHTML(bw, n)
	}
	return bw.Flush()
}

var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

func writeXHTML(w *bufio.Writer, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		escapeXML(w, n.Data, false)
	case html.ElementNode:
		w.WriteByte('<')
		w.WriteString(n.Data)
		for _, a := range n.Attr {
			name := a.Key
			switch {
			case a.Namespace == epubNS && a.Key == "type":
				name = "epub:type" // set by PopUpNotes or PageBreaks only
			case a.Namespace != "" || !validAttrName(a.Key):
				continue
			}
			w.WriteByte(' ')
			w.WriteString(name)
			w.WriteString(`="`)
			escapeXML(w, a.Val, true)
			w.WriteByte('"')
		}
		if voidElements[n.Data] {
			w.WriteString("/>")
			return
		}
		w.WriteByte('>')
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			writeXHTML(w, c)
		}
		w.WriteString("</")
		w.WriteString(n.Data)
		w.WriteByte('>')
	case html.DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			writeXHTML(w, c)
		}
	}
	// Comments, doctypes and raw nodes are dropped: the sanitiser removes
	// them anyway, and a comment could hide "--" that XML forbids.
}

func validAttrName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r == '-' && i > 0 || r >= '0' && r <= '9' && i > 0
		if !ok {
			return false
		}
	}
	return true
}

func escapeXML(w *bufio.Writer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '"' && attr:
			esc = "&quot;"
		case r == '\n' && attr: // attribute value normalisation would turn it into a space
			esc = "&#10;"
		case r == '\t' && attr:
			esc = "&#9;"
		case r == '\r': // line-end normalisation would drop it
			esc = "&#13;"
		case !xmlChar(r) || r == utf8.RuneError && size == 1:
			esc = "\uFFFD"
		}
		if esc != "" {
			w.WriteString(s[last:i])
			w.WriteString(esc)
			last = i + size
		}
		i += size
	}
	w.WriteString(s[last:])
}

// xmlChar reports whether r may appear in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// Text returns the text content of the fragment, for summaries and tests.
func (f *Fragment) Text() string { return nodeText(f.body) }

// Heading is a heading of a rendered chapter, for tables of contents.
type Heading struct {
	Level int    // 1–6
	ID    string // the element's id (already unique in the book), or ""
	Text  string // plain text
}

// Headings returns the headings of the fragment in document order.
func (f *Fragment) Headings() []Heading {
	var hs []Heading
	for n := f.body.FirstChild; n != nil; n = n.NextSibling {
		if n.Type != html.ElementNode || len(n.Data) != 2 || n.Data[0] != 'h' || n.Data[1] < '1' || n.Data[1] > '6' {
			continue
		}
		h := Heading{Level: int(n.Data[1] - '0'), Text: strings.TrimSpace(nodeText(n))}
		for _, a := range n.Attr {
			if a.Key == "id" {
				h.ID = a.Val
			}
		}
		hs = append(hs, h)
	}
	return hs
}

// MissingAlt reports whether an image of the fragment has empty alt text.
func (f *Fragment) MissingAlt() bool {
	var missing bool
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "img" {
			alt := ""
			for _, a := range n.Attr {
				if a.Key == "alt" {
					alt = a.Val
				}
			}
			missing = missing || strings.TrimSpace(alt) == ""
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(f.body)
	return missing
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
