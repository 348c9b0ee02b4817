package manuscript

import (
	"bufio"
	"errors"
	"image"
	_ "image/gif"  // DecodeConfig of GIF images
	_ "image/jpeg" // DecodeConfig of JPEG images
	_ "image/png"  // DecodeConfig of PNG images
	"regexp"

	"github.com/bindery/bindery/internal/stylesheet"
	"github.com/yuin/goldmark/ast"
	_ "golang.org/x/image/webp" // DecodeConfig of WebP images
	"golang.org/x/text/language"
)

// Check reports the quality problems of a loaded book, in reading order
// (metadata.yaml first, then the chapters, each by line):
//
//   - metadata: missing title (error), author or language (warning), an
//     invalid language tag (error), a date that is not W3C date format
//     (warning: it is left out of the EPUB), a cover or stylesheet that is
//     missing or not what it claims to be (error);
//   - chapters: images that do not resolve to a JPEG, PNG, GIF or WebP in the book
//     (error), images without alt text (warning), internal links to files
//     or headings that do not exist, or that leave the book (error; a
//     missing heading is a warning), links with a forbidden scheme such as
//     javascript: (error: the renderers drop them), empty chapters and
//     heading level jumps such as h1 → h3 (warning).
func Check(m *Manuscript) []Problem { return CheckWith(m, CheckOptions{}) }

// CheckOptions adjust Check.
type CheckOptions struct {
	// Draft reports missing or unusable images and broken links as
	// warnings, for a draft build: the renderers show a placeholder for
	// such an image and the text of such a link, and the build goes on.
	Draft bool
	// Limits are those the book is loaded with by callers that load it
	// (build.CheckWith); CheckWith itself uses the Manuscript's own.
	Limits Limits
}

// CheckWith is Check with options.
func CheckWith(m *Manuscript, o CheckOptions) []Problem {
	var ps problems
	ps.draft = o.Draft
	m.checkMetadata(&ps)
	ids := make(map[*Chapter]map[string]bool, len(m.Chapters))
	for _, c := range m.Chapters {
		ids[c] = collectHeadingIDs(c)
	}
	for _, c := range m.Chapters {
		m.checkChapter(&ps, c, ids)
	}
	order := map[string]int{MetadataFile: -1}
	for _, c := range m.Chapters {
		order[c.Path] = c.Index
	}
	return ps.sorted(order)
}

