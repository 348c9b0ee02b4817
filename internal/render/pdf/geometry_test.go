package pdf

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const eps = 0.01

// runBox returns the extent of a run placed on page i: x from the text
// block's left edge, y below its top, with the font's ascender and
// descender as the vertical ink limits.
func runBox(pl placed, bl boxLine, r run) (x0, x1, top, bottom float64) {
	x := pl.b.x + bl.x
	base := pl.y + bl.base - r.rise
	return x + r.parts[0].x, x + r.end, base - r.f.ascent*r.size, base + r.f.desc*r.size
}

// TestGeometryCorpus checks the layout of Frankenstein: no glyph outside
// the text block, chapters on right-hand pages, no running head or folio on
// chapter openings and blank pages, running heads alternating book and
// chapter title, and folios numbering body pages from 1.
func TestGeometryCorpus(t *testing.T) {
	b := corpusBook(t)
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkGeometry(t, d)
	for ci, c := range d.chapters {
		if c.first%2 != 0 {
			t.Errorf("chapter %d (%s) opens on page index %d, a left-hand page", ci, c.title, c.first)
		}
		if p := d.pages[c.first]; p.kind != pageOpening || p.head != "" || p.folio != "" {
			t.Errorf("chapter %d opening page: kind %d, head %q, folio %q", ci, p.kind, p.head, p.folio)
		}
	}
	if d.frontCount%2 != 0 {
		t.Errorf("front matter has %d pages, want an even count", d.frontCount)
	}
	chapter := ""
	for i, p := range d.pages {
		for _, c := range d.chapters {
			if c.first == i {
				chapter = c.title
			}
		}
		switch p.kind {
		case pageBlank:
			if len(p.boxes) != 0 || p.head != "" || p.folio != "" {
				t.Errorf("page %d: blank page has content", i+1)
			}
		case pageBody:
			if want := strconv.Itoa(i - d.frontCount + 1); p.folio != want {
				t.Errorf("page %d: folio %q, want %q", i+1, p.folio, want)
			}
			want := chapter
			if i%2 == 1 {
				want = b.Title
			}
			if p.head != want {
				t.Errorf("page %d: running head %q, want %q", i+1, p.head, want)
			}
		}
	}
}

// checkGeometry fails for any run of glyphs outside the text block.
func checkGeometry(t *testing.T, d *document) {
	t.Helper()
	bad := 0
	for i, p := range d.pages {
		for _, pl := range p.boxes {
			for _, bl := range pl.b.lines {
				for _, r := range bl.ln.runs {
					x0, x1, top, bottom := runBox(pl, bl, r)
					if x0 < -eps || x1 > d.g.width+eps || top < -eps || bottom > d.g.height+eps {
						if bad++; bad < 10 {
							t.Errorf("page %d: run %q at x %.2f–%.2f, y %.2f–%.2f outside the %.1fx%.1f block",
								i+1, runText(r), x0, x1, top, bottom, d.g.width, d.g.height)
						}
					}
				}
			}
		}
	}
}

func runText(r run) string {
	var sb strings.Builder
	for _, p := range r.parts {
		if p.space {
			sb.WriteByte(' ')
		}
		for _, g := range p.glyphs {
			sb.WriteString(g.text)
		}
	}
	return sb.String()
}

// TestWidowsOrphansHeadings checks page breaks: a page never starts with
// a box that must stay with the one before it (the last line of a
// paragraph, the second line of one, the lines after a heading) unless
// the page before could not be broken legally, and no paragraph of two or
// more lines leaves a single line at either side of a break.
func TestWidowsOrphansHeadings(t *testing.T) {
	b := corpusBook(t)
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range d.pages {
		if p.kind != pageBody || len(p.boxes) == 0 {
			continue
		}
		if first := p.boxes[0].b; first.noBreakBefore {
			t.Errorf("page %d starts with a line kept with the previous page (%q)", i+1, boxText(first))
		}
	}
}

func boxText(b *vbox) string {
	var parts []string
	for _, bl := range b.lines {
		for _, r := range bl.ln.runs {
			parts = append(parts, runText(r))
		}
	}
	return strings.Join(parts, " ")
}

// TestPopplerBBoxes checks the written PDF, not the layout: every word
// poppler extracts lies in the text block of its page (inner margin on
// the binding side), or is a running head in the top margin or a folio
// in the bottom margin.
func TestPopplerBBoxes(t *testing.T) {
	b := corpusBook(t)
	dir := t.TempDir()
	path := renderFile(t, b, dir, "f.pdf")
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	html := runTool(t, "pdftotext", "-bbox", path, "-")
	pageRE := regexp.MustCompile(`<page `)
	wordRE := regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
	pages := pageRE.Split(html, -1)[1:]
	if len(pages) != len(d.pages) {
		t.Fatalf("poppler sees %d pages, layout has %d", len(pages), len(d.pages))
	}
	const tol = 1.0
	bad := 0
	for i, pg := range pages {
		ox, _ := d.origin(i)
		top := d.g.m.Top
		bottom := d.g.pageH - d.g.m.Bottom
		for _, m := range wordRE.FindAllStringSubmatch(pg, -1) {
			x0, _ := strconv.ParseFloat(m[1], 64)
			y0, _ := strconv.ParseFloat(m[2], 64)
			x1, _ := strconv.ParseFloat(m[3], 64)
			y1, _ := strconv.ParseFloat(m[4], 64)
			word := m[5]
			inX := x0 >= ox-tol && x1 <= ox+d.g.width+tol
			var ok bool
			switch {
			case y0 >= top-tol && y1 <= bottom+tol:
				ok = inX
			case y1 <= top: // running head
				ok = inX && d.pages[i].head != "" && y0 > 0
			case y0 >= bottom: // folio
				_, err := strconv.Atoi(word)
				ok = inX && err == nil && word == d.pages[i].folio && y1 < d.g.pageH
			}
			if !ok {
				if bad++; bad < 10 {
					t.Errorf("page %d: word %q at (%.1f,%.1f)-(%.1f,%.1f) outside its place (block x %.1f–%.1f, y %.1f–%.1f)",
						i+1, word, x0, y0, x1, y1, ox, ox+d.g.width, top, bottom)
				}
			}
		}
	}
}

// TestCorpusHyphenation checks that Frankenstein is hyphenated, but never
// on more than two consecutive lines.
func TestCorpusHyphenation(t *testing.T) {
	b := corpusBook(t)
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	total, run, worst := 0, 0, 0
	for _, p := range d.pages {
		for _, pl := range p.boxes {
			for _, bl := range pl.b.lines {
				if len(bl.ln.runs) == 0 {
					continue
				}
				if bl.ln.hyphenated {
					total++
					run++
					worst = max(worst, run)
				} else {
					run = 0
				}
			}
		}
	}
	t.Logf("%d hyphenated lines, longest run %d", total, worst)
	if total == 0 {
		t.Error("no line was hyphenated")
	}
	if worst > 2 {
		t.Errorf("%d consecutive hyphenated lines, want at most 2", worst)
	}
}
