package pdf

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInlineHTMLStyles: <sup>, <sub>, <u>/<ins> and <s>/<del>/<strike>
// (and ~~strike~~) become styles; other raw HTML is dropped.
func TestInlineHTMLStyles(t *testing.T) {
	doc := parseChapter([]byte("E = mc<sup>2</sup>, H<sub>2</sub>O, <u>u</u> <ins>i</ins> ~~a~~ <del>d</del> <s>s</s> <strike>k</strike> <span>p</span> <sub>open"), linker{}, nil)
	want := map[string]style{"mc": 0, "u": under, "i": under, "a": strike, "d": strike, "s": strike, "k": strike, "p": 0, "open": sub}
	got := map[string]style{}
	for _, sp := range doc.blocks[0].spans {
		for _, w := range strings.Fields(strings.Trim(sp.text, ",. ")) {
			got[w] = sp.style
		}
	}
	for w, st := range want {
		if got[w] != st {
			t.Errorf("%q: style %b, want %b (spans %+v)", w, got[w], st, doc.blocks[0].spans)
		}
	}
	var twos []style
	for _, sp := range doc.blocks[0].spans {
		if sp.text == "2" {
			twos = append(twos, sp.style)
		}
	}
	if len(twos) != 2 || twos[0] != super || twos[1] != sub {
		t.Errorf("mc<sup>2</sup> and H<sub>2</sub>O: styles of the 2s %v, want [%d %d]", twos, super, sub)
	}
	if strings.Contains(plain(doc.blocks[0].spans), "<") {
		t.Errorf("a tag leaked into the text: %q", plain(doc.blocks[0].spans))
	}
}

// TestInlineStylesDrawn: superscripts are raised and subscripts lowered
// on the line, and underlines and strike-throughs are drawn: the text
// reads "E = mc2" and "H2O", and the page has one stroke per decorated
// run.
func TestInlineStylesDrawn(t *testing.T) {
	md := "Einstein wrote E = mc<sup>2</sup> and water is H<sub>2</sub>O.\n\n<u>under</u> and <ins>inserted</ins>, ~~struck~~, <del>deleted</del>, <s>old</s>."
	b := &Book{Title: "Styles", Chapters: []Chapter{{Title: "One", Markdown: []byte(md)}}}
	var rises []float64
	for _, ln := range bodyLines(t, b, Options{}) {
		for _, r := range ln.runs {
			if runText(r) == "2" {
				rises = append(rises, r.rise)
			}
		}
	}
	if len(rises) != 2 || rises[0] <= 0 || rises[1] >= 0 {
		t.Errorf("rises of the superscript and subscript 2: %v, want one above and one below the baseline", rises)
	}
	dir := t.TempDir()
	path := renderFile(t, b, dir, "styles.pdf")
	txt := strings.Join(strings.Fields(runTool(t, "pdftotext", "-enc", "UTF-8", path, "-")), " ")
	for _, w := range []string{"E = mc2", "H2O", "under and inserted, struck, deleted, old."} {
		if !strings.Contains(txt, w) {
			t.Errorf("text lacks %q: %s", w, txt)
		}
	}
	plainPDF := filepath.Join(dir, "plain.pdf")
	runTool(t, "qpdf", "--qdf", "--object-streams=disable", path, plainPDF)
	data, err := os.ReadFile(plainPDF)
	if err != nil {
		t.Fatal(err)
	}
	// Decorations are the only strokes from a point to a point at the same
	// height on the chapter's page ("x y m x' y l S").
	strokes := regexp.MustCompile(`(?m)^[\d.]+ w [\d.]+ ([\d.]+) m [\d.]+ ([\d.]+) l S$`).FindAllSubmatch(data, -1)
	n := 0
	for _, m := range strokes {
		if bytes.Equal(m[1], m[2]) {
			n++
		}
	}
	if n < 5 {
		t.Errorf("%d horizontal strokes, want 5 (2 underlines, 3 strike-throughs)", n)
	}
}

// TestTaskListBoxes: "- [ ]" and "- [x]" items lose their brackets and
// get a box, which extracts as U+2610 or U+2611; a done one has a check.
func TestTaskListBoxes(t *testing.T) {
	md := "- [ ] open task\n- [x] done task\n- [X] also done\n- plain item\n\nText.\n\n* [ ]\n* [link](x.md) item"
	doc := parseChapter([]byte(md), linker{}, nil)
	lst := doc.blocks[0]
	if want := []taskState{taskOpen, taskDone, taskDone, taskNone}; len(lst.tasks) != 4 || lst.tasks[0] != want[0] || lst.tasks[1] != want[1] || lst.tasks[2] != want[2] || lst.tasks[3] != want[3] {
		t.Errorf("tasks = %v, want %v", lst.tasks, want)
	}
	if got := plain(lst.items[0][0].spans); got != "open task" {
		t.Errorf("first item text %q, want %q", got, "open task")
	}
	if len(doc.blocks) != 3 || doc.blocks[2].tasks != nil {
		t.Errorf("a list without tasks (an empty \"[ ]\" item is none) has tasks: %+v", doc.blocks)
	}
	b := &Book{Title: "Tasks", Chapters: []Chapter{{Title: "One", Markdown: []byte(md)}}}
	checks := 0
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range d.pages {
		for _, pl := range p.boxes {
			for _, r := range pl.b.rules {
				if r.dy != 0 {
					checks++
				}
			}
		}
	}
	if checks != 4 {
		t.Errorf("%d check-mark strokes, want 4 (two done items)", checks)
	}
	path := renderFile(t, b, t.TempDir(), "tasks.pdf")
	txt := runTool(t, "pdftotext", "-enc", "UTF-8", path, "-")
	for _, w := range []string{"\u2610 open task", "\u2611 done task", "\u2611 also done"} {
		if !strings.Contains(txt, w) {
			t.Errorf("text lacks %q:\n%s", w, txt)
		}
	}
	if strings.Contains(txt, "[ ] open") || strings.Contains(txt, "[x] done") {
		t.Errorf("literal brackets printed:\n%s", txt)
	}
}

