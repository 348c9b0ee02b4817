package pdf

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCorpusPDF renders Frankenstein and checks the file with qpdf and
// poppler: a clean structure, embedded subset fonts with ToUnicode maps,
// the trim size, and the text recoverable in order.
func TestCorpusPDF(t *testing.T) {
	b := corpusBook(t)
	dir := artifacts(t)
	path := renderFile(t, b, dir, "frankenstein.pdf")

	t.Run("qpdf --check", func(t *testing.T) {
		out := runTool(t, "qpdf", "--check", path)
		if !strings.Contains(out, "No syntax or stream encoding errors found") {
			t.Errorf("qpdf --check:\n%s", out)
		}
	})

	t.Run("pdffonts", func(t *testing.T) {
		out := runTool(t, "pdffonts", path)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) < 3 {
			t.Fatalf("no fonts:\n%s", out)
		}
		for _, l := range lines[2:] {
			f := strings.Fields(l)
			// name type... encoding emb sub uni objID gen
			n := len(f)
			if n < 7 || f[n-5] != "yes" || f[n-4] != "yes" || f[n-3] != "yes" {
				t.Errorf("font not embedded+subset+unicode: %q", l)
			}
			if !regexp.MustCompile(`^[A-Z]{6}\+`).MatchString(f[0]) {
				t.Errorf("font name %q has no subset tag", f[0])
			}
		}
	})

	t.Run("pdfinfo", func(t *testing.T) {
		out := runTool(t, "pdfinfo", path)
		for _, want := range []string{"Page size:       432 x 648 pts", "Title:           Frankenstein", "Author:          Mary Shelley", "PDF version:     1.7", "Metadata Stream: yes"} {
			if !strings.Contains(out, want) {
				t.Errorf("pdfinfo lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("pdftotext words in order", func(t *testing.T) {
		d, err := layout(b, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var src strings.Builder
		for ci, c := range b.Chapters {
			doc := parseChapter(c.Markdown, linker{ci: ci}, nil)
			src.WriteString(d.chapters[ci].title + "\n")
			writePlain(&src, doc.blocks)
			for i, n := range doc.footnotes {
				fmt.Fprintf(&src, "%d. ", i+1)
				writePlain(&src, n)
			}
		}
		want := words(src.String())
		// Crop to the text block so running heads and folios stay out.
		g := d.g
		txt := runTool(t, "pdftotext", "-f", strconv.Itoa(d.frontCount+1),
			"-x", "0", "-y", fmt.Sprint(int(g.m.Top-2)), "-W", fmt.Sprint(int(g.pageW)), "-H", fmt.Sprint(int(g.height+4)),
			path, "-")
		got := words(normalise(txt))
		lcs := lcsLen(want, got)
		ratio := float64(lcs) / float64(len(want))
		t.Logf("%d source words, %d extracted, LCS %d (%.4f)", len(want), len(got), lcs, ratio)
		if ratio < 0.995 {
			t.Errorf("only %.4f of the words recovered in order, want ≥ 0.995", ratio)
		}
	})

	t.Run("sample pages", func(t *testing.T) {
		d, _ := layout(b, Options{}, nil)
		first := d.chapters[8].first + 1 // "Chapter I"
		for _, p := range []int{1, 3, 4, 5, first, first + 1, first + 2} {
			runTool(t, "pdftoppm", "-r", "72", "-png", "-f", strconv.Itoa(p), "-l", strconv.Itoa(p), path, filepath.Join(dir, "page"))
		}
		t.Logf("PDF and sample pages in %s", dir)
	})
}

// normalise undoes what pdftotext leaves of line-end hyphenation: a
// hyphen at the end of a line (at a page end) joins the two halves.
func normalise(s string) string {
	s = strings.NewReplacer("\u2010\n", "", "-\n\f", "", "\u2010\n\f", "").Replace(s)
	return s
}

func writePlain(sb *strings.Builder, bs []block) {
	for _, b := range bs {
		sb.WriteString(plain(b.spans))
		sb.WriteByte('\n')
		writePlain(sb, b.children)
		for _, it := range b.items {
			writePlain(sb, it)
		}
		for _, r := range b.rows {
			for _, c := range r {
				sb.WriteString(plain(c) + " ")
			}
		}
		sb.WriteString(b.code)
	}
}

// TestUnicodeRoundTrip checks that accents, dashes, curly quotes, Greek
// and Cyrillic survive shaping, subsetting and ToUnicode.
func TestUnicodeRoundTrip(t *testing.T) {
	lines := []string{
		"Café, naïve façade, Ångström, Dvořák, œuvre.",
		"An em dash—like this—and an en dash 1818–1831.",
		"“Double” and ‘single’ quotes, it’s fine… fi fl ffi.",
		"Ελληνικά: Προμηθέας δεσμώτης.",
		"Русский: Франкенштейн, или современный Прометей.",
	}
	b := &Book{Title: "Unicode", Chapters: []Chapter{{Title: "Test", Markdown: []byte(strings.Join(lines, "\n\n"))}}}
	path := renderFile(t, b, t.TempDir(), "unicode.pdf")
	txt := runTool(t, "pdftotext", path, "-")
	flat := strings.Join(strings.Fields(txt), " ")
	for _, l := range lines {
		if !strings.Contains(flat, l) {
			t.Errorf("pdftotext lost %q\ngot: %s", l, flat)
		}
	}
}

func TestDeterministic(t *testing.T) {
	b := &Book{Title: "Twice", Authors: []string{"A. N. Author"}, Chapters: []Chapter{
		{Title: "One", Markdown: []byte("Some *text* and a [link](https://example.com).\n\n## Part\n\nMore text.")},
		{Title: "Two", Markdown: []byte("Back to [one](chapter-1.md#part).")},
	}}
	var a, c bytes.Buffer
	if err := Render(&a, b, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Render(&c, b, Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("two renders of the same book differ")
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		b    Book
	}{
		{"no chapters", Book{Title: "x"}},
		{"bad page size", Book{Title: "x", PageSize: "huge", Chapters: []Chapter{{Markdown: []byte("x")}}}},
		{"margins too wide", Book{Title: "x", Margins: Margins{Inner: 200, Outer: 200}, Chapters: []Chapter{{Markdown: []byte("x")}}}},
		{"font too big", Book{Title: "x", FontSize: 72, Chapters: []Chapter{{Markdown: []byte("x")}}}},
	}
	for _, tt := range tests {
		if err := Render(&bytes.Buffer{}, &tt.b, Options{}); err == nil {
			t.Errorf("%s: Render succeeded, want error", tt.name)
		}
	}
}

func TestPageSizeOf(t *testing.T) {
	tests := []struct {
		name string
		w, h float64
	}{{"", 432, 648}, {"6x9", 432, 648}, {"5x8", 360, 576}, {"5.5x8.5", 396, 612}, {"A5", 419.528, 595.276}, {"letter", 612, 792}, {"7x10", 504, 720}}
	for _, tt := range tests {
		w, h, err := PageSizeOf(tt.name)
		if err != nil || w != tt.w || h != tt.h {
			t.Errorf("PageSizeOf(%q) = %v, %v, %v; want %v, %v", tt.name, w, h, err, tt.w, tt.h)
		}
	}
}

// TestMinimalBooks renders books with nothing but what is required, and
// less: empty title, empty chapters, only front matter in a chapter.
func TestMinimalBooks(t *testing.T) {
	for _, b := range []*Book{
		{Chapters: []Chapter{{}}},
		{Title: "T", Chapters: []Chapter{{Markdown: []byte("---\ntitle: Only\n---\n")}, {Markdown: []byte("# Heading Title\n\ntext")}}},
		{Title: "T", PageSize: "5x8", FontSize: 9, Chapters: []Chapter{{Markdown: []byte("<div>only html</div>")}}},
	} {
		var buf bytes.Buffer
		if err := Render(&buf, b, Options{}); err != nil {
			t.Errorf("Render(%+v): %v", b, err)
		}
		d, err := layout(b, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkGeometry(t, d)
	}
	d, _ := layout(&Book{Title: "T", Chapters: []Chapter{{Markdown: []byte("# Heading Title\n\ntext")}}}, Options{}, nil)
	if got := d.chapters[0].title; got != "Heading Title" {
		t.Errorf("title from leading heading = %q", got)
	}
}

// TestSharedDialect: chapters are read with the book's one Markdown
// dialect, so heading attributes are syntax, not text, and a leading
// heading equal to the chapter title is not printed twice.
func TestSharedDialect(t *testing.T) {
	b := &Book{Title: "Dialect", Chapters: []Chapter{{Title: "The First Watch",
		Markdown: []byte("# The First Watch {#first-watch}\n\nSkerry Light stands on a rock.\n\n## Later {.aside}\n\nMore.\n")}}}
	txt := runTool(t, "pdftotext", renderFile(t, b, t.TempDir(), "dialect.pdf"), "-")
	if strings.Contains(txt, "{#") || strings.Contains(txt, "{.") {
		t.Errorf("heading attributes printed as text:\n%s", txt)
	}
	// Once in the contents, once at the chapter opening.
	if n := strings.Count(txt, "The First Watch"); n != 2 {
		t.Errorf("the chapter title appears %d times, want 2:\n%s", n, txt)
	}
}
