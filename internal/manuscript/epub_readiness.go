package manuscript

import (
	"bufio"
	"fmt"
	"image"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// AccessibilityConformance is the conformance identifier of EPUB
// Accessibility 1.1 (W3C Recommendation, §2.1 "Conformance reporting")
// that an EPUB meeting its requirements at WCAG 2.2 level AA states in
// dcterms:conformsTo.
const AccessibilityConformance = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"

// MinCoverPixels is the long side, in pixels, below which stores (Apple
// Books, Kobo, Google Play; Amazon asks 2,500) refuse or blur a cover.
const MinCoverPixels = 1600

// AccessibilityGaps returns what keeps the book from the EPUB
// Accessibility 1.1 conformance claim, each with its file and line
// (line 0 for the whole file), in reading order; none when the book
// meets what Bindery can check:
//
//   - a title and a language in metadata.yaml (WCAG 2.4.2 Page Titled,
//     3.1.1 Language of Page);
//   - a publisher or an author, named as the evaluator of the claim
//     (a11y:certifiedBy, which EPUB Accessibility 1.1 requires with it);
//   - alt text on every image of the Markdown (1.1.1 Non-text Content);
//   - headings that go down one level at a time, the chapter title being
//     level 1 (1.3.1 Info and Relationships, 2.4.6 Headings and Labels).
//
// The rest of WCAG 2.2 AA is Bindery's own doing, the same for every
// book: a navigation document and landmarks, a logical reading order,
// relative font sizes, no colour-only information, no flashing content.
// Images in raw HTML are checked by the EPUB writer as it renders them.
func AccessibilityGaps(m *Manuscript) []Problem {
	var ps problems
	md := m.Metadata
	if strings.TrimSpace(md.Title) == "" {
		ps.add(SeverityWarning, MetadataFile, 0, "no title")
	}
	if strings.TrimSpace(md.Language) == "" {
		ps.add(SeverityWarning, MetadataFile, 0, "no language")
	}
	if strings.TrimSpace(md.Publisher) == "" && len(md.Authors) == 0 {
		ps.add(SeverityWarning, MetadataFile, 0, "no publisher or author to name as the evaluator")
	}
	for _, c := range m.Chapters {
		level := 1
		_ = ast.Walk(c.Doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if !entering {
				return ast.WalkContinue, nil
			}
			switch n := n.(type) {
			case *ast.Heading:
				if n.Level > level+1 {
					ps.add(SeverityWarning, c.Path, c.lineOf(n), "a heading jumps from h%d to h%d", level, n.Level)
				}
				level = n.Level
			case *ast.Image:
				if strings.TrimSpace(PlainText(n, c.Body)) == "" {
					ps.add(SeverityWarning, c.Path, c.lineOf(n), "an image has no alt text")
				}
			}
			return ast.WalkContinue, nil
		})
	}
	order := map[string]int{MetadataFile: -1}
	for _, c := range m.Chapters {
		order[c.Path] = c.Index
	}
	return ps.sorted(order)
}

// EPUBWarnings returns the warnings of an EPUB build that Check does not
// give, since they concern the EPUB only: a cover whose long side is
// below MinCoverPixels (read from the image header only), and, when the
// book has AccessibilityGaps, one warning that the EPUB makes no
// accessibility conformance claim, listing the gaps as file:line.
func EPUBWarnings(m *Manuscript) []Problem {
	var ps problems
	if w, h, ok := m.coverSize(); ok && max(w, h) < MinCoverPixels {
		ps.add(SeverityWarning, MetadataFile, 0, "cover %q is %d×%d px: stores ask for at least %s px on the long side",
			m.Metadata.Cover, w, h, "1,600")
	}
	if gaps := AccessibilityGaps(m); len(gaps) > 0 {
		const most = 8
		var where []string
		for i, g := range gaps {
			if i == most {
				where = append(where, fmt.Sprintf("and %d more", len(gaps)-most))
				break
			}
			loc := g.File
			if g.Line > 0 {
				loc = fmt.Sprintf("%s:%d", g.File, g.Line)
			}
			where = append(where, loc+": "+g.Message)
		}
		ps.add(SeverityWarning, MetadataFile, 0, "the EPUB claims no accessibility conformance (%s): %s",
			AccessibilityConformance, strings.Join(where, "; "))
	}
	return ps.list
}

// coverSize reads the pixel size of the cover from its header; ok is
// false when there is no usable cover (Check reports that).
func (m *Manuscript) coverSize() (w, h int, ok bool) {
	if m.Metadata.Cover == "" {
		return 0, 0, false
	}
	ref, err := m.Resolve(MetadataFile, m.Metadata.Cover)
	if err != nil || ref.Kind != RefFile {
		return 0, 0, false
	}
	f, err := m.root.Open(ref.Path)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}
