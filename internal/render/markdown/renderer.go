package markdown

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Renderer renders Markdown to sanitised HTML. The zero value is not
// usable; call New. A Renderer is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New returns a Renderer with the book dialect and Policy.
func New() *Renderer {
	return &Renderer{md: manuscript.Dialect(true), policy: Policy()}
}

// Render renders Markdown source (without front matter) to a sanitised HTML
// fragment, leaving URLs as written: what a live preview of unsaved text
// shows. Heading IDs are kept as written (unprefixed), so a page that runs
// scripts should rather show RenderChapter output, whose IDs cannot clobber
// DOM names. Source beyond the limits that keep parsing linear (nesting,
// unmatched markers; see manuscript.ParseBody) is refused with a
// *manuscript.Error naming the line; nothing else fails.
func (r *Renderer) Render(src []byte) ([]byte, error) {
	doc, err := manuscript.ParseBody(context.Background(), "text", src, 1)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := r.md.Renderer().Render(&buf, src, doc); err != nil {
		return nil, err
	}
	return r.policy.SanitizeBytes(buf.Bytes()), nil
}

// Linker turns references inside the book into URLs of one output format.
type Linker interface {
	// ChapterHref returns the URL of chapter c, or of the element with the
	// given id in it when id is not "" (id is already made unique with
	// ElementID).
	ChapterHref(c *manuscript.Chapter, id string) string
	// ImageSrc returns the URL under which the output holds the image at
	// the book path p (already checked to be an image of mediaType). An
	// error drops the image, leaving its alt text.
	ImageSrc(p, mediaType string) (string, error)
}

// RenderChapter renders chapter c of m to a sanitised tree for one output.
// After sanitising, it
//   - resolves every link with m.Resolve: chapter links become l's URL for
//     that chapter (and heading), external http/https/mailto links stay,
//     and every other href is removed (the text stays);
//   - resolves every image to a JPEG, PNG, GIF or WebP of the book and
//     asks l for its URL; other images are replaced by their alt text;
//   - prefixes every id with the chapter ID (ElementID), so that IDs are
//     unique across the book and never equal a name a script might use
//     (DOM clobbering);
//   - turns align="left|center|right" on table cells into a class
//     "align-…", since inline styles would break a strict CSP;
//   - puts the chapter title in front as h1 when the chapter does not open
//     with a heading.
//
// It stops with ctx's error soon after ctx is done: it renders block by
// block, and the sanitiser and the HTML parser read through a reader that
// ends when ctx does, so a preview whose client has gone or a stopped
// build does not finish a large chapter.
func (r *Renderer) RenderChapter(ctx context.Context, m *manuscript.Manuscript, c *manuscript.Chapter, l Linker) (*Fragment, error) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf) // a util.BufWriter: goldmark writes to it as is
	for n := c.Doc.FirstChild(); n != nil; n = n.NextSibling() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.md.Renderer().Render(bw, c.Body, n); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	var clean bytes.Buffer
	if err := r.policy.SanitizeReaderToWriter(ctxReader{ctx, &buf}, &clean); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	body := bodyContext()
	nodes, err := html.ParseFragment(ctxReader{ctx, &clean}, body)
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	for _, n := range nodes {
		body.AppendChild(n)
	}
	rw := rewriter{m: m, c: c, l: l, ctx: ctx}
	rw.walk(body)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f := &Fragment{body: body}
	if !c.StartsWithHeading {
		h := &html.Node{Type: html.ElementNode, Data: "h1", DataAtom: atom.H1}
		h.AppendChild(&html.Node{Type: html.TextNode, Data: c.Title})
		nl := &html.Node{Type: html.TextNode, Data: "\n"}
		body.InsertBefore(h, body.FirstChild)
		body.InsertBefore(nl, h.NextSibling)
		f.addedTitle = h
	}
	return f, nil
}

