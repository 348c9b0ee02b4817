package pdf

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// Fallback fonts of the tests: Debian's fonts-noto-core (Hebrew,
// Devanagari), fonts-droid-fallback (CJK with TrueType outlines) and
// fonts-symbola (monochrome emoji); scripts/install-deps.sh installs them.
const (
	hebrewFont = "/usr/share/fonts/truetype/noto/NotoSerifHebrew-Regular.ttf"
	cjkFont    = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"
	emojiFont  = "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"
)

// systemDirs are the font folders of the tests.
var systemDirs = []string{"/usr/share/fonts"}

// needFonts skips the test when a fallback font is missing, unless
// CI=true, where that is a failure.
func needFonts(tb testing.TB, paths ...string) {
	tb.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") == "true" {
				tb.Fatalf("%s missing (apt-get install -y fonts-noto-core fonts-droid-fallback fonts-symbola)", p)
			}
			tb.Skipf("%s missing", p)
		}
	}
}

func scriptBook(md string) *Book {
	return &Book{Title: "Scripts", Chapters: []Chapter{{Title: "One", Markdown: []byte(md)}}}
}

// TestFallbackCoversScripts: characters Noto Serif lacks (Hebrew,
// Devanagari, Chinese, Japanese, emoji) are set in fonts of FontDirs,
// none is missing, and the PDF embeds those fonts and extracts the text
// with no U+FFFD (no .notdef drawn).
func TestFallbackCoversScripts(t *testing.T) {
	needFonts(t, hebrewFont, cjkFont, emojiFont)
	text := "Greek Μῆνιν ἄειδε, Hebrew שָׁלוֹם, Devanagari नमस्ते, Chinese 床前明月光，Japanese 「古池や」, emoji 😀 ☕."
	b := scriptBook(text)
	opts := Options{FontDirs: systemDirs}
	tp, err := Layout(t.Context(), b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if m := tp.MissingGlyphs(); len(m) != 0 {
		t.Fatalf("missing glyphs %q, want none", string(m))
	}
	var buf bytes.Buffer
	if err := Render(&buf, b, opts); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(artifacts(t), "fallback.pdf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fonts := runTool(t, "pdffonts", p)
	for _, f := range []string{"NotoSerifHebrew", "NotoSerifDevanagari", "DroidSansFallback", "Symbola"} {
		if !strings.Contains(fonts, f) {
			t.Errorf("pdffonts lacks %s:\n%s", f, fonts)
		}
	}
	got := runTool(t, "pdftotext", "-enc", "UTF-8", p, "-")
	if strings.ContainsRune(got, '\ufffd') {
		t.Errorf("extracted text has U+FFFD (a .notdef drawn):\n%s", got)
	}
	for _, w := range []string{"Μῆνιν", "नमस्ते", "床前明月", "古池や", "😀", "☕"} {
		if !strings.Contains(got, w) {
			t.Errorf("extracted text lacks %q:\n%s", w, got)
		}
	}
}

// TestMissingGlyphListed: a character no font has is listed by
// MissingGlyphs and drawn as .notdef, which extracts as U+FFFD, never
// as a real character.
func TestMissingGlyphListed(t *testing.T) {
	b := scriptBook("A private character \ue000 and a joiner a\u200db.")
	tp, err := Layout(t.Context(), b, Options{FontDirs: []string{t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tp.MissingGlyphs(); !slices.Equal(got, []rune{0xe000}) {
		t.Errorf("MissingGlyphs = %U, want [U+E000] (the joiner is default-ignorable)", got)
	}
	var buf bytes.Buffer
	if err := tp.Write(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(artifacts(t), "missing.pdf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := runTool(t, "pdftotext", "-enc", "UTF-8", p, "-")
	if !strings.Contains(got, "character \ufffd and") {
		t.Errorf("the missing character does not extract as U+FFFD:\n%s", got)
	}
}

// copyFont copies a font file into dir, with its OS/2 fsType set to
// fsType when it is not -1.
func copyFont(t *testing.T, src, dir string, fsType int) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if fsType >= 0 {
		n := int(binary.BigEndian.Uint16(data[4:]))
		found := false
		for i := range n {
			rec := data[12+16*i:]
			if string(rec[:4]) == "OS/2" {
				off := binary.BigEndian.Uint32(rec[8:])
				binary.BigEndian.PutUint16(data[off+8:], uint16(fsType))
				found = true
			}
		}
		if !found {
			t.Fatal("no OS/2 table")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func hebrewMissing(t *testing.T, dir string) bool {
	t.Helper()
	tp, err := Layout(t.Context(), scriptBook("שָׁלוֹם"), Options{FontDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	return len(tp.MissingGlyphs()) > 0
}

// TestFallbackLicence: a system font whose licence forbids embedding
// (OS/2 fsType restricted) is skipped, never embedded; the same font
// with an installable licence is used.
func TestFallbackLicence(t *testing.T) {
	needFonts(t, hebrewFont)
	ok, restricted := t.TempDir(), t.TempDir()
	copyFont(t, hebrewFont, ok, 0)
	copyFont(t, hebrewFont, restricted, 0x0002)
	if hebrewMissing(t, ok) {
		t.Fatal("Hebrew missing with an installable fallback font")
	}
	if !hebrewMissing(t, restricted) {
		t.Error("a restricted-licence fallback font was used")
	}
}

// TestFallbackStaysInFolder: a symbolic link in a font folder, to a font
// file or a folder outside it, is not followed.
func TestFallbackStaysInFolder(t *testing.T) {
	needFonts(t, hebrewFont)
	dir := t.TempDir()
	if err := os.Symlink(hebrewFont, filepath.Join(dir, "NotoSerifHebrew-Regular.ttf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(hebrewFont), filepath.Join(dir, "noto")); err != nil {
		t.Fatal(err)
	}
	if !hebrewMissing(t, dir) {
		t.Error("a font outside the folder was read through a symbolic link")
	}
}

// TestLatinReadsNoFallbackFont: text the book's fonts cover neither
// walks the fallback folders nor reads a fallback font, so Latin text
// does not pay for the fallback chain; the first character they lack
// walks them and reads only the font that has it.
func TestLatinReadsNoFallbackFont(t *testing.T) {
	needFonts(t, hebrewFont)
	dir := t.TempDir()
	copyFont(t, hebrewFont, dir, -1)
	copyFont(t, "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", dir, -1)
	latin := strings.Repeat("Plain English text, with “quotes”—and dashes; café. ", 50)
	tp, err := Layout(t.Context(), scriptBook(latin), Options{FontDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if tp.d.sh.sys != nil {
		t.Error("Latin text walked the fallback folders")
	}
	tp, err = Layout(t.Context(), scriptBook(latin+" שָׁלוֹם"), Options{FontDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	s := tp.d.sh.sys
	if s == nil {
		t.Fatal("Hebrew text did not walk the fallback folders")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) != 2 || s.nparsed != 1 {
		t.Errorf("fallback set: %d files, %d read; want 2 found, 1 read", len(s.files), s.nparsed)
	}
}

func TestCJKBreakPoints(t *testing.T) {
	tests := []struct {
		txt  string
		want []int // rune indexes
	}{
		{"床前明月光", []int{1, 2, 3, 4}},
		{"月光，疑是", []int{1, 3, 4}},  // none before the comma
		{"「古池や」と", []int{2, 3, 5}}, // none after 「, none before 」
		{"ニャーニャー", []int{3}},       // none before the prolonged sound mark or a small ャ
		{"plain", nil},
		{"2026年です", []int{4, 5, 6}},
	}
	for _, tt := range tests {
		var got []int
		for _, p := range cjkBreakPoints(tt.txt) {
			got = append(got, p.rune)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("cjkBreakPoints(%q) = %v, want %v", tt.txt, got, tt.want)
		}
	}
}

// TestCJKParagraphBreaks: a paragraph of Chinese with no spaces breaks
// into justified lines between characters, never before a closing mark
// or after an opening one, and draws no space glyph between characters.
func TestCJKParagraphBreaks(t *testing.T) {
	needFonts(t, cjkFont)
	b := scriptBook(strings.Repeat("床前明月光，疑是地上霜。「举头望明月」，低头思故乡。", 8))
	lines := bodyLines(t, b, Options{FontDirs: systemDirs})
	if len(lines) < 4 {
		t.Fatalf("%d lines, want several", len(lines))
	}
	for i, ln := range lines {
		txt := lineText(ln)
		if strings.Contains(txt, " ") {
			t.Errorf("line %d has a space: %q", i, txt)
		}
		if ln.overfull {
			t.Errorf("line %d overfull: %q", i, txt)
		}
		if i > 0 && strings.ContainsRune(noBreakBefore, firstRune(txt)) {
			t.Errorf("line %d starts with %q", i, firstRune(txt))
		}
		if i+1 < len(lines) && strings.ContainsRune(noBreakAfter, lastRune(txt)) {
			t.Errorf("line %d ends with %q", i, lastRune(txt))
		}
	}
}

const arabicFont = "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"

// partsByX returns the texts of a line's parts from left to right,
// joining parts that touch (the pieces of a word).
func partsByX(ln *line) []string {
	type px struct {
		x, end float64
		t      string
	}
	var ps []px
	for _, r := range ln.runs {
		for _, p := range r.parts {
			var sb strings.Builder
			for _, g := range p.glyphs {
				sb.WriteString(g.text)
			}
			ps = append(ps, px{p.x, p.x + width(p.glyphs)*r.size, sb.String()})
		}
	}
	slices.SortFunc(ps, func(a, b px) int {
		switch {
		case a.x < b.x:
			return -1
		case a.x > b.x:
			return 1
		}
		return 0
	})
	var out []string
	for i, p := range ps {
		if i > 0 && p.x-ps[i-1].end < 0.01 {
			out[len(out)-1] += p.t
			continue
		}
		out = append(out, p.t)
	}
	return out
}

// TestBidiLineOrder: in a left-to-right paragraph, a run of Hebrew words
// reads right to left (its first word rightmost), between the Latin
// words around it; a Hebrew paragraph is set from the right margin.
func TestBidiLineOrder(t *testing.T) {
	needFonts(t, hebrewFont)
	opts := Options{FontDirs: systemDirs}
	d, lines := bodyLayout(t, scriptBook("Before אחד שתים after.\n\nאחד שתים"), opts)
	if len(lines) < 2 {
		t.Fatalf("%d lines, want the title's and 2", len(lines))
	}
	lines = lines[len(lines)-2:]
	// Glyph texts of a right-to-left word are in visual order.
	if got, want := partsByX(lines[0]), []string{"Before", "םיתש", "דחא", "after."}; !slices.Equal(got, want) {
		t.Errorf("mixed line, left to right: %q, want %q", got, want)
	}
	if got, want := partsByX(lines[1]), []string{"םיתש", "דחא"}; !slices.Equal(got, want) {
		t.Errorf("Hebrew line, left to right: %q, want %q", got, want)
	}
	// The first (rightmost) word ends at the right margin, less the
	// paragraph's indent.
	end := 0.0
	for _, ru := range lines[1].runs {
		end = max(end, ru.end)
	}
	if measure := d.g.width; end < measure*0.9 || end > measure+0.01 {
		t.Errorf("Hebrew paragraph ends at %.2f, want near the right margin %.2f", end, measure)
	}
}

// TestBidiExtractsLogicalOrder: pdftotext gives a Hebrew paragraph back
// in logical order, points and all.
func TestBidiExtractsLogicalOrder(t *testing.T) {
	needFonts(t, hebrewFont)
	const he = "בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם"
	var buf bytes.Buffer
	if err := Render(&buf, scriptBook(he), Options{FontDirs: systemDirs}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(artifacts(t), "hebrew.pdf")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// pdftotext may order a letter's points differently: compare the
	// canonical forms.
	got := norm.NFC.String(runTool(t, "pdftotext", "-enc", "UTF-8", p, "-"))
	if !strings.Contains(got, norm.NFC.String(he)) {
		t.Errorf("pdftotext does not give %q back:\n%s", he, got)
	}
}

// TestArabicJoined: Arabic letters are shaped in their joining forms,
// not set as isolated letters.
func TestArabicJoined(t *testing.T) {
	needFonts(t, arabicFont)
	sh, err := newShaper("ar", nil, systemDirs)
	if err != nil {
		t.Fatal(err)
	}
	f := sh.fallbackFace(sh.faces[0], 'ب')
	if f == nil {
		t.Fatal("no Arabic fallback font")
	}
	iso := sh.shape(f, "ب")
	word := sh.shape(f, "ببب")
	if len(word) != 3 {
		t.Fatalf("%d glyphs, want 3", len(word))
	}
	for i, g := range word {
		if g.gid == iso[0].gid {
			t.Errorf("glyph %d of ببب is the isolated form", i)
		}
	}
}

// TestIndicShaped: Devanagari is shaped with its script: the vowel sign
// i (ि), written after its consonant, is drawn before it.
func TestIndicShaped(t *testing.T) {
	needFonts(t, "/usr/share/fonts/truetype/noto/NotoSerifDevanagari-Regular.ttf")
	sh, err := newShaper("hi", nil, systemDirs)
	if err != nil {
		t.Fatal(err)
	}
	f := sh.fallbackFace(sh.faces[0], 'क')
	if f == nil {
		t.Fatal("no Devanagari fallback font")
	}
	gs := sh.shape(f, "कि")
	ka := sh.shape(f, "क")[0].gid
	if len(gs) != 2 || gs[1].gid != ka {
		t.Errorf("कि shaped as %v: want the vowel sign first, then क (%d)", gs, ka)
	}
}

// TestRunningHeadFallback: a running head (a chapter title in Chinese)
// is set in the fallback fonts too, with no .notdef.
func TestRunningHeadFallback(t *testing.T) {
	needFonts(t, cjkFont)
	sh, err := newShaper("zh", nil, systemDirs)
	if err != nil {
		t.Fatal(err)
	}
	ln := sh.simpleLine(sh.faces[1], "Chapter 东亚", 9, 300)
	if len(ln.runs) != 2 {
		t.Fatalf("%d runs, want the Latin and the Chinese", len(ln.runs))
	}
	for _, g := range lineGlyphs(ln) {
		if g.gid == 0 {
			t.Errorf(".notdef in the running head")
		}
	}
	if len(sh.missingRunes()) != 0 {
		t.Errorf("missing %q", string(sh.missingRunes()))
	}
}
