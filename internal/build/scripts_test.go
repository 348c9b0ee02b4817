package build_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	unorm "golang.org/x/text/unicode/norm"

	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/manuscript"
)

// scriptFonts are the Debian fonts the scripts book needs (see its
// metadata.yaml and scripts/install-deps.sh).
var scriptFonts = []string{
	"/usr/share/fonts/truetype/noto/NotoSerifHebrew-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSerifDevanagari-Regular.ttf",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
}

func needScriptFonts(t *testing.T) {
	t.Helper()
	for _, p := range scriptFonts {
		if _, err := os.Stat(p); err != nil {
			msg := p + " missing: apt-get install -y fonts-noto-core fonts-droid-fallback fonts-symbola"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

var scriptsBook = filepath.Join("testdata", "scripts")

// TestScriptsBookBuilds: the book of every script builds with no
// missing-glyph warning; its PDF embeds the fallback fonts, extracts
// every script (right-to-left in logical order) with no U+FFFD (no
// .notdef drawn), and each page renders with ink on it.
func TestScriptsBookBuilds(t *testing.T) {
	needScriptFonts(t)
	out := artifactsDir(t)
	var warned []manuscript.Problem
	res, err := build.Run(context.Background(), build.Options{Dir: scriptsBook, OutDir: out, Formats: []build.Format{build.PDF},
		Progress: func(e build.Event) {
			if e.Kind == build.Warning {
				warned = append(warned, e.Problem)
			}
		}})
	if err != nil || len(res.Artifacts) != 1 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if len(res.Problems) != 0 || len(warned) != 0 {
		t.Errorf("problems %v, warnings %v; want none", res.Problems, warned)
	}
	pdf := res.Artifacts[0].Path
	fonts := output(t, "pdffonts", pdf)
	for _, f := range []string{"NotoSerifHebrew", "NotoSansArabic", "NotoSerifDevanagari", "DroidSansFallback", "Symbola"} {
		if !strings.Contains(fonts, f) {
			t.Errorf("pdffonts lacks %s:\n%s", f, fonts)
		}
	}
	txt := unorm.NFC.String(output(t, "pdftotext", "-enc", "UTF-8", pdf, "-"))
	if strings.ContainsRune(txt, '\ufffd') {
		t.Errorf("the text has U+FFFD (a .notdef drawn):\n%s", txt)
	}
	for _, want := range []string{
		"李白", // the author, on the title page
		"Μῆνιν ἄειδε", "Все счастливые семьи",
		"בְּרֵאשִׁית בָּרָא אֱלֹהִים", // logical order
		"في البدء كان الكلمة",
		"धर्मक्षेत्रे",
		"床前明月光", "古池や蛙飛び込む水の音", "吾輩は猫である",
		"😀", "☕",
	} {
		if !strings.Contains(txt, unorm.NFC.String(want)) {
			t.Errorf("the text lacks %q", want)
		}
	}
	output(t, "pdftoppm", "-r", "40", "-png", pdf, filepath.Join(out, "scripts"))
	pages, _ := filepath.Glob(filepath.Join(out, "scripts-*.png"))
	if len(pages) < 6 {
		t.Fatalf("%d pages rendered", len(pages))
	}
	slices.Sort(pages)
	inked := 0
	for _, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		b := img.Bounds()
		dark := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
					dark++
				}
			}
		}
		if dark > 0 {
			inked++
		}
	}
	if inked < 5 {
		t.Errorf("%d of %d pages have ink", inked, len(pages))
	}
}

// TestMissingGlyphWarning: a character no font has is a warning of the
// build, naming the character, its code point and the chapter's
// file:line, both in Result.Problems and as a progress event.
func TestMissingGlyphWarning(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(scriptsBook)); err != nil {
		t.Fatal(err)
	}
	ch := filepath.Join(dir, "chapters", "01-alphabets.md")
	data, err := os.ReadFile(ch)
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Count(data, []byte("\n")) + 2
	data = append(data, "\nA private-use character: \ue000.\n"...)
	if err := os.WriteFile(ch, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var warned []manuscript.Problem
	res, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir(), Formats: []build.Format{build.PDF},
		Progress: func(e build.Event) {
			if e.Kind == build.Warning {
				warned = append(warned, e.Problem)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	var got []manuscript.Problem
	for _, p := range res.Problems {
		if strings.Contains(p.Message, "U+E000") {
			got = append(got, p)
		}
	}
	if len(got) != 1 {
		t.Fatalf("problems %v: want one about U+E000", res.Problems)
	}
	p := got[0]
	if p.File != "chapters/01-alphabets.md" || p.Line != line || p.Severity != manuscript.SeverityWarning || !strings.Contains(p.Message, `'\ue000'`) {
		t.Errorf("problem %+v: want a warning at chapters/01-alphabets.md:%d naming the character", p, line)
	}
	if !slices.Contains(warned, p) {
		t.Errorf("no progress event for %v (events %v)", p, warned)
	}
}

func TestFontDirs(t *testing.T) {
	got := build.FontDirs("/opt/fonts:relative/fonts::/opt/fonts/:/srv/f")
	want := []string{"/opt/fonts", "/srv/f", "/usr/share/fonts", "/usr/local/share/fonts"}
	if !slices.Equal(got, want) {
		t.Errorf("FontDirs = %q, want %q", got, want)
	}
}

// artifactsDir is $BINDERY_TEST_ARTIFACTS/scripts if set, else a
// temporary folder.
func artifactsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("BINDERY_TEST_ARTIFACTS"); d != "" {
		d = filepath.Join(d, "scripts")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}
