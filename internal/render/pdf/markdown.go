package pdf

import (
	"bytes"
	"path"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// style is a set of inline styles.
type style uint8

const (
	italic style = 1 << iota
	bold
	mono
	strike
	super
	sub
	under
)

// htmlStyles are the inline HTML elements the PDF sets (as styles; their
// tags are otherwise dropped like all raw HTML): <sup>2</sup>,
// <sub>2</sub>, <u>/<ins> underlined, <s>/<del>/<strike> struck through.
var htmlStyles = map[string]style{
	"sup": super, "sub": sub, "u": under, "ins": under, "s": strike, "del": strike, "strike": strike,
}

// htmlStyleTag parses raw inline HTML that is a bare opening or closing
// tag of htmlStyles ("<sub>", "</sub>"; attributes are allowed on an
// opening tag and ignored).
func htmlStyleTag(raw string) (st style, closing, ok bool) {
	t, found := strings.CutPrefix(strings.TrimSpace(raw), "<")
	if !found {
		return 0, false, false
	}
	t, found = strings.CutSuffix(t, ">")
	if !found {
		return 0, false, false
	}
	t, closing = strings.CutPrefix(t, "/")
	name := t
	if i := strings.IndexAny(t, " \t\n/"); i >= 0 {
		if closing {
			return 0, false, false
		}
		name = t[:i]
	}
	st, ok = htmlStyles[strings.ToLower(name)]
	return st, closing, ok
}

// span is a run of inline text in one style. A span with brk set is a
// hard line break and has no text.
type span struct {
	text   string
	style  style
	link   string // resolved destination: "#dest" (internal) or a URI
	anchor string // destination defined at this span
	brk    bool
}

type blockKind uint8

const (
	bPara blockKind = iota
	bHeading
	bQuote
	bList
	bCode
	bRule
	bTable
	bFigure
)

// block is one block of a chapter, independent of any layout.
type block struct {
	kind     blockKind
	level    int         // heading level
	anchor   string      // heading destination
	spans    []span      // paragraph, heading, figure caption
	children []block     // quote
	items    [][]block   // list items
	tasks    []taskState // per list item: a task list item's box, if any
	ordered  bool
	start    int
	code     string
	rows     [][][]span // table: rows of cells; row 0 is the header
	header   bool
	aligns   []align // table column alignments
	image    string  // figure source path
}

// chapterDoc is a parsed chapter: its blocks and its footnotes, in order.
type chapterDoc struct {
	title     string
	blocks    []block
	footnotes [][]block
}

// md is the book's one Markdown dialect (manuscript.Dialect): the PDF reads
// chapters exactly as the EPUB and HTML builds do, heading attributes
// ("# Title {#id}") included.
var md = manuscript.Dialect(true)

// splitFrontMatter removes a leading YAML front matter block and returns
// its "title:" value, if any.
func splitFrontMatter(src []byte) (body []byte, title string) {
	if !bytes.HasPrefix(src, []byte("---\n")) && !bytes.HasPrefix(src, []byte("---\r\n")) {
		return src, ""
	}
	rest := src[bytes.IndexByte(src, '\n')+1:]
	for len(rest) > 0 {
		nl := bytes.IndexByte(rest, '\n')
		line := rest
		if nl >= 0 {
			line = rest[:nl]
		}
		l := strings.TrimRight(string(line), "\r")
		if l == "---" || l == "..." {
			if nl < 0 {
				return nil, title
			}
			return rest[nl+1:], title
		}
		if v, ok := strings.CutPrefix(l, "title:"); ok {
			title = strings.Trim(strings.TrimSpace(v), `"'`)
		}
		if nl < 0 {
			break
		}
		rest = rest[nl+1:]
	}
	return src, "" // unterminated: not front matter
}

// linker resolves link destinations of chapter ci.
type linker struct {
	ci      int
	chapter map[string]int // chapter ID or file stem → index
}

// resolve maps a Markdown link destination to "#dest" for a place in the
// book, a URI for an external link, or "" for a link that goes nowhere.
func (l linker) resolve(dest string) string {
	if dest == "" {
		return ""
	}
	if i := strings.Index(dest, ":"); i > 0 && !strings.ContainsAny(dest[:i], "/#.") {
		return dest // has a scheme
	}
	file, frag, _ := strings.Cut(dest, "#")
	ci := l.ci
	if file != "" {
		stem := strings.TrimSuffix(path.Base(file), path.Ext(file))
		i, ok := l.chapter[stem]
		if !ok {
			return ""
		}
		ci = i
	}
	if frag == "" {
		return "#" + chapterDest(ci)
	}
	return "#" + anchorDest(ci, frag)
}

func chapterDest(ci int) string          { return "c" + strconv.Itoa(ci) }
func anchorDest(ci int, a string) string { return "c" + strconv.Itoa(ci) + "-" + a }
func noteDest(ci, n int) string          { return "c" + strconv.Itoa(ci) + "-fn" + strconv.Itoa(n) }
func noteRefDest(ci, n int) string       { return "c" + strconv.Itoa(ci) + "-fnref" + strconv.Itoa(n) }

// parseChapter parses chapter Markdown into blocks. Raw HTML is dropped.
func parseChapter(src []byte, l linker, st *stopper) chapterDoc {
	body, title := splitFrontMatter(src)
	var r text.Reader = text.NewReader(body)
	if st != nil {
		r = &stopReader{Reader: r, s: st}
	}
	doc := md.Parser().Parse(r)
	c := &conv{src: body, l: l}
	var out chapterDoc
	out.title = title
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if fl, ok := n.(*east.FootnoteList); ok {
			for f := fl.FirstChild(); f != nil; f = f.NextSibling() {
				out.footnotes = append(out.footnotes, c.blocks(f))
			}
			continue
		}
		out.blocks = append(out.blocks, c.block(n)...)
	}
	return out
}

