package build_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	unorm "golang.org/x/text/unicode/norm"

	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/testkit"
)

// extractor is a PDF text extractor: a command line that writes the text
// of the PDF in to the file out.
type extractor struct {
	name  string
	pkg   string   // the Debian package that has it
	cmds  []string // its command names, first found wins
	args  func(in, out string) []string
	found string
}

var extractors = []extractor{
	{name: "poppler", pkg: "poppler-utils", cmds: []string{"pdftotext"},
		args: func(in, out string) []string { return []string{"-enc", "UTF-8", in, out} }},
	{name: "mupdf", pkg: "mupdf-tools", cmds: []string{"mutool"},
		args: func(in, out string) []string { return []string{"draw", "-q", "-F", "txt", "-o", out, in} }},
	{name: "pdfminer", pkg: "python3-pdfminer", cmds: []string{"pdf2txt", "pdf2txt.py"},
		args: func(in, out string) []string { return []string{"-o", out, in} }},
}

// findExtractors looks the three extractors up; a missing one fails the
// test under CI=true and skips it elsewhere.
func findExtractors(t *testing.T) []extractor {
	t.Helper()
	out := slices.Clone(extractors)
	var missing []string
	for i := range out {
		for _, c := range out[i].cmds {
			if p, err := exec.LookPath(c); err == nil {
				out[i].found = p
				break
			}
		}
		if out[i].found == "" {
			missing = append(missing, out[i].pkg)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("PDF text extractors missing: apt-get install %s", strings.Join(missing, " "))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return out
}

func (x extractor) text(t *testing.T, pdf string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), x.name+".txt")
	if b, err := exec.Command(x.found, x.args(pdf, out)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", x.name, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTextLayerExtractsWholeWords: at least 99.9% of the words of three
// books (Frankenstein, the bundled example, and a multilingual book of
// Latin with diacritics, Greek and Cyrillic) come back whole from the
// PDF with each of poppler, MuPDF and pdfminer.
//
// An extractor's text is read as a reader of plain text would read it
// (readText): a soft hyphen (U+00AD) at the end of a line joins the two
// halves of a word, and a hyphen-minus at the end of a line is the word's
// own hyphen (Bindery's added hyphens are soft), joined to the rest; a
// page's running head and folio do not separate a word broken across the
// page. Poppler honours the /ActualText of broken words and needs none
// of this; MuPDF 1.21 and pdfminer do not.
func TestTextLayerExtractsWholeWords(t *testing.T) {
	xs := findExtractors(t)
	books := []struct{ name, dir string }{
		{"frankenstein", testkit.Corpus(t)},
		{"lighthouse", exampleDir},
		{"multilingual", filepath.Join("testdata", "multilingual")},
	}
	for _, b := range books {
		t.Run(b.name, func(t *testing.T) {
			out := t.TempDir()
			res, err := build.Run(context.Background(), build.Options{Dir: b.dir, OutDir: out, Formats: []build.Format{build.PDF}})
			if err != nil || len(res.Artifacts) != 1 {
				t.Fatalf("Run = %+v, %v", res, err)
			}
			src, titles := sourceWords(t, b.dir)
			if len(src) < 500 {
				t.Fatalf("only %d source words", len(src))
			}
			for _, x := range xs {
				got := readText(x.text(t, res.Artifacts[0].Path), titles)
				ratio, missing := wholeRatio(src, got)
				t.Logf("%s: %.3f%% of %d words whole; missing: %v", x.name, 100*ratio, len(src), missing)
				if ratio < 0.999 {
					t.Errorf("%s: %.3f%% of the words extract whole, want ≥ 99.9%%; missing: %v", x.name, 100*ratio, missing)
				}
			}
		})
	}
}

var (
	frontMatter   = regexp.MustCompile(`(?s)\A---\r?\n.*?\n---\r?\n`)
	fmTitle       = regexp.MustCompile(`(?m)^title:\s*(.+)$`)
	h1            = regexp.MustCompile(`(?m)^# (.+)$`)
	headingAttrs  = regexp.MustCompile(`\{#[^}]*\}`)
	footnoteRef   = regexp.MustCompile(`\[\^[^\]]*\]:?`)
	mdLink        = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlBlockLine = regexp.MustCompile(`(?m)^\s*</?[a-zA-Z][^\n]*$`)
	htmlTag       = regexp.MustCompile(`</?[a-zA-Z][^>]*>`)
	lineMarks     = regexp.MustCompile(`(?m)^\s*(#+|>+)`)
	noteMark      = regexp.MustCompile(`[\p{P}\p{S}]+\d+$`)
)

// sourceWords returns the words of a book's chapters, as Markdown
// without its marks (raw HTML blocks, which the PDF drops, dropped too),
// and the titles that may appear as running heads.
func sourceWords(t *testing.T, dir string) (words []string, titles []string) {
	t.Helper()
	meta, err := os.ReadFile(filepath.Join(dir, "metadata.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if m := fmTitle.FindSubmatch(meta); m != nil {
		titles = append(titles, strings.Trim(strings.TrimSpace(string(m[1])), `"'`))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "chapters", "*.md"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if fm := frontMatter.FindString(s); fm != "" {
			if m := fmTitle.FindStringSubmatch(fm); m != nil {
				titles = append(titles, strings.Trim(strings.TrimSpace(m[1]), `"'`))
			}
			s = s[len(fm):]
		}
		if m := h1.FindStringSubmatch(s); m != nil {
			titles = append(titles, strings.ReplaceAll(headingAttrs.ReplaceAllString(m[1], ""), "*", ""))
		}
		s = headingAttrs.ReplaceAllString(s, "")
		s = footnoteRef.ReplaceAllString(s, "")
		s = mdLink.ReplaceAllString(s, "$1")
		s = htmlBlockLine.ReplaceAllString(s, "")
		s = htmlTag.ReplaceAllString(s, "")
		s = lineMarks.ReplaceAllString(s, "")
		s = strings.NewReplacer("*", "", "_", "", "`", "", "~~", "", "|", " ").Replace(s)
		words = append(words, wordsOf(s)...)
	}
	return words, titles
}

var (
	softBreak = regexp.MustCompile("\u00ad\\s+")
	hardBreak = regexp.MustCompile(`(\pL)-[ \t]*\n\s*(\pL)`)
	roman     = regexp.MustCompile(`^[ivxlcdm]+$`)
)

// readText reads an extractor's text as a reader would: pages (split at
// form feeds) lose the running heads and folios at their top and foot,
// and words broken at a line's or a page's end are joined (see
// TestTextLayerExtractsWholeWords).
func readText(text string, titles []string) []string {
	furniture := map[string]bool{}
	for _, t := range titles {
		furniture[norm(t)] = true
	}
	isFurniture := func(line string) bool {
		l := norm(line)
		if l == "" || furniture[l] || roman.MatchString(l) {
			return true
		}
		return strings.IndexFunc(l, func(r rune) bool { return !unicode.IsDigit(r) }) < 0
	}
	// The lines at a page's top and foot that may be a running head or a
	// folio are read apart (a chapter's title on its opening page too:
	// its words still count).
	var body, aside []string
	for _, page := range strings.Split(text, "\f") {
		lines := strings.Split(page, "\n")
		for len(lines) > 0 && isFurniture(lines[0]) {
			aside = append(aside, lines[0])
			lines = lines[1:]
		}
		for len(lines) > 0 && isFurniture(lines[len(lines)-1]) {
			aside = append(aside, lines[len(lines)-1])
			lines = lines[:len(lines)-1]
		}
		body = append(body, strings.Join(lines, "\n"))
	}
	s := strings.Join(body, "\n")
	s = softBreak.ReplaceAllString(s, "")
	s = hardBreak.ReplaceAllString(s, "$1-$2")
	return append(wordsOf(s), wordsOf(strings.Join(aside, "\n"))...)
}

// norm is a line of text with its quotes straightened and its spaces
// collapsed, for comparing titles.
func norm(s string) string {
	s = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201c", `"`, "\u201d", `"`).Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// wordsOf splits text into words: between spaces and dashes, trimmed of
// punctuation, with a footnote mark ("tread.”1") cut off; only those
// with a letter count. Quotes and apostrophes are straightened (the PDF
// curls them) and word joiners dropped (the PDF sets them as nothing).
func wordsOf(s string) []string {
	s = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201c", `"`, "\u201d", `"`, "\u2010", "-", "\u2060", "").Replace(s)
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '—' || r == '–' || r == '⸺' || r == '⸻'
	}) {
		trim := func(s string) string {
			return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) })
		}
		w := trim(f)
		if loc := noteMark.FindStringIndex(w); loc != nil && loc[0] > 0 {
			w = trim(w[:loc[0]])
		}
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			out = append(out, w)
		}
	}
	return out
}

