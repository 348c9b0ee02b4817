package manuscript

import (
	"bytes"
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/util"
)

// Why this file exists: goldmark (which stays our parser) is super-linear
// on some shapes of Markdown, each measured by bench/markdown:
//
//   - every "](" of an inline link scans the rest of its line for the
//     destination, and rescans it when the link fails, so a line of
//     unclosed "[](" costs its length squared (parseLinkDestination);
//   - every emphasis closer searches back through all delimiters of its
//     paragraph (ProcessDelimiters has no "openers bottom"), so a paragraph
//     of unmatched "*a_" costs its delimiters squared;
//   - each line re-examines every open container below it, so deep block
//     quotes and lists cost depth × line length, and x/net/html refuses
//     more than 512 open elements when the fragment is parsed again after
//     sanitising (the 500 "open stack of elements exceeds 512 nodes");
//   - each footnote reference searches the definitions linearly and the
//     definitions are insertion-sorted (refs × defs + defs²);
//   - each reference definition taken out of a paragraph copies the lines
//     after it (definitions squared per paragraph);
//   - a table row is padded to the width of the header, so a wide header
//     over short rows makes output quadratic in the input.
//
// Rather than fork goldmark, scanShape bounds the input shape in one linear
// pass before goldmark sees it: it estimates the extra work each of those
// algorithms would do (an upper bound, computed in linear time) and refuses
// a paragraph whose estimate exceeds workPerByte times its size, a line
// nested deeper than Limits.MaxNesting, a table wider than
// Limits.MaxTableColumns and more than Limits.MaxFootnotes footnotes. So
// the parse of any accepted chapter costs at most a constant per byte. The
// estimate over-counts (it cannot know which markers will match), so the
// budget is generous: ordinary prose uses a small fraction of it (see
// TestShapeBudgetOfCorpus). After parsing, checkDepth bounds the nesting
// the scanner cannot see (emphasis inside links inside emphasis…).

// workPerByte is the budget of estimated super-linear steps per byte of a
// paragraph (or of a chapter, for footnotes).
const workPerByte = 32

// shapeWork, when not nil, receives the estimated work of every scan (for
// TestShapeBudgetOfCorpus).
var shapeWork func(int)

// scanShape checks body (whose first line is line firstLine of file) for
// the shapes that would make parsing super-linear. It returns nil or an
// *Error naming the line.
func scanShape(file string, body []byte, firstLine int, lim Limits) *Error {
	s := shapeScanner{file: file, lim: lim}
	line := firstLine
	for off := 0; off < len(body); line++ {
		end := bytes.IndexByte(body[off:], '\n')
		if end < 0 {
			end = len(body) - off
		}
		if err := s.line(body[off:off+end], line); err != nil {
			return err
		}
		off += end + 1
	}
	if err := s.endParagraph(); err != nil {
		return err
	}
	if s.fnDefs > 0 && s.fnRefs*s.fnDefs > workPerByte*(len(body)+1) {
		return errorf(file, s.fnLine, "%d footnote references to %d footnotes are too many for a chapter of %d bytes; split the chapter", s.fnRefs, s.fnDefs, len(body))
	}
	if shapeWork != nil {
		shapeWork(s.total + s.fnRefs*s.fnDefs)
	}
	return nil
}

type shapeScanner struct {
	file string
	lim  Limits

	// the open fenced code block: its character and length (0: none)
	fenceChar byte
	fenceLen  int

	// the paragraph being scanned (lines up to a blank line)
	paraLine  int // its first line; 0 when there is none
	paraBytes int
	work      int // estimated super-linear steps
	delims    int // emphasis delimiter runs on goldmark's list (an upper bound)
	// per delimiter character, the last run that can open and is still on
	// the list; index 0 means none
	open      [3]delimRun
	refDefs   int // lines that look like reference definitions
	tableCols int // columns of the table in this paragraph, or 0
	total     int // work of the paragraphs already closed

	fnDefs, fnRefs, fnLine int

	// "](" positions waiting for the whitespace (or ">") that ends the
	// destination scan goldmark would do from them
	pendingWS, pendingGT []int
}