type conv struct {
	src []byte
	l   linker
}

func (c *conv) blocks(parent ast.Node) []block {
	var out []block
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		out = append(out, c.block(n)...)
	}
	return out
}

func (c *conv) block(n ast.Node) []block {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		if img := soleImage(n, c.src); img != nil {
			return []block{{kind: bFigure, image: string(img.Destination), spans: c.inlines(img, 0, "")}}
		}
		spans := c.inlines(n, 0, "")
		if len(spans) == 0 {
			return nil
		}
		return []block{{kind: bPara, spans: spans}}
	case *ast.Heading:
		b := block{kind: bHeading, level: n.Level, spans: c.inlines(n, 0, "")}
		if id, ok := n.AttributeString("id"); ok {
			if s, ok := id.([]byte); ok {
				b.anchor = anchorDest(c.l.ci, string(s))
			}
		}
		return []block{b}
	case *ast.Blockquote:
		return []block{{kind: bQuote, children: c.blocks(n)}}
	case *ast.List:
		b := block{kind: bList, ordered: n.IsOrdered(), start: n.Start}
		tasks := false
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			item := c.blocks(it)
			t := taskItem(item)
			tasks = tasks || t != taskNone
			b.items = append(b.items, item)
			b.tasks = append(b.tasks, t)
		}
		if !tasks {
			b.tasks = nil
		}
		return []block{b}
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var sb strings.Builder
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			sb.Write(seg.Value(c.src))
		}
		return []block{{kind: bCode, code: strings.TrimRight(sb.String(), "\n")}}
	case *ast.ThematicBreak:
		return []block{{kind: bRule}}
	case *east.Table:
		b := block{kind: bTable}
		for _, a := range n.Alignments {
			switch a {
			case east.AlignRight:
				b.aligns = append(b.aligns, right)
			case east.AlignCenter:
				b.aligns = append(b.aligns, center)
			default:
				b.aligns = append(b.aligns, left)
			}
		}
		for r := n.FirstChild(); r != nil; r = r.NextSibling() {
			var row [][]span
			for cell := r.FirstChild(); cell != nil; cell = cell.NextSibling() {
				row = append(row, c.inlines(cell, 0, ""))
			}
			if _, ok := r.(*east.TableHeader); ok {
				b.header = true
			}
			b.rows = append(b.rows, row)
		}
		return []block{b}
	case *ast.HTMLBlock:
		return nil // raw HTML never reaches the PDF
	}
	if n.Type() == ast.TypeBlock && n.HasChildren() {
		return c.blocks(n)
	}
	return nil
}

// taskState is whether a list item is a task (GFM's "- [ ] to do") and
// whether it is done.
type taskState uint8

const (
	taskNone taskState = iota
	taskOpen
	taskDone
)

