package markdown_test

import (
	"bytes"
	"fmt"
	"github.com/bindery/bindery/internal/testkit"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// allowed is the allowlist the tests hold the sanitiser to: elements and
// their attributes. It is written out again here, not taken from Policy, so
// that widening the policy by mistake fails a test. "class" on th/td is the
// rewrite of align by RenderChapter.
var allowed = map[string][]string{
	"p": nil, "br": nil, "strong": nil, "em": nil, "u": nil,
	"h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
	"blockquote": nil, "code": {"class"}, "pre": nil, "ul": nil, "ol": {"start"}, "li": {"id"}, "hr": nil,
	"img": {"src", "alt", "title"}, "a": {"href", "title", "class", "role"},
	"table": nil, "thead": nil, "tbody": nil, "tfoot": nil, "tr": nil, "caption": nil,
	"th": {"align", "class"}, "td": {"align", "class"},
	"del": nil, "s": nil, "sup": {"id"}, "sub": nil,
	"div": {"class", "role"}, "figure": nil, "figcaption": nil,
}

// allowedEPUB adds to allowed what the EPUB's own rewrites write
// (Fragment.PopUpNotes, Fragment.PageBreaks); their values are checked by
// checkEPUBValues.
var allowedEPUB = func() map[string][]string {
	m := map[string][]string{
		"aside": {"id", "class", "epub:type", "role"},
		"span":  {"class", "epub:type", "role", "id", "aria-label"},
	}
	for k, v := range allowed {
		m[k] = v
	}
	m["a"] = append([]string{"epub:type"}, allowed["a"]...)
	return m
}()

var allowedSchemes = map[string]bool{"": true, "http": true, "https": true, "mailto": true}

// checkSafe parses out as HTML, the way a browser would, and returns an
// error for anything executable or outside the allowlist: an element or
// attribute not in allowed, any on* attribute, a comment, an href with a
// scheme other than http, https or mailto, or an img src that is not a
// relative path inside the book.
func checkSafe(out []byte) error {
	nodes, err := html.ParseFragment(bytes.NewReader(out), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if err := checkNode(n, allowed); err != nil {
			return err
		}
	}
	return nil
}

func checkNode(n *html.Node, allowed map[string][]string) error {
	switch n.Type {
	case html.CommentNode:
		return fmt.Errorf("comment %q", n.Data)
	case html.DoctypeNode:
		return fmt.Errorf("doctype")
	case html.ElementNode:
		attrs, ok := allowed[n.Data]
		if !ok || n.Namespace != "" {
			return fmt.Errorf("element <%s> (namespace %q) not allowed", n.Data, n.Namespace)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				return fmt.Errorf("<%s %s=%q>: event handler", n.Data, a.Key, a.Val)
			}
			if a.Namespace != "" || !contains(attrs, a.Key) {
				return fmt.Errorf("<%s %s=%q>: attribute not allowed", n.Data, a.Key, a.Val)
			}
			switch a.Key {
			case "href":
				if err := checkURL(a.Val, false); err != nil {
					return fmt.Errorf("<%s href=%q>: %v", n.Data, a.Val, err)
				}
			case "src":
				if err := checkURL(a.Val, true); err != nil {
					return fmt.Errorf("<%s src=%q>: %v", n.Data, a.Val, err)
				}
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if err := checkNode(c, allowed); err != nil {
			return err
		}
	}
	return nil
}

// checkURL applies a browser's view: leading/trailing C0 controls and
// spaces are stripped and tabs/newlines removed before the scheme is read.
func checkURL(v string, image bool) error {
	s := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, strings.TrimFunc(v, func(r rune) bool { return r <= ' ' }))
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("unparsable URL: %v", err)
	}
	if image {
		if u.Scheme != "" || u.Host != "" || strings.HasPrefix(s, "/") || strings.Contains(s, "\\") {
			return fmt.Errorf("image is not a relative path")
		}
		return nil
	}
	if !allowedSchemes[strings.ToLower(u.Scheme)] {
		return fmt.Errorf("scheme %q not allowed", u.Scheme)
	}
	if i := strings.IndexAny(s, ":/?#"); i >= 0 && s[i] == ':' && u.Scheme == "" {
		return fmt.Errorf("scheme-like prefix %q", s[:i])
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkWellFormedXML parses an XHTML fragment with encoding/xml in strict
// mode, as an EPUB reader's XML parser would.
func checkWellFormedXML(frag []byte) error {
	doc := append(append([]byte(`<body xmlns="http://www.w3.org/1999/xhtml">`), frag...), "</body>"...)
	return testkit.WellFormedXML(doc)
}