func (s *shapeScanner) line(l []byte, n int) *Error {
	// Container prefix: block quote markers and list markers.
	i, depth, cols := 0, 0, 0
	for {
		ws := 0
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			if l[i] == '\t' {
				cols += 4 - cols%4
			} else {
				cols++
			}
			i, ws = i+1, ws+1
		}
		if i < len(l) && l[i] == '>' {
			depth, i = depth+1, i+1
			if i < len(l) && l[i] == ' ' { // part of the marker
				i++
			}
			continue
		}
		if w := listMarker(l[i:]); w > 0 && !thematicBreak(l[i:]) {
			depth, i = depth+1, i+w
			continue
		}
		// A list nests by indentation too: each level is indented by at
		// least two columns, so cols/2 bounds the depth it can add.
		if depth+cols/2 > s.lim.MaxNesting {
			return errorf(s.file, n, "lists and block quotes are nested more than %d levels deep", s.lim.MaxNesting)
		}
		rest := l[i:]
		if s.fenceLen > 0 {
			if closesFence(rest, s.fenceChar, s.fenceLen) {
				s.fenceLen = 0
			}
			return nil
		}
		if len(bytes.TrimSpace(rest)) == 0 {
			return s.endParagraph()
		}
		if ws <= 3 {
			if c, k := opensFence(rest); k > 0 {
				if err := s.endParagraph(); err != nil {
					return err
				}
				s.fenceChar, s.fenceLen = c, k
				return nil
			}
		}
		if s.paraLine == 0 {
			s.paraLine = n
		}
		s.paraBytes += len(l) + 1
		if max := s.lim.MaxParagraphBytes; max > 0 && s.paraBytes > max {
			return errorf(s.file, s.paraLine, "this paragraph is longer than %s; split it with a blank line (a book's typesetter holds a whole paragraph at once)", kib(int64(max)))
		}
		return s.inline(rest, n)
	}
}

// inline estimates the work of one line of a paragraph.
func (s *shapeScanner) inline(l []byte, n int) *Error {
	if len(l) > 1 && l[0] == '[' && l[1] != '^' && bytes.Contains(l, []byte("]:")) {
		s.refDefs++
		s.work += s.refDefs // each definition removed copies those before it
	}
	if len(l) > 1 && l[0] == '[' && l[1] == '^' && bytes.Contains(l, []byte("]:")) {
		s.fnDefs++
		s.fnRefs-- // counted again below as a reference
		if s.fnDefs > s.lim.MaxFootnotes {
			return errorf(s.file, n, "more than %d footnotes in one chapter", s.lim.MaxFootnotes)
		}
	}
	if cols := tableDelimiterRow(l); cols > 0 {
		if cols > s.lim.MaxTableColumns {
			return errorf(s.file, n, "table has %d columns (at most %d)", cols, s.lim.MaxTableColumns)
		}
		s.tableCols = cols
	}
	s.work += 2 * s.tableCols // each row is padded to the header's width
	if thematicBreak(l) {
		return nil
	}
	s.pendingWS, s.pendingGT = s.pendingWS[:0], s.pendingGT[:0]
	for j := 0; j < len(l); j++ {
		c := l[j]
		switch c {
		case '\\':
			j++
		case ' ', '\t', '\r':
			for _, p := range s.pendingWS {
				s.work += j - p
			}
			s.pendingWS = s.pendingWS[:0]
		case '>':
			for _, p := range s.pendingGT {
				s.work += j - p
			}
			s.pendingGT = s.pendingGT[:0]
			s.open = [3]delimRun{}
		case '*', '_', '~':
			k := j
			for k < len(l) && l[k] == c {
				k++
			}
			if k-j > 2*s.lim.MaxNesting {
				return errorf(s.file, n, "a run of %d %q nests emphasis more than %d levels deep", k-j, c, s.lim.MaxNesting)
			}
			s.delimiter(l, j, k)
			j = k - 1
		case '`', '<':
			// Code spans, autolinks and raw HTML hide what looks like
			// delimiters from goldmark: forget the openers seen so far,
			// so that no closer is assumed to match one of them.
			s.open = [3]delimRun{}
		case '[':
			if j+1 < len(l) && l[j+1] == '^' {
				s.fnRefs++
				if s.fnLine == 0 {
					s.fnLine = n
				}
			}
		case ']':
			// A link label's delimiters are processed and dropped when it
			// closes: forget them (see '`').
			s.open = [3]delimRun{}
			if j+1 < len(l) && l[j+1] == '(' {
				k := j + 2
				for k < len(l) && (l[k] == ' ' || l[k] == '\t') {
					k++
				}
				if k < len(l) && l[k] == '<' {
					s.pendingGT = append(s.pendingGT, j)
				} else {
					s.pendingWS = append(s.pendingWS, j)
				}
			}
		}
	}
	for _, p := range s.pendingWS {
		s.work += len(l) - p
	}
	for _, p := range s.pendingGT {
		s.work += len(l) - p
	}
	if s.work > workPerByte*s.paraBytes {
		return s.tooComplex()
	}
	return nil
}