// w3cDate is the W3C date and time format that EPUB requires of dc:date.
var w3cDate = regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$`)

// ValidDate reports whether s is in the W3C date format ("1831",
// "2024-05", "2024-05-01", "2024-05-01T10:00:00Z").
func ValidDate(s string) bool { return w3cDate.MatchString(s) }

func (m *Manuscript) checkMetadata(ps *problems) {
	md := m.Metadata
	const f = MetadataFile
	if m.noMetadata {
		ps.add(SeverityError, f, 0, "there is no metadata.yaml in the book folder: add one with at least a title (title: My Book)")
		return
	}
	if md.Title == "" {
		ps.add(SeverityError, f, 0, "title is missing")
	}
	if len(md.Authors) == 0 {
		ps.add(SeverityWarning, f, 0, "author is missing")
	}
	if md.Language == "" {
		ps.add(SeverityWarning, f, 0, `language is missing; "en" is assumed`)
	} else if _, err := language.Parse(md.Language); err != nil {
		ps.add(SeverityError, f, 0, "language %q is not a BCP 47 language tag", md.Language)
	}
	if md.Date != "" && !ValidDate(md.Date) {
		ps.add(SeverityWarning, f, 0, "date %q is not in W3C date format (YYYY, YYYY-MM or YYYY-MM-DD) and is left out", md.Date)
	}
	if md.Cover != "" {
		if ref, err := m.Resolve(f, md.Cover); err != nil || ref.Kind != RefFile {
			ps.add(SeverityError, f, 0, "cover %q: %v", md.Cover, refErr(err))
		} else if typ, err := m.ImageType(ref.Path); err != nil {
			ps.add(SeverityError, f, 0, "cover %q: %v", md.Cover, err)
		} else if why := m.pixelProblem(ref.Path, typ); why != "" {
			ps.add(SeverityError, f, 0, "cover %q: %s", md.Cover, why)
		}
	}
	if s := md.EPUB.Stylesheet; s != "" {
		if ref, err := m.Resolve(f, s); err != nil || ref.Kind != RefFile {
			ps.add(SeverityError, f, 0, "stylesheet %q: %v", s, refErr(err))
		} else if css, err := m.readFile(ref.Path, stylesheet.MaxBytes); err != nil {
			ps.add(SeverityError, ref.Path, 0, "the stylesheet is refused: %v", err)
		} else if err := stylesheet.Check(css); err != nil {
			// The rules of uploads (bookfs), with the same words, so that
			// a book built at the terminal fails as it would on the server.
			line := 0
			var p *stylesheet.Problem
			if errors.As(err, &p) {
				line, err = p.Line, errors.New(p.Msg)
			}
			ps.add(SeverityError, ref.Path, line, "the stylesheet is refused: %v", err)
		}
	}
}

// pixelProblem applies the book's Limits.PixelProblem to the image at p of MIME type typ,
// reading only its header.
func (m *Manuscript) pixelProblem(p, typ string) string {
	f, err := m.root.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil || "image/"+format != typ {
		return ""
	}
	return m.limits.PixelProblem(format, cfg.Width, cfg.Height)
}

func refErr(err error) error {
	if err == nil {
		return ErrNotFound
	}
	return err
}

func (m *Manuscript) checkChapter(ps *problems, c *Chapter, ids map[*Chapter]map[string]bool) {
	level := 0
	if !c.StartsWithHeading {
		level = 1 // renderers add the title as h1
	}
	content := false
	for n := c.Doc.FirstChild(); n != nil; n = n.NextSibling() {
		if n.Kind() != ast.KindHeading {
			content = true
		}
	}
	if !content {
		ps.add(SeverityWarning, c.Path, c.BodyLine, "chapter is empty")
	}
	_ = ast.Walk(c.Doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if level > 0 && n.Level > level+1 {
				ps.add(SeverityWarning, c.Path, c.lineOf(n), "heading level jumps from h%d to h%d", level, n.Level)
			}
			level = n.Level
		case *ast.Image:
			m.checkImage(ps, c, n)
		case *ast.Link:
			m.checkLink(ps, c, c.lineOf(n), string(n.Destination), ids)
		case *ast.AutoLink:
			m.checkLink(ps, c, c.lineOf(n), string(n.URL(c.Body)), ids)
		}
		if n.Type() == ast.TypeBlock && n.FirstChild() != nil && n.FirstChild().Type() == ast.TypeInline {
			checkFootnoteRefs(ps, c, n)
		}
		return ast.WalkContinue, nil
	})
}

// footnoteRef is a footnote reference as it reads in text.
var footnoteRef = regexp.MustCompile(`\[\^([^\]\s]+)\]`)

// checkFootnoteRefs reports the footnote references of block n that name
// no footnote: the parser turns defined ones into links and leaves the
// others as the text "[^label]", which would print as such. A bracket
// the author escaped (\[^x]) is meant as text and not reported.
func checkFootnoteRefs(ps *problems, c *Chapter, n ast.Node) {
	var text []byte
	var at []int // offset in c.Body of each byte of text
	flush := func() {
		for _, m := range footnoteRef.FindAllSubmatchIndex(text, -1) {
			start := at[m[0]]
			if start > 0 && c.Body[start-1] == '\\' {
				continue
			}
			ps.add(SeverityError, c.Path, c.Line(start), "footnote [^%s] is not defined: add a line \"[^%s]: the note\" to this chapter", text[m[2]:m[3]], text[m[2]:m[3]])
		}
		text, at = text[:0], at[:0]
	}
	for k := n.FirstChild(); k != nil; k = k.NextSibling() {
		t, ok := k.(*ast.Text)
		if !ok {
			flush()
			continue
		}
		seg := t.Segment
		for i := seg.Start; i < seg.Stop && i < len(c.Body); i++ {
			text, at = append(text, c.Body[i]), append(at, i)
		}
		if t.SoftLineBreak() || t.HardLineBreak() {
			flush()
		}
	}
	flush()
}

func (m *Manuscript) checkImage(ps *problems, c *Chapter, n *ast.Image) {
	line, dest := c.lineOf(n), string(n.Destination)
	if PlainText(n, c.Body) == "" {
		ps.add(SeverityWarning, c.Path, line, "image %q has no alt text", dest)
	}
	ref, err := m.Resolve(c.Path, dest)
	const placeholder = "a placeholder is shown"
	switch {
	case err != nil:
		ps.draftable(placeholder, c.Path, line, "image %q: %v", dest, err)
	case ref.Kind != RefFile:
		ps.draftable(placeholder, c.Path, line, "image %q: images must be files of the book, not links", dest)
	default:
		if typ, err := m.ImageType(ref.Path); err != nil {
			ps.draftable(placeholder, c.Path, line, "image %q: %v", dest, err)
		} else if why := m.pixelProblem(ref.Path, typ); why != "" {
			ps.add(SeverityError, c.Path, line, "image %q: %s", dest, why)
		}
	}
}

func (m *Manuscript) checkLink(ps *problems, c *Chapter, line int, dest string, ids map[*Chapter]map[string]bool) {
	ref, err := m.Resolve(c.Path, dest)
	switch {
	case errors.Is(err, ErrScheme):
		ps.add(SeverityError, c.Path, line, "link %q: %v; it is removed", dest, err)
	case err != nil:
		ps.draftable("shown as plain text", c.Path, line, "broken link %q: %v", dest, err)
	case ref.Kind == RefFile:
		ps.add(SeverityWarning, c.Path, line, "link %q is not a chapter; it is removed from the outputs", dest)
	case ref.Kind == RefChapter && ref.Fragment != "" && !ids[ref.Chapter][ref.Fragment]:
		ps.add(SeverityWarning, c.Path, line, "link %q: no heading with id %q in %s", dest, ref.Fragment, ref.Path)
	}
}

// collectHeadingIDs collects the id attributes of the headings of c.
func collectHeadingIDs(c *Chapter) map[string]bool {
	ids := map[string]bool{}
	_ = ast.Walk(c.Doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering && n.Kind() == ast.KindHeading {
			if v, ok := n.AttributeString("id"); ok {
				if b, ok := v.([]byte); ok {
					ids[string(b)] = true
				}
			}
		}
		return ast.WalkContinue, nil
	})
	return ids
}

// lineOf finds the line of n in the chapter file: the first line of a block,
// or of the first text inside an inline, or else that of its parent.
func (c *Chapter) lineOf(n ast.Node) int {
	for ; n != nil; n = n.Parent() {
		if n.Type() == ast.TypeBlock {
			if l := n.Lines(); l != nil && l.Len() > 0 {
				return c.Line(l.At(0).Start)
			}
			continue
		}
		var line int
		_ = ast.Walk(n, func(d ast.Node, entering bool) (ast.WalkStatus, error) {
			if t, ok := d.(*ast.Text); ok && entering {
				line = c.Line(t.Segment.Start)
				return ast.WalkStop, nil
			}
			return ast.WalkContinue, nil
		})
		if line > 0 {
			return line
		}
	}
	return c.BodyLine
}
