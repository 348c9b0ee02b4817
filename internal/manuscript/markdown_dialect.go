package manuscript

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
)

// Dialect returns the goldmark configuration of chapter Markdown:
// CommonMark, GFM tables and strikethrough, footnotes, and heading
// attributes ("# Title {#id}"). With smart, it also has the typographer
// (curly quotes, en and em dashes, ellipses, as pandoc's "smart") and
// automatic heading IDs; the CommonMark conformance test runs without them,
// since both change the expected HTML by design.
//
// The renderer emits raw HTML and every URL unfiltered (html.WithUnsafe):
// its output is NOT safe to show. Safety is the job of the sanitiser in
// package render/markdown, which runs on the rendered HTML — the layer where
// Markdown's own constructs (links, autolinks, images) have become HTML.
// Filtering here as well would only hide the sanitiser's gaps from its tests.
//
// Table cell alignment is emitted as an align attribute, never a style
// attribute, so that no inline CSS reaches the output (strict CSP); the
// renderers turn it into a class.
func Dialect(smart bool) goldmark.Markdown {
	exts := []goldmark.Extender{
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		extension.Strikethrough,
		extension.Footnote,
	}
	popts := []parser.Option{parser.WithAttribute()}
	if smart {
		// Substitute characters, not entities, so that titles taken from
		// headings read "It’s", not "It&rsquo;s".
		exts = append(exts, extension.NewTypographer(extension.WithTypographicSubstitutions(map[extension.TypographicPunctuation]string{
			extension.LeftSingleQuote:  "‘",
			extension.RightSingleQuote: "’",
			extension.LeftDoubleQuote:  "“",
			extension.RightDoubleQuote: "”",
			extension.EnDash:           "–",
			extension.EmDash:           "—",
			extension.Ellipsis:         "…",
			extension.LeftAngleQuote:   "«",
			extension.RightAngleQuote:  "»",
			extension.Apostrophe:       "’",
		})))
		popts = append(popts, parser.WithAutoHeadingID())
	}
	return goldmark.New(
		goldmark.WithExtensions(exts...),
		goldmark.WithParserOptions(popts...),
		goldmark.WithRendererOptions(html.WithUnsafe()),
	)
}

// dialect is the one parser Load uses; goldmark parsers hold no state
// between calls, so it is shared.
var dialect = Dialect(true)

// ParseMarkdown parses one chapter body with the book dialect. Heading IDs
// are made by [Slug], de-duplicated with "-1", "-2", … as pandoc does.
//
// ParseMarkdown applies none of the limits of Load: parse text that did
// not come through Load with ParseBody.
func ParseMarkdown(body []byte) ast.Node { return parseMarkdown(context.Background(), body) }

func parseMarkdown(ctx context.Context, body []byte) ast.Node {
	pc := parser.NewContext(parser.WithIDs(newHeadingIDs()))
	var r text.Reader = text.NewReader(body)
	if ctx.Done() != nil {
		r = &ctxTextReader{Reader: r, ctx: ctx}
	}
	return dialect.Parser().Parse(r, parser.WithContext(pc))
}

// ctxTextReader ends the text for goldmark's block parser once ctx is
// done: the parser reads every line through PeekLine or SkipBlankLines, so
// the parse stops within a few lines, as at the end of the text (the
// inline parsing of the blocks already read follows, bounded by what was
// read). ctx is looked at every 256 calls.
type ctxTextReader struct {
	text.Reader
	ctx   context.Context
	calls int
	done  bool
}

func (r *ctxTextReader) ended() bool {
	if !r.done {
		r.calls++
		r.done = r.calls%256 == 0 && r.ctx.Err() != nil
	}
	return r.done
}

func (r *ctxTextReader) PeekLine() ([]byte, text.Segment) {
	if r.ended() {
		return nil, text.Segment{}
	}
	return r.Reader.PeekLine()
}

func (r *ctxTextReader) SkipBlankLines() (text.Segment, int, bool) {
	if r.ended() {
		return text.Segment{}, 0, false
	}
	return r.Reader.SkipBlankLines()
}

// Slug makes a heading ID from heading text the way pandoc does, so that
// links written for pandoc ("02-next.md#the-storm") keep working: letters
// (any script) and digits are kept and lower-cased, "_", "-" and "." are
// kept, spaces become "-", everything else is dropped, and anything before
// the first letter is dropped. An empty result is "section".
func Slug(text string) string {
	var b strings.Builder
	seenLetter := false
	for _, r := range text {
		switch {
		case unicode.IsLetter(r):
			seenLetter = true
			b.WriteRune(unicode.ToLower(r))
		case !seenLetter:
		case unicode.IsDigit(r), r == '_', r == '-', r == '.':
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if s == "" {
		return "section"
	}
	return s
}

// headingIDs remembers, per slug, the last suffix it gave, so that n
// headings with the same text cost n steps, not n²/2 (a chapter of 8000
// "# h" lines took 3.6 s when every ID was searched from "-1").
type headingIDs struct {
	used map[string]bool
	next map[string]int // slug → last suffix tried
}

func newHeadingIDs() *headingIDs {
	return &headingIDs{used: map[string]bool{}, next: map[string]int{}}
}

func (h *headingIDs) Generate(value []byte, _ ast.NodeKind) []byte {
	base := Slug(string(value))
	id := base
	if h.used[id] {
		i := h.next[base]
		for {
			i++
			id = base + "-" + strconv.Itoa(i)
			if !h.used[id] {
				break
			}
		}
		h.next[base] = i
	}
	h.used[id] = true
	return []byte(id)
}

func (h *headingIDs) Put(value []byte) { h.used[string(value)] = true }
