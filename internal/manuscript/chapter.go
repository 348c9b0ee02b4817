package manuscript

import (
	"bytes"
	"context"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark/ast"
	"go.yaml.in/yaml/v3"
)

// ChaptersDir is the folder of chapter files inside a book folder.
const ChaptersDir = "chapters"

// Chapter is one chapters/*.md file.
type Chapter struct {
	Path  string // slash path relative to the book folder, e.g. "chapters/02-storm.md"
	Index int    // position in reading order, from 0
	// ID is unique within the book, starts with a letter and holds only
	// [a-z0-9-], so it is safe as a file name and as an HTML id prefix
	// ("02-storm.md" gives "ch02-storm").
	ID string
	// Title comes from the front matter, else the first heading, else the
	// file name ("02-the-storm.md" gives "The storm").
	Title string
	// StartsWithHeading reports whether the body opens with a heading. When
	// it does not, renderers put Title in front as its heading, so that every
	// chapter has one (Frankenstein's chapters carry their title in the
	// front matter only).
	StartsWithHeading bool
	Body              []byte   // Markdown after the front matter
	BodyLine          int      // line of the file on which Body starts
	Doc               ast.Node // Body parsed with the book dialect; read-only

	lineStarts []int // byte offsets of the lines of Body, made by Line
}

// Line returns the line of the chapter file that holds byte offset off of
// Body.
func (c *Chapter) Line(off int) int {
	if c.lineStarts == nil {
		starts := []int{0}
		for i, b := range c.Body {
			if b == '\n' {
				starts = append(starts, i+1)
			}
		}
		c.lineStarts = starts
	}
	n := sort.Search(len(c.lineStarts), func(i int) bool { return c.lineStarts[i] > off })
	return c.BodyLine + n - 1
}

// CheckChapter applies to data, the content of the chapter file file
// (chapters/NN-name.md), the checks Load applies under lim to a chapter — size,
// UTF-8, front matter, the shape and nesting limits — and returns the
// same *Error Load would, so that an upload is refused with the words a
// build would use. Links, images and footnotes, which depend on the rest
// of the book, are Check's.
func CheckChapter(ctx context.Context, file string, data []byte, lim Limits) error {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxChapterBytes {
		return errorf(file, 0, "file too large: %d bytes (limit %d)", len(data), lim.MaxChapterBytes)
	}
	_, err := parseChapter(ctx, file, data, lim)
	return err
}

// parseChapter turns the bytes of one chapter file into a Chapter (without
// Index and ID, which depend on its neighbours).
func parseChapter(ctx context.Context, file string, data []byte, lim Limits) (*Chapter, error) {
	if !utf8.Valid(data) {
		return nil, errorf(file, firstInvalidUTF8Line(data), "invalid UTF-8")
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	c := &Chapter{Path: file, BodyLine: 1, Body: data}
	fm, body, bodyLine, err := splitFrontMatter(file, data, lim)
	if err != nil {
		return nil, err
	}
	if fm != nil {
		doc, err := parseYAML(file, 2, fm, lim)
		if err != nil {
			return nil, err
		}
		err = doc.each(func(key string, v *yaml.Node) error {
			var err error
			if key == "title" {
				c.Title, err = doc.str(key, v)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		c.Body, c.BodyLine = body, bodyLine
	}
	if err := parseBody(ctx, c, lim); err != nil {
		return nil, err
	}
	if first := c.Doc.FirstChild(); first != nil && first.Kind() == ast.KindHeading {
		c.StartsWithHeading = true
	}
	if c.Title == "" {
		c.Title = firstHeadingText(c.Doc, c.Body)
	}
	if c.Title == "" {
		c.Title = titleFromFileName(file)
	}
	return c, nil
}

// splitFrontMatter finds a YAML front matter block: a first line "---" not
// followed by a blank line (pandoc's rule, which tells it apart from a
// thematic break), closed by a line "---" or "...".
func splitFrontMatter(file string, data []byte, lim Limits) (fm, body []byte, bodyLine int, err error) {
	first, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok || string(bytes.TrimRight(first, " \t\r")) != "---" {
		return nil, data, 1, nil
	}
	if next, _, _ := bytes.Cut(rest, []byte("\n")); len(bytes.TrimSpace(next)) == 0 {
		return nil, data, 1, nil
	}
	off, line := 0, 2
	for off < len(rest) {
		if off > lim.MaxFrontMatterBytes {
			return nil, nil, 0, errorf(file, 1, "front matter larger than %d bytes", lim.MaxFrontMatterBytes)
		}
		l, _, _ := bytes.Cut(rest[off:], []byte("\n"))
		end := off + len(l) + 1
		if t := string(bytes.TrimRight(l, " \t\r")); t == "---" || t == "..." {
			if end > len(rest) {
				end = len(rest)
			}
			return rest[:off], rest[end:], line + 1, nil
		}
		off, line = end, line+1
	}
	return nil, nil, 0, errorf(file, 1, `front matter is not closed by a line "---"`)
}

// firstHeadingText returns the plain text of the first heading, or "".
func firstHeadingText(doc ast.Node, src []byte) string {
	var title string
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && n.Kind() == ast.KindHeading {
			title = strings.TrimSpace(PlainText(n, src))
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return title
}

// PlainText returns the text of an inline tree, without markup: what a table
// of contents or an alt attribute should show.
func PlainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := n.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.CodeSpan:
			for c := t.FirstChild(); c != nil; c = c.NextSibling() {
				if s, ok := c.(*ast.Text); ok {
					b.Write(s.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// titleFromFileName derives a title from "NN-slug.md": "02-the-storm.md"
// gives "The storm".
func titleFromFileName(file string) string {
	base := strings.TrimSuffix(path.Base(file), path.Ext(file))
	base = strings.TrimLeftFunc(base, func(r rune) bool {
		return unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' || r == ' '
	})
	base = strings.TrimSpace(strings.NewReplacer("-", " ", "_", " ").Replace(base))
	if base == "" {
		return "Untitled"
	}
	r, size := utf8.DecodeRuneInString(base)
	return string(unicode.ToUpper(r)) + base[size:]
}

// chapterID derives the ID of a chapter from its file name; used marks IDs
// already taken.
func chapterID(file string, used map[string]bool) string {
	base := strings.TrimSuffix(path.Base(file), path.Ext(file))
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	id := strings.Trim(b.String(), "-")
	for strings.Contains(id, "--") {
		id = strings.ReplaceAll(id, "--", "-")
	}
	if id == "" || id[0] < 'a' || id[0] > 'z' {
		id = "ch" + id
	}
	unique := id
	for i := 2; used[unique]; i++ {
		unique = id + "-" + strconv.Itoa(i)
	}
	used[unique] = true
	return unique
}

func firstInvalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

// SafeFileName maps s to a file name made only of ASCII letters, digits,
// dots, hyphens and underscores (others become "_"), at most 60 bytes (the
// end is kept: it holds the extension). Outputs name their internal files
// with it, so a book's odd file names never become odd archive paths.
func SafeFileName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if len(s) > 60 {
		s = s[len(s)-60:]
	}
	return s
}
