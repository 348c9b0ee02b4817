package markdown

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// epubNS marks the attributes this package writes as epub:type (EPUB 3
// structural semantics). Only this package sets a Namespace on an
// attribute: the sanitised tree has none (x/net/html sets one only in SVG
// and MathML content, which the policy removes), and WriteXHTML writes no
// other namespaced attribute, so no input can produce an epub:type.
const epubNS = "epub"

// PopUpNotes rewrites the chapter's footnotes for EPUB reading systems
// (Apple Books, Kobo, Kindle, Thorium) that show a note over the page
// instead of jumping to it: every reference gets epub:type="noteref"
// beside its role="doc-noteref" and points into its own document
// ("#id"), and the list at the end of the chapter becomes one
// <aside epub:type="footnote" role="doc-footnote"> per note, numbered in
// its text (an aside has no list marker) and keeping its back-link
// (role="doc-backlink"). The notes container loses role="doc-endnotes":
// what it now holds are footnotes.
//
// Only the XHTML of an EPUB declares the epub prefix; call PopUpNotes
// before WriteXHTML, never for WriteHTML (epub:type is no HTML5
// attribute).
func (f *Fragment) PopUpNotes() {
	for n := f.body.FirstChild; n != nil; n = n.NextSibling {
		if n.DataAtom == atom.Div && hasClass(n, "footnotes") {
			asideNotes(n)
		}
	}
	ids := f.ids()
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.DataAtom == atom.A {
			switch {
			case hasClass(n, "footnote-ref"):
				if localHref(n, ids) {
					n.Attr = append(n.Attr, html.Attribute{Namespace: epubNS, Key: "type", Val: "noteref"})
				}
			case hasClass(n, "footnote-backref"):
				localHref(n, ids)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(f.body)
}

// asideNotes turns div.footnotes > ol > li into asides.
func asideNotes(div *html.Node) {
	removeAttr(div, "role")
	var lists []*html.Node
	for ol := div.FirstChild; ol != nil; ol = ol.NextSibling {
		if ol.DataAtom == atom.Ol {
			lists = append(lists, ol)
		}
	}
	for _, ol := range lists {
		num := 1
		for _, a := range ol.Attr {
			if a.Key == "start" {
				if v, err := strconv.Atoi(a.Val); err == nil {
					num = v
				}
			}
		}
		for li := ol.FirstChild; li != nil; li = li.NextSibling {
			if li.DataAtom != atom.Li {
				continue
			}
			div.InsertBefore(noteAside(li, num), ol)
			div.InsertBefore(&html.Node{Type: html.TextNode, Data: "\n"}, ol)
			num++
		}
		div.RemoveChild(ol)
	}
}

// noteAside moves the content of note li into an aside, the note's
// number in front.
func noteAside(li *html.Node, num int) *html.Node {
	aside := &html.Node{Type: html.ElementNode, Data: "aside", DataAtom: atom.Aside}
	for _, a := range li.Attr {
		if a.Key == "id" && a.Namespace == "" {
			aside.Attr = append(aside.Attr, a)
		}
	}
	aside.Attr = append(aside.Attr,
		html.Attribute{Key: "class", Val: "footnote"},
		html.Attribute{Namespace: epubNS, Key: "type", Val: "footnote"},
		html.Attribute{Key: "role", Val: "doc-footnote"})
	for c := li.FirstChild; c != nil; {
		next := c.NextSibling
		li.RemoveChild(c)
		aside.AppendChild(c)
		c = next
	}
	label := &html.Node{Type: html.ElementNode, Data: "span", DataAtom: atom.Span,
		Attr: []html.Attribute{{Key: "class", Val: "footnote-number"}}}
	label.AppendChild(&html.Node{Type: html.TextNode, Data: strconv.Itoa(num) + "."})
	first := aside.FirstChild
	for first != nil && first.Type != html.ElementNode {
		first = first.NextSibling
	}
	if first == nil || first.DataAtom != atom.P {
		first = &html.Node{Type: html.ElementNode, Data: "p", DataAtom: atom.P}
		aside.InsertBefore(first, aside.FirstChild)
	}
	first.InsertBefore(&html.Node{Type: html.TextNode, Data: " "}, first.FirstChild)
	first.InsertBefore(label, first.FirstChild)
	return aside
}

// localHref cuts the file name off a link to an element of this chapter
// ("ch1.xhtml#ch1-fn-1" → "#ch1-fn-1"), as some reading systems show a
// note as a pop-up only when the link says it is in the same document.
// It reports whether the link's target is in ids (the chapter's IDs);
// a link elsewhere (raw HTML may carry class="footnote-ref") is left as
// it is.
func localHref(n *html.Node, ids map[string]bool) bool {
	for i := range n.Attr {
		if n.Attr[i].Key == "href" && n.Attr[i].Namespace == "" {
			if _, frag, ok := strings.Cut(n.Attr[i].Val, "#"); ok && ids[frag] {
				n.Attr[i].Val = "#" + frag
				return true
			}
		}
	}
	return false
}

func hasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Key == "class" && a.Namespace == "" {
			for _, c := range strings.Fields(a.Val) {
				if c == class {
					return true
				}
			}
		}
	}
	return false
}

func removeAttr(n *html.Node, key string) {
	out := n.Attr[:0]
	for _, a := range n.Attr {
		if a.Key != key || a.Namespace != "" {
			out = append(out, a)
		}
	}
	n.Attr = out
}
