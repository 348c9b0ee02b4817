package pdf

import (
	"fmt"
	"strings"
	"testing"
)

// footnoteBook is a chapter of sixty paragraphs, every fourth with a
// short note, one with a note longer than a page, and a note referred to
// only from a table cell.
func footnoteBook() *Book {
	var md, notes strings.Builder
	para := strings.Repeat("The keeper climbed the stair and trimmed the wick of the great lamp. ", 6)
	n := 0
	for i := range 60 {
		md.WriteString(para)
		if i%4 == 1 {
			n++
			fmt.Fprintf(&md, "Noted.[^n%d]", n)
			fmt.Fprintf(&notes, "[^n%d]: Short note %d, of a line or two of smaller type at the foot of the page.\n\n", n, n)
		}
		if i == 30 {
			md.WriteString("A long one.[^long]")
			notes.WriteString("[^long]: LONGSTART " + strings.Repeat("This note goes on and on, as the notes of scholars do, well past the foot of one page. ", 70) + "LONGEND\n\n")
		}
		md.WriteString("\n\n")
	}
	md.WriteString("| a | b |\n|---|---|\n| cell[^table] | x |\n\n")
	notes.WriteString("[^table]: TABLENOTE from a cell.\n")
	return &Book{Title: "Notes", Chapters: []Chapter{{Title: "Notes", Markdown: []byte(md.String() + "\n" + notes.String())}}}
}

// TestFootnotesAtFoot: a note is set at the foot of the page that refers
// to it, below all the page's text; a note too long for the page starts
// there and continues at the foot of the next pages; a note no line
// refers to (from a table cell) is set at the chapter's end; every box is
// placed once and none leaves the text block.
func TestFootnotesAtFoot(t *testing.T) {
	b := footnoteBook()
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkGeometry(t, d)
	seen := map[*vbox]bool{}
	noteSize := d.g.size * 0.85
	var longPages []int
	for i, p := range d.pages {
		bodyBottom, footTop, footBottom := 0.0, d.g.height, 0.0
		for _, pl := range p.boxes {
			if seen[pl.b] && len(pl.b.lines) > 0 {
				t.Errorf("page %d: box %q placed twice", i+1, boxText(pl.b))
			}
			seen[pl.b] = true
			if len(pl.b.lines) == 0 {
				continue
			}
			txt := boxText(pl.b)
			if pl.b.lines[0].size == noteSize && !strings.Contains(txt, "TABLENOTE") {
				footTop = min(footTop, pl.y)
				footBottom = max(footBottom, pl.y+pl.b.h+pl.b.d)
				if strings.Contains(txt, "on and on") || strings.Contains(txt, "LONG") {
					if len(longPages) == 0 || longPages[len(longPages)-1] != i {
						longPages = append(longPages, i)
					}
				}
				continue
			}
			bodyBottom = max(bodyBottom, pl.y+pl.b.h+pl.b.d)
		}
		if footBottom > 0 && (footTop < bodyBottom || footBottom > d.g.height+eps) {
			t.Errorf("page %d: notes from %.1f to %.1f, text down to %.1f, block height %.1f", i+1, footTop, footBottom, bodyBottom, d.g.height)
		}
	}
	// Notes are numbered in order of reference: the long one is the
	// ninth, the table's the seventeenth.
	for n := 1; n <= 16; n++ {
		ref, note := d.dests[noteRefDest(0, n)], d.dests[noteDest(0, n)]
		if ref.page != note.page {
			t.Errorf("note %d: referred to on page %d, set on page %d", n, ref.page+1, note.page+1)
		}
	}
	long := 9
	if ref, note := d.dests[noteRefDest(0, long)], d.dests[noteDest(0, long)]; ref.page != note.page {
		t.Errorf("long note: referred to on page %d, starts on page %d", ref.page+1, note.page+1)
	}
	if len(longPages) < 2 {
		t.Errorf("the long note is on pages %v, want it split over two pages or more", longPages)
	}
	for k := 1; k < len(longPages); k++ {
		if longPages[k] != longPages[k-1]+1 {
			t.Errorf("the long note is on pages %v, want consecutive pages", longPages)
		}
	}
	last := d.pages[len(d.pages)-1]
	if txt := boxText(last.boxes[len(last.boxes)-1].b); !strings.Contains(txt, "TABLENOTE") {
		t.Errorf("the last line of the chapter is %q, want the note referred to from the table", txt)
	}
	txt := runTool(t, "pdftotext", renderFile(t, b, t.TempDir(), "notes.pdf"), "-")
	if !strings.Contains(txt, "LONGSTART") || !strings.Contains(txt, "LONGEND") || !strings.Contains(txt, "Short note 15,") {
		t.Error("note text lost in the PDF")
	}
}

// TestPaginateNotesProgress: notes whose boxes are taller than half a
// page, or than the page, still drain, one page at a time.
func TestPaginateNotesProgress(t *testing.T) {
	big := func(h float64) *vbox { return &vbox{h: h, lines: []boxLine{{ln: &line{}}}} }
	sep := &vbox{h: 5}
	for _, tt := range []struct {
		name  string
		boxes []*vbox
	}{
		{"note taller than the page", []*vbox{{h: 10, notes: [][]*vbox{{big(150), big(150)}}}, big(10)}},
		{"body and note of 80%", []*vbox{{h: 80, notes: [][]*vbox{{big(80)}}}, big(80)}},
		{"many notes on one line", []*vbox{{h: 10, notes: [][]*vbox{{big(30)}, {big(30)}, {big(30)}, {big(30)}, {big(30)}}}, big(10), big(10)}},
	} {
		pages := paginate(tt.boxes, 100, sep)
		if len(pages) > 10 {
			t.Errorf("%s: %d pages", tt.name, len(pages))
		}
		n := 0
		for _, pg := range pages {
			for _, pl := range pg {
				if pl.b != sep {
					n++
				}
			}
		}
		want := len(tt.boxes)
		for _, b := range tt.boxes {
			for _, nt := range b.notes {
				want += len(nt)
			}
		}
		if n != want {
			t.Errorf("%s: %d boxes placed, want %d", tt.name, n, want)
		}
	}
}
