package pdf

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// firstLineText is the text of the first text line placed on page p.
func firstLineText(p *page) string {
	for _, pl := range p.boxes {
		if pl.b.img != nil || len(pl.b.lines) == 0 {
			continue
		}
		var sb strings.Builder
		for _, r := range pl.b.lines[0].ln.runs {
			for k, pt := range r.parts {
				if pt.space && (k > 0 || sb.Len() > 0) {
					sb.WriteByte(' ')
				}
				for _, g := range pt.glyphs {
					sb.WriteString(g.text)
				}
			}
		}
		return sb.String()
	}
	return ""
}

// Each page reports the count of the chapter's words before its first
// line: numbered words make the count readable on the page. The title
// counts only when it is the chapter's own leading h1; a blank page and
// an opening page start their chapter.
func TestPageStarts(t *testing.T) {
	var one, two strings.Builder
	one.WriteString("# One\n\n")  // the title: "One", word 0
	two.WriteString("Intro.\n\n") // the title "Two" comes from Chapter.Title: not counted
	n := 1
	for p := 0; p < 40; p++ {
		for w := 0; w < 23; w++ {
			one.WriteString("w" + strconv.Itoa(n) + " ")
			n++
		}
		one.WriteString("\n\n")
	}
	for i := 1; i <= 600; i++ {
		two.WriteString("v" + strconv.Itoa(i) + " ")
		if i%31 == 0 {
			two.WriteString("\n\n## Part " + strconv.Itoa(i) + "\n\n")
		}
	}
	b := &Book{Title: "T", PageSize: "5x8", Chapters: []Chapter{{Markdown: []byte(one.String())}, {Title: "Two", Markdown: []byte(two.String())}}}
	ts, err := Layout(context.Background(), b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	starts := ts.PageStarts()
	d := ts.d
	if len(starts) != len(d.pages)-d.frontCount || len(starts) < 6 {
		t.Fatalf("%d starts for %d body pages", len(starts), len(d.pages)-d.frontCount)
	}
	// The words of chapter two, as counted: "Intro." then v1… with the
	// headings' two words after every 31st.
	var twoWords []string
	for _, f := range strings.Fields(two.String()) {
		if f != "##" {
			twoWords = append(twoWords, f)
		}
	}
	for i, s := range starts {
		p := d.pages[d.frontCount+i]
		if s.Page != i+1 {
			t.Errorf("start %d is page %d", i, s.Page)
		}
		switch p.kind {
		case pageBlank, pageOpening:
			if s.Word != 0 {
				t.Errorf("page %d (kind %d) starts at word %d, want 0", s.Page, p.kind, s.Word)
			}
			continue
		}
		first := strings.Fields(firstLineText(p))[0]
		var want string
		if s.Chapter == 0 {
			want = "w" + strconv.Itoa(s.Word) // word 0 is the title, so word k is "wk"
		} else {
			want = twoWords[s.Word]
		}
		if first != want {
			t.Errorf("page %d (chapter %d): word %d is %q, the page starts %q", s.Page, s.Chapter, s.Word, want, first)
		}
	}
	if last := starts[len(starts)-1]; last.Chapter != 1 {
		t.Errorf("the last page is in chapter %d", last.Chapter)
	}
}