func (s *shapeScanner) endParagraph() *Error {
	if s.work > workPerByte*s.paraBytes {
		return s.tooComplex()
	}
	s.total += s.work
	s.paraLine, s.paraBytes, s.work, s.delims, s.refDefs, s.tableCols = 0, 0, 0, 0, 0, 0
	s.open = [3]delimRun{}
	return nil
}

func (s *shapeScanner) tooComplex() *Error {
	return errorf(s.file, s.paraLine, "this paragraph has too many unmatched markers (*, _, ~, \"](\", reference definitions or table cells) to be formatted in reasonable time; split it with blank lines or escape the markers with \\")
}

type delimRun struct {
	index  int // position on the list, from 1; 0: none
	length int
}

// delimiter models goldmark's delimiter list (parser.ProcessDelimiters)
// for the run l[j:k] of "*", "_" or "~", with goldmark's flanking rules
// (parser.ScanDelimiter). A run that can close searches back through the
// list for an opener of its character; the steps are added to s.work. When
// the closer certainly matches the last opener of its character — "*" or
// "_" runs of equal length, which CalcComsumption always consumes whole —
// the search stops there and the runs between are removed, as goldmark
// does; otherwise the whole list is counted. So well-formed emphasis costs
// a few steps per pair, and only unmatched runs cost the length of the list.
func (s *shapeScanner) delimiter(l []byte, j, k int) {
	before, after := ' ', ' '
	if j > 0 {
		r, _ := utf8.DecodeLastRune(l[:j])
		before = r
	}
	if k < len(l) {
		after = util.ToRune(l, k)
	}
	bp, bs := util.IsPunctRune(before), util.IsSpaceRune(before)
	ap, as := util.IsPunctRune(after), util.IsSpaceRune(after)
	left := !as && (!ap || bs || bp)
	right := !bs && (!bp || as || ap)
	canOpen, canClose := left, right
	c := l[j]
	if c == '_' {
		canOpen = left && (!right || bp)
		canClose = right && (!left || ap)
	}
	slot := 0
	switch c {
	case '_':
		slot = 1
	case '~':
		slot = 2
	}
	if canClose {
		o := s.open[slot]
		if o.index > 0 && c != '~' && o.length == k-j {
			s.work += s.delims - o.index + 1
			s.delims = o.index - 1
			for i := range s.open {
				if s.open[i].index > s.delims {
					s.open[i] = delimRun{}
				}
			}
			return
		}
		s.work += s.delims
	}
	s.delims++
	if canOpen {
		s.open[slot] = delimRun{index: s.delims, length: k - j}
	}
}

// listMarker returns the width of a list marker ("-", "+", "*" or 1–9
// digits and "." or ")", followed by a space, a tab or the end of the line)
// at the start of l, or 0.
func listMarker(l []byte) int {
	if len(l) == 0 {
		return 0
	}
	i := 0
	switch l[0] {
	case '-', '+', '*':
		i = 1
	default:
		for i < len(l) && i < 9 && l[i] >= '0' && l[i] <= '9' {
			i++
		}
		if i == 0 || i >= len(l) || (l[i] != '.' && l[i] != ')') {
			return 0
		}
		i++
	}
	if i == len(l) {
		return i
	}
	if l[i] == ' ' || l[i] == '\t' {
		return i + 1
	}
	return 0
}

