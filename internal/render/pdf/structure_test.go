package pdf

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMarkedContentNestsWithActualText: a structure element's marked
// content changes only outside the /ActualText spans of a broken word,
// so the two nest: here a line whose first two runs stand for the end of
// the word before (an empty /ActualText), the second run a link — its
// Link element's content starts after the span, not inside it.
func TestMarkedContentNestsWithActualText(t *testing.T) {
	b := &Book{Title: "Nest", Chapters: []Chapter{{Title: "One", Markdown: []byte("It was a *dark* and stormy night.")}}}
	st := newStopper(context.Background())
	d, err := layout(b, Options{}, st)
	if err != nil {
		t.Fatal(err)
	}
	var ln *line
	for _, p := range d.pages {
		for _, pl := range p.boxes {
			for _, bl := range pl.b.lines {
				if len(bl.ln.runs) >= 3 && bl.tag != nil && bl.tag.typ == "P" {
					ln = bl.ln
				}
			}
		}
	}
	if ln == nil {
		t.Fatal("no line of three runs")
	}
	ln.headRuns = 2
	ln.runs[1].link = "https://example.org/"
	var buf bytes.Buffer
	if err := d.write(&buf, b, st); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, "qpdf", "--qdf", "--object-streams=disable", in, out)
	qdf, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mcid := regexp.MustCompile(`^/\w+ <</MCID \d+>> BDC$`)
	var stack []string
	links := 0
	for _, l := range strings.Split(string(qdf), "\n") {
		switch {
		case mcid.MatchString(l):
			if len(stack) > 0 {
				t.Errorf("%s inside %v", l, stack)
			}
			if strings.HasPrefix(l, "/Link") {
				links++
			}
			stack = append(stack, l)
		case strings.HasSuffix(l, " BDC") || strings.HasSuffix(l, " BMC"):
			stack = append(stack, l)
		case l == "EMC":
			if len(stack) == 0 {
				t.Fatal("EMC without BDC")
			}
			stack = stack[:len(stack)-1]
		}
	}
	if links == 0 || len(stack) != 0 {
		t.Errorf("%d links; still open: %v", links, stack)
	}
}