// TestURLBreakPoints: Chicago's rule — after "//" or a colon, before a
// single slash, a period, a hyphen, an underscore, a question mark…,
// before or after "=" and "&"; never a hyphen added.
func TestURLBreakPoints(t *testing.T) {
	u := "https://example.com/a-b/c_d.html?x=1&y=2"
	var got []string
	for _, p := range urlBreakPoints(u) {
		got = append(got, string([]rune(u)[p.rune:]))
		if p.hyphen || p.flagged {
			t.Errorf("break before %q adds a hyphen", string([]rune(u)[p.rune:]))
		}
	}
	want := []string{
		"example.com/a-b/c_d.html?x=1&y=2", // after //
		".com/a-b/c_d.html?x=1&y=2",        // before .
		"/a-b/c_d.html?x=1&y=2",            // before /
		"-b/c_d.html?x=1&y=2",              // before -
		"/c_d.html?x=1&y=2",
		"_d.html?x=1&y=2",
		".html?x=1&y=2",
		"?x=1&y=2",
		"=1&y=2", "1&y=2", // before and after =
		"&y=2", "y=2",
		"=2", "2",
	}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("break points:\n got %q\nwant %q", got, want)
	}
	for w, is := range map[string]bool{
		u: true, "www.example.org": true, "mary.shelley@example.org": true, "mailto:a@b.org": true,
		"extraordinarily": false, "e.g.": false, "fellow-creatures": false, "@handle": false,
	} {
		if isURL(w) != is {
			t.Errorf("isURL(%q) = %v", w, !is)
		}
	}
}

// TestURLsAndCodeBreakAtAllowedPoints: in a narrow measure, long URLs,
// code spans and code blocks break only at the points urlBreakPoints
// allows (and after spaces in code blocks), with no hyphen added.
func TestURLsAndCodeBreakAtAllowedPoints(t *testing.T) {
	url := "https://example.com/library/catalogue/items/frankenstein-or-the-modern-prometheus/editions/1831.html?format=print&lang=en"
	code := "configuration.loader.resolve_all_the_things(first_argument,second_argument)"
	md := strings.Repeat("See "+url+" and the call `"+code+"` for more. ", 4) +
		"\n\n```\ncurl --fail " + url + " -o out.pdf\n```\n"
	b := &Book{Title: "URLs", Chapters: []Chapter{{Title: "One", Markdown: []byte(md)}}, PageSize: "5x8"}
	allowed := map[string]bool{} // text after a break
	for _, s := range []string{url, code} {
		for _, p := range urlBreakPoints(s) {
			allowed[string([]rune(s)[p.rune:])] = true
		}
	}
	lines := bodyLines(t, b, Options{})
	inside := 0
	for i, ln := range lines {
		if ln.tail != url && ln.tail != code {
			continue
		}
		// Follow the word over the lines it spans: each break leaves the
		// rest of it starting at an allowed point, and adds no hyphen.
		word := ln.tail
		done := len(lastWord(lineText(ln)))
		for j := i + 1; j < len(lines) && done < len(word); j++ {
			inside++
			if lines[j-1].hyphenated {
				t.Errorf("line %d: a hyphen added inside %q", j-1, word)
			}
			if rest := word[done:]; !allowed[rest] {
				t.Errorf("line %d breaks %q before %q, not an allowed point", j-1, word, rest)
			}
			done += len(strings.Fields(lineText(lines[j]))[0])
		}
	}
	// The code block's wrapped lines start at allowed points too.
	raw := "curl --fail " + url + " -o out.pdf"
	var block []string
	for _, ln := range lines {
		if len(ln.runs) == 1 && ln.runs[0].st == mono && ln.tail == "" && ln.headRuns == 0 {
			block = append(block, lineText(ln))
		}
	}
	if strings.Join(block, "") != raw || len(block) < 2 {
		t.Fatalf("code block lines %q, want %q wrapped", block, raw)
	}
	allowedCode := codeBreaks(raw)
	pos := 0
	for _, l := range block[:len(block)-1] {
		pos += len(l)
		if !allowedCode[pos] {
			t.Errorf("code block wraps before %q, not an allowed point", raw[pos:])
		}
	}
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