// thematicBreak reports whether l is a line of three or more "*", "-" or
// "_" (and spaces): a rule, not a list or emphasis.
func thematicBreak(l []byte) bool {
	var c byte
	k := 0
	for _, b := range l {
		switch {
		case b == ' ' || b == '\t' || b == '\r':
		case (b == '*' || b == '-' || b == '_') && (c == 0 || b == c):
			c, k = b, k+1
		default:
			return false
		}
	}
	return k >= 3
}

func opensFence(l []byte) (byte, int) {
	if len(l) < 3 || (l[0] != '`' && l[0] != '~') {
		return 0, 0
	}
	k := 0
	for k < len(l) && l[k] == l[0] {
		k++
	}
	if k < 3 || (l[0] == '`' && bytes.IndexByte(l[k:], '`') >= 0) {
		return 0, 0
	}
	return l[0], k
}

func closesFence(l []byte, c byte, n int) bool {
	l = bytes.TrimLeft(l, " \t")
	k := 0
	for k < len(l) && l[k] == c {
		k++
	}
	return k >= n && len(bytes.TrimSpace(l[k:])) == 0
}

// tableDelimiterRow returns the number of cells of l when it looks like the
// delimiter row of a table ("|---|:-:|"), else 0.
func tableDelimiterRow(l []byte) int {
	pipes, dash := 0, false
	for _, b := range l {
		switch b {
		case '|':
			pipes++
		case '-':
			dash = true
		case ':', ' ', '\t', '\r':
		default:
			return 0
		}
	}
	if !dash || pipes == 0 {
		return 0
	}
	t := bytes.TrimSpace(l)
	cells := pipes + 1
	if t[0] == '|' {
		cells--
	}
	if len(t) > 1 && t[len(t)-1] == '|' {
		cells--
	}
	return cells
}

// checkDepth bounds the nesting scanShape cannot see: inline nodes (emphasis,
// links, images, strikethrough) inside each other and inside block quotes
// and lists. The walk is iterative, so a deep tree cannot exhaust the stack.
func checkDepth(c *Chapter, lim Limits) *Error {
	depth := 0
	n := c.Doc
	for n != nil {
		if nests(n) {
			depth++
			if depth > lim.MaxNesting {
				return errorf(c.Path, c.lineOf(n), "lists, block quotes, links or emphasis are nested more than %d levels deep", lim.MaxNesting)
			}
		}
		if f := n.FirstChild(); f != nil {
			n = f
			continue
		}
		for n != nil && n != c.Doc {
			if nests(n) {
				depth--
			}
			if s := n.NextSibling(); s != nil {
				n = s
				break
			}
			n = n.Parent()
		}
		if n == c.Doc {
			break
		}
	}
	return nil
}

func nests(n ast.Node) bool {
	switch n.Kind() {
	case ast.KindBlockquote, ast.KindList, ast.KindEmphasis, ast.KindLink, ast.KindImage, east.KindStrikethrough:
		return true
	}
	return false
}

// ParseBody parses body, a chapter's Markdown without front matter whose
// first line is line firstLine of file, as Load does: the shape scan
// first, then goldmark, then the nesting check. Errors beyond the limits
// are *Error values naming the line. When ctx ends, parsing stops early
// (goldmark sees the end of the text) and ctx's error is returned.
func ParseBody(ctx context.Context, file string, body []byte, firstLine int) (ast.Node, error) {
	c := &Chapter{Path: file, Body: body, BodyLine: firstLine}
	if err := parseBody(ctx, c, DefaultLimits); err != nil {
		return nil, err
	}
	return c.Doc, nil
}

// parseBody sets c.Doc from c.Body within lim, stopping when ctx ends.
func parseBody(ctx context.Context, c *Chapter, lim Limits) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := scanShape(c.Path, c.Body, c.BodyLine, lim); err != nil {
		return err
	}
	c.Doc = parseMarkdown(ctx, c.Body)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkDepth(c, lim); err != nil {
		return err
	}
	return nil
}

// kib writes a size as "512 KiB", or in bytes when it is not a whole
// number of KiB (a limit lowered by an operator).
func kib(n int64) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