// wholeRatio returns the share of the source words found among the
// extracted ones (as multisets) and the most frequent missing ones.
func wholeRatio(src, got []string) (float64, []string) {
	have := map[string]int{}
	for _, w := range got {
		have[w]++
	}
	found := 0
	lost := map[string]int{}
	for _, w := range src {
		if have[w] > 0 {
			have[w]--
			found++
			continue
		}
		lost[w]++
	}
	var missing []string
	for w, n := range lost {
		missing = append(missing, fmt.Sprintf("%q×%d", w, n))
	}
	slices.Sort(missing)
	if len(missing) > 30 {
		missing = missing[:30]
	}
	return float64(found) / float64(len(src)), missing
}

// TestEveryGlyphExtracts: in the every-script book, no glyph extracts as
// pdfminer's "(cid:N)" (a glyph with no Unicode mapping); the Devanagari
// line, whose conjuncts and vowel signs are glyphs that stand for no text
// of their own, extracts exactly with poppler and pdfminer (MuPDF 1.21
// shows U+FFFD for a glyph mapped to the empty string: not checked); and
// each clause of the Arabic line extracts in its logical order with all
// three — MuPDF and pdfminer read glyphs in the order they are drawn,
// so right-to-left text is drawn in logical order (tjLogical).
func TestEveryGlyphExtracts(t *testing.T) {
	xs := findExtractors(t)
	out := t.TempDir()
	res, err := build.Run(context.Background(), build.Options{Dir: filepath.Join("testdata", "scripts"), OutDir: out, Formats: []build.Format{build.PDF}})
	if err != nil || len(res.Artifacts) != 1 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	const devanagari = "धर्मक्षेत्रे कुरुक्षेत्रे समवेता युयुत्सवः"
	for _, x := range xs {
		got := x.text(t, res.Artifacts[0].Path)
		if x.name == "pdfminer" && strings.Contains(got, "(cid:") {
			t.Errorf("pdfminer extracts a glyph with no Unicode mapping:\n%s", got)
		}
		if x.name != "mupdf" && !strings.Contains(unorm.NFC.String(got), unorm.NFC.String(devanagari)) {
			t.Errorf("%s does not give the Devanagari line back:\n%s", x.name, got)
		}
		for _, clause := range []string{"في البدء كان الكلمة", "والكلمة كان عند الله"} {
			if !strings.Contains(unorm.NFC.String(got), clause) {
				t.Errorf("%s does not give the Arabic %q back in logical order:\n%s", x.name, clause, got)
			}
		}
	}
}
