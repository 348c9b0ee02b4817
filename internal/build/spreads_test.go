package build_test

import (
	"context"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/testkit"
)

// bboxWord is a word of `pdftotext -bbox`, y down from the page's top.
type bboxWord struct {
	y0, y1 float64
	x0, x1 float64
	text   string
}

var (
	bboxPage   = regexp.MustCompile(`<page width="[^"]*" height="[^"]*">`)
	bboxWordRe = regexp.MustCompile(`<word xMin="([^"]+)" yMin="([^"]+)" xMax="([^"]+)" yMax="([^"]+)">([^<]*)</word>`)
)

// bboxPages reads the words of each page of a PDF with pdftotext -bbox.
func bboxPages(t *testing.T, pdf string) [][]bboxWord {
	t.Helper()
	// Stdout alone: poppler's warnings on stderr would cut into it.
	raw, err := exec.Command(tool(t, "pdftotext"), "-q", "-bbox", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox %s: %v", pdf, err)
	}
	out := string(raw)
	parts := bboxPage.Split(out, -1)[1:]
	pages := make([][]bboxWord, len(parts))
	for i, p := range parts {
		for _, m := range bboxWordRe.FindAllStringSubmatch(p, -1) {
			f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
			pages[i] = append(pages[i], bboxWord{x0: f(m[1]), y0: f(m[2]), x1: f(m[3]), y1: f(m[4]), text: m[5]})
		}
	}
	return pages
}

// textEnd is the foot of the lowest line of text of a page (the yMax of
// its words), the folio left out: the lowest word when it is a number
// alone on its line.
func textEnd(ws []bboxWord) float64 {
	low, end := -1, 0.0
	for i, w := range ws {
		if low < 0 || w.y0 > ws[low].y0 {
			low = i
		}
	}
	folio := low >= 0 && strings.Trim(ws[low].text, "0123456789") == ""
	for i, w := range ws {
		if i != low && math.Abs(w.y0-ws[low].y0) < 3 {
			folio = false
		}
	}
	for i, w := range ws {
		if !(folio && i == low) {
			end = max(end, w.y1)
		}
	}
	return end
}

// TestSpreadsFlushInThePDF reads the written PDF: the two pages of every
// full spread of the body (a left-hand page and the right-hand page
// facing it, neither the last page of a chapter) end on the same line,
// and every full page ends at the same foot as the fullest page. A page
// is full when the page after it continues its chapter: it carries a
// running head, at the top of the page, above any chapter opening's
// text. Frankenstein has 62 full spreads; the example's chapters are a
// page and a bit, so it has none, and its full pages are the openings.
func TestSpreadsFlushInThePDF(t *testing.T) {
	tool(t, "pdftotext")
	books := []struct {
		name, dir  string
		minSpreads int
	}{
		{"frankenstein", testkit.Corpus(t), 60},
		{"lighthouse", exampleDir, 0},
	}
	for _, b := range books {
		t.Run(b.name, func(t *testing.T) {
			res, err := build.Run(context.Background(), build.Options{Dir: b.dir, OutDir: t.TempDir(), Formats: []build.Format{build.PDF}})
			if err != nil || len(res.Artifacts) != 1 {
				t.Fatalf("Run = %+v, %v", res, err)
			}
			pages := bboxPages(t, res.Artifacts[0].Path)
			headY := math.Inf(1) // the running heads' top: the highest word of the book
			for _, ws := range pages {
				for _, w := range ws {
					headY = min(headY, w.y0)
				}
			}
			headed := func(i int) bool {
				for _, w := range pages[i] {
					if math.Abs(w.y0-headY) < 1 {
						return true
					}
				}
				return false
			}
			full := func(i int) bool { return i+1 < len(pages) && len(pages[i]) > 0 && headed(i+1) }
			foot := 0.0
			for i := range pages {
				if full(i) {
					foot = max(foot, textEnd(pages[i]))
				}
			}
			fullPages, short, spreads, uneven := 0, 0, 0, 0
			for i := range pages {
				if !full(i) {
					continue
				}
				fullPages++
				if e := textEnd(pages[i]); foot-e > 1.5 {
					short++
					t.Errorf("full page %d ends at %.1f pt, the foot is %.1f", i+1, e, foot)
				}
				// Pages are numbered from 1 on a right-hand page, after an
				// even number of front pages: a left-hand page has an even
				// number, index i odd.
				if i%2 == 1 && full(i+1) {
					spreads++
					if l, r := textEnd(pages[i]), textEnd(pages[i+1]); math.Abs(l-r) > 1.5 {
						uneven++
						t.Errorf("pages %d and %d end %.1f and %.1f pt from the top", i+1, i+2, l, r)
					}
				}
			}
			t.Logf("%d of %d full spreads flush; %d of %d full pages at the foot (%.1f pt)", spreads-uneven, spreads, fullPages-short, fullPages, foot)
			if spreads < b.minSpreads {
				t.Errorf("%d full spreads, want at least %d: the measure is broken", spreads, b.minSpreads)
			}
		})
	}
}