// ctxReader reads from r until ctx is done, then fails with ctx's error:
// the tokenizers of bluemonday and x/net/html stop at a read error.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// readChunk bounds each read, so that ctx is looked at every 32 KiB.
const readChunk = 32 << 10

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > readChunk {
		p = p[:readChunk]
	}
	return c.r.Read(p)
}

func bodyContext() *html.Node {
	return &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
}

// ElementID returns the ID that the element written with id in chapter c
// has in every output: the chapter ID, "-", and id with every character
// other than letters, digits, "_", "." and "-" replaced by "-" (goldmark's
// footnote IDs "fn:1" contain a colon, which XML IDs may not).
func ElementID(c *manuscript.Chapter, id string) string {
	return c.ID + "-" + strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, id)
}

type rewriter struct {
	m     *manuscript.Manuscript
	c     *manuscript.Chapter
	l     Linker
	ctx   context.Context
	nodes int // visited, to look at ctx every 1024
}

func (rw *rewriter) walk(n *html.Node) {
	if rw.nodes++; rw.nodes%1024 == 0 && rw.ctx.Err() != nil {
		return // RenderChapter reports ctx's error
	}
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		rw.walk(c)
		c = next
	}
	if n.Type != html.ElementNode {
		return
	}
	for i := 0; i < len(n.Attr); i++ {
		a := &n.Attr[i]
		switch a.Key {
		case "id":
			a.Val = ElementID(rw.c, a.Val)
		case "align":
			a.Key, a.Val = "class", "align-"+a.Val
		case "href":
			if href, ok := rw.href(a.Val); ok {
				a.Val = href
			} else {
				n.Attr = append(n.Attr[:i], n.Attr[i+1:]...)
				i--
			}
		}
	}
	if n.DataAtom == atom.Img {
		rw.image(n)
	}
	if n.DataAtom == atom.A && len(n.Attr) == 0 && n.Parent != nil {
		// A link whose destination was dropped (broken, or a refused
		// scheme) is its text, not an empty <a>.
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			n.RemoveChild(c)
			n.Parent.InsertBefore(c, n)
			c = next
		}
		n.Parent.RemoveChild(n)
	}
}

func (rw *rewriter) href(v string) (string, bool) {
	ref, err := rw.m.Resolve(rw.c.Path, v)
	if err != nil {
		return "", false
	}
	switch ref.Kind {
	case manuscript.RefExternal:
		return v, true
	case manuscript.RefChapter:
		id := ""
		if ref.Fragment != "" {
			id = ElementID(ref.Chapter, ref.Fragment)
		}
		return rw.l.ChapterHref(ref.Chapter, id), true
	}
	return "", false
}

func (rw *rewriter) image(n *html.Node) {
	var src, alt string
	for _, a := range n.Attr {
		switch a.Key {
		case "src":
			src = a.Val
		case "alt":
			alt = a.Val
		}
	}
	if ref, err := rw.m.Resolve(rw.c.Path, src); err == nil && ref.Kind == manuscript.RefFile {
		if typ, err := rw.m.ImageType(ref.Path); err == nil {
			if url, err := rw.l.ImageSrc(ref.Path, typ); err == nil {
				setAttr(n, "src", url)
				setAttr(n, "alt", alt) // alt is required in (X)HTML
				return
			}
		}
	}
	// The image cannot be shown (a draft build, or a preview, of a book
	// whose image is missing): a visible placeholder in its place, with
	// its alt text, rather than nothing.
	label := alt
	if label == "" {
		label = src
	}
	ph := &html.Node{Type: html.ElementNode, Data: "em", DataAtom: atom.Em}
	ph.AppendChild(&html.Node{Type: html.TextNode, Data: "[missing image: " + label + "]"})
	n.Parent.InsertBefore(ph, n)
	n.Parent.RemoveChild(n)
}

func setAttr(n *html.Node, key, val string) {
	for i := range n.Attr {
		if n.Attr[i].Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}