// taskItem recognises a task list item by the "[ ] " or "[x] " that
// starts its first paragraph, and cuts it off: the list draws a box
// instead. (The book's Markdown dialect, shared with the EPUB, has no
// task-list extension, so the marker arrives as text.)
func taskItem(item []block) taskState {
	if len(item) == 0 || item[0].kind != bPara || len(item[0].spans) == 0 || item[0].spans[0].brk {
		return taskNone
	}
	sp := &item[0].spans[0]
	for _, m := range []struct {
		prefix string
		t      taskState
	}{{"[ ] ", taskOpen}, {"[x] ", taskDone}, {"[X] ", taskDone}} {
		if rest, ok := strings.CutPrefix(sp.text, m.prefix); ok && strings.TrimSpace(rest) != "" {
			sp.text = rest
			return m.t
		}
	}
	return taskNone
}

// soleImage returns the image if n holds nothing but one image.
func soleImage(n ast.Node, src []byte) *ast.Image {
	var img *ast.Image
	for ch := n.FirstChild(); ch != nil; ch = ch.NextSibling() {
		switch ch := ch.(type) {
		case *ast.Image:
			if img != nil {
				return nil
			}
			img = ch
		case *ast.Text:
			if len(bytes.TrimSpace(ch.Value(src))) != 0 || ch.HardLineBreak() {
				return nil
			}
		default:
			return nil
		}
	}
	return img
}

// inlines flattens the inline children of n into spans.
func (c *conv) inlines(n ast.Node, st style, link string) []span {
	var out []span
	add := func(s string, st style) {
		if s == "" {
			return
		}
		if k := len(out) - 1; k >= 0 && !out[k].brk && out[k].style == st && out[k].link == link && out[k].anchor == "" {
			out[k].text += s
			return
		}
		out = append(out, span{text: s, style: st, link: link})
	}
	// Inline HTML styles open and close as sibling nodes: open ones are
	// stacked, so "</sub>" restores the style before its "<sub>" (an
	// unclosed tag lasts to the end of its parent).
	var open []style
	for ch := n.FirstChild(); ch != nil; ch = ch.NextSibling() {
		switch ch := ch.(type) {
		case *ast.Text:
			add(string(ch.Value(c.src)), st)
			switch {
			case ch.HardLineBreak():
				out = append(out, span{brk: true})
			case ch.SoftLineBreak():
				add(" ", st)
			}
		case *ast.String:
			add(string(ch.Value), st)
		case *ast.CodeSpan:
			var sb strings.Builder
			for t := ch.FirstChild(); t != nil; t = t.NextSibling() {
				if tx, ok := t.(*ast.Text); ok {
					sb.Write(tx.Value(c.src))
				} else if s, ok := t.(*ast.String); ok {
					sb.Write(s.Value)
				}
			}
			add(sb.String(), st|mono)
		case *ast.Emphasis:
			ns := st
			if ch.Level >= 2 {
				ns |= bold
			} else {
				ns ^= italic // emphasis inside italics is upright
			}
			out = append(out, c.inlines(ch, ns, link)...)
		case *east.Strikethrough:
			out = append(out, c.inlines(ch, st|strike, link)...)
		case *ast.Link:
			out = append(out, c.inlines(ch, st, c.l.resolve(string(ch.Destination)))...)
		case *ast.AutoLink:
			u := string(ch.URL(c.src))
			dest := u
			if ch.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(u, "mailto:") {
				dest = "mailto:" + u
			}
			out = append(out, span{text: string(ch.Label(c.src)), style: st, link: dest})
		case *ast.Image:
			out = append(out, c.inlines(ch, st, link)...)
		case *east.FootnoteLink:
			out = append(out, span{text: strconv.Itoa(ch.Index), style: st | super,
				link: "#" + noteDest(c.l.ci, ch.Index), anchor: noteRefDest(c.l.ci, ch.Index)})
		case *ast.RawHTML:
			var raw strings.Builder
			for i := 0; i < ch.Segments.Len(); i++ {
				seg := ch.Segments.At(i)
				raw.Write(seg.Value(c.src))
			}
			// Other tags are dropped: HTML never executes.
			if hs, closing, ok := htmlStyleTag(raw.String()); ok {
				switch {
				case !closing:
					open = append(open, st)
					st |= hs
					if hs == sub {
						st &^= super
					} else if hs == super {
						st &^= sub
					}
				case len(open) > 0:
					st, open = open[len(open)-1], open[:len(open)-1]
				}
			}
		case *east.FootnoteBacklink:
			// dropped: backlinks are drawn by the notes section
		case *east.TaskCheckBox:
			if ch.IsChecked {
				add("\u2611 ", st)
			} else {
				add("\u2610 ", st)
			}
		default:
			out = append(out, c.inlines(ch, st, link)...)
		}
	}
	return out
}
