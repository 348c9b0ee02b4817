package pdf

import (
	"strings"
	"testing"
)

// bodyLines lays out b with opts and returns the text lines of its body
// pages, in order.
func bodyLines(t *testing.T, b *Book, opts Options) []*line {
	t.Helper()
	_, lines := bodyLayout(t, b, opts)
	return lines
}

// bodyLayout is bodyLines with the laid-out document.
func bodyLayout(t *testing.T, b *Book, opts Options) (*document, []*line) {
	t.Helper()
	d, err := layout(b, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []*line
	for _, p := range d.pages {
		if p.kind != pageBody && p.kind != pageOpening {
			continue
		}
		for _, pl := range p.boxes {
			for _, bl := range pl.b.lines {
				if len(bl.ln.runs) > 0 {
					out = append(out, bl.ln)
				}
			}
		}
	}
	return d, out
}

// lineGlyphs returns the glyphs of a line in order.
func lineGlyphs(ln *line) []glyph {
	var gs []glyph
	for _, r := range ln.runs {
		for _, p := range r.parts {
			gs = append(gs, p.glyphs...)
		}
	}
	return gs
}

// lineText returns the text of a line as extraction sees it: its
// glyphs' text, a space where the emitter draws one.
func lineText(ln *line) string {
	var sb strings.Builder
	for _, r := range ln.runs {
		sb.WriteString(runText(r))
	}
	return strings.TrimPrefix(sb.String(), " ")
}

// doubleHyphens counts the lines that end in a hyphen added after the
// word's own hyphen ("fellow--").
func doubleHyphens(lines []*line) (double, ownHyphen int) {
	for _, ln := range lines {
		gs := lineGlyphs(ln)
		n := len(gs)
		switch {
		case ln.hyphenated && n >= 2 && gs[n-2].text == "-":
			double++
		case !ln.hyphenated && n >= 1 && gs[n-1].text == "-":
			ownHyphen++
		}
	}
	return double, ownHyphen
}

// TestBreakAtHyphenAddsNone: a line that breaks after a word's own hyphen
// ends in that hyphen alone, in a small book and in Frankenstein (where
// 14 lines used to end "fellow--").
func TestBreakAtHyphenAddsNone(t *testing.T) {
	para := strings.Repeat("The fellow-creature of a well-known self-taught half-extinguished man. ", 40)
	small := &Book{Title: "Hyphens", Chapters: []Chapter{{Title: "One", Markdown: []byte(para)}}, PageSize: "5x8"}
	for _, tc := range []struct {
		name string
		b    func(*testing.T) *Book
	}{
		{"small", func(*testing.T) *Book { return small }},
		{"frankenstein", func(t *testing.T) *Book { return corpusBook(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			double, own := doubleHyphens(bodyLines(t, tc.b(t), Options{}))
			t.Logf("%d lines end at the word's own hyphen", own)
			if own == 0 {
				t.Error("no line breaks after a hyphen: the test proves nothing")
			}
			if double > 0 {
				t.Errorf("%d lines end in a hyphen added after the word's own", double)
			}
		})
	}
}

// TestBrokenWordsMarked: a line that ends inside a word carries the whole
// word for /ActualText (without the added hyphen), the next line marks
// the rest of the word as extracting to nothing, and the added hyphen's
// text is a soft hyphen; pieces of one word are never separated by a
// space.
func TestBrokenWordsMarked(t *testing.T) {
	words := []string{"extraordinary", "incomprehensible", "characteristically", "fellow-creatures", "circumstances", "unquestionably"}
	text := strings.Repeat(strings.Join(words, " ")+" ", 30)
	b := &Book{Title: "Broken", Chapters: []Chapter{{Title: "One", Markdown: []byte(text)}}, PageSize: "5x8"}
	lines := bodyLines(t, b, Options{})
	known := map[string]bool{"One": true} // and the chapter title
	for _, w := range words {
		known[w] = true
	}
	broken := 0
	var all strings.Builder
	for i, ln := range lines {
		all.WriteString(strings.TrimSuffix(lineText(ln), softHyphen))
		if ln.tail == "" {
			all.WriteByte(' ')
			continue
		}
		broken++
		if !known[ln.tail] {
			t.Errorf("line %d: /ActualText %q is not the whole word", i, ln.tail)
		}
		if i+1 < len(lines) && lines[i+1].headRuns == 0 {
			t.Errorf("line %d: the rest of %q is not marked on the next line", i+1, ln.tail)
		}
		gs := lineGlyphs(ln)
		if last := gs[len(gs)-1]; ln.hyphenated && last.text != softHyphen {
			t.Errorf("line %d: the added hyphen extracts as %q, want U+00AD", i, last.text)
		}
	}
	// The lines joined where a word breaks: every word is whole (no
	// space drawn inside a word).
	for _, w := range strings.Fields(all.String()) {
		if !known[w] {
			t.Errorf("%q is not a word of the text", w)
		}
	}
	if broken == 0 {
		t.Fatal("no word was broken across lines: the test proves nothing")
	}
}

// TestNotdefIsNoCharacter: characters the fonts lack are drawn as .notdef
// boxes, which extract as U+FFFD, never as a character of the text (they
// used to extract as the first missing character, "李" for all).
func TestNotdefIsNoCharacter(t *testing.T) {
	b := &Book{Title: "Boxes", Chapters: []Chapter{{Title: "One", Markdown: []byte("The poet 李白 and the word 日本 and the end.")}}}
	path := renderFile(t, b, t.TempDir(), "notdef.pdf")
	txt := runTool(t, "pdftotext", "-enc", "UTF-8", path, "-")
	for _, r := range "李白日本" {
		if strings.ContainsRune(txt, r) {
			t.Errorf("a .notdef box extracts as %q:\n%s", r, txt)
		}
	}
	if !strings.Contains(txt, "\ufffd") {
		t.Errorf("no U+FFFD for the missing characters:\n%s", txt)
	}
	if !strings.Contains(strings.Join(strings.Fields(txt), " "), "The poet") {
		t.Errorf("text lost:\n%s", txt)
	}
}
