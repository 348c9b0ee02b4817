package pdf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/bindery/bindery/internal/testkit"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

// testFont returns a font of testdata/fonts, decompressed.
func testFont(tb testing.TB, name string) []byte {
	return testkit.Gunzip(tb, "testdata/fonts/"+name+".ttf.gz")
}

// liberation is a family with a regular and an italic but no bold.
func liberation(tb testing.TB) *Fonts {
	return &Fonts{
		Regular: Font{Name: "LiberationSerif-Regular.ttf", Data: testFont(tb, "LiberationSerif-Regular")},
		Italic:  Font{Name: "LiberationSerif-Italic.ttf", Data: testFont(tb, "LiberationSerif-Italic")},
	}
}

const fontsText = "Plain text, *true italics*, **faux bold** and ***faux bold italics***; `code` stays mono.\n\nCafé, naïve, “quotes”, fi fl ffi."

// TestBookFonts sets a book in its own family: the family's fonts are
// embedded (subset, with ToUnicode) instead of Noto Serif, the missing bold
// styles are made from the regular font without a font of their own, the
// colophon names the family, and the text survives.
func TestBookFonts(t *testing.T) {
	b := &Book{Title: "Own Fonts", Fonts: liberation(t), Chapters: []Chapter{{Title: "One", Markdown: []byte(fontsText)}}}
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkGeometry(t, d)
	f := d.sh.faces
	if f[0].sf.Family != "Liberation Serif" || f[1].sf == f[0].sf || f[1].slant != 0 {
		t.Errorf("regular %q, italic shares regular: %v, slant %v; want Liberation Serif with a true italic", f[0].sf.Family, f[1].sf == f[0].sf, f[1].slant)
	}
	if f[2].sf != f[0].sf || f[2].stroke == 0 || f[2].slant != 0 {
		t.Errorf("bold: want the regular font stroked, got stroke %v slant %v", f[2].stroke, f[2].slant)
	}
	if f[3].sf != f[1].sf || f[3].stroke == 0 || f[3].slant != 0 {
		t.Errorf("bold italic: want the italic font stroked, got stroke %v slant %v", f[3].stroke, f[3].slant)
	}
	d2, err := layout(&Book{Title: "x", Fonts: &Fonts{Regular: b.Fonts.Regular}, Chapters: b.Chapters}, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := d2.sh.faces; f[1].sf != f[0].sf || f[1].slant == 0 || f[3].sf != f[0].sf || f[3].slant == 0 || f[3].stroke == 0 {
		t.Error("with a regular font alone, italics must be the regular slanted and bold italics the regular slanted and stroked")
	}
	if d.g.size != 11 {
		t.Errorf("default size for Liberation Serif = %v, want 11", d.g.size)
	}

	path := renderFile(t, b, artifacts(t), "own-fonts.pdf")
	fonts := runTool(t, "pdffonts", path)
	for _, want := range []string{"+LiberationSerif ", "+LiberationSerif-Italic ", "+LiberationMono"} {
		if !strings.Contains(fonts, want) {
			t.Errorf("pdffonts lacks %q:\n%s", want, fonts)
		}
	}
	if strings.Contains(fonts, "Noto") || strings.Count(fonts, "LiberationSerif ") != 1 {
		t.Errorf("want Liberation Serif embedded once and no Noto Serif:\n%s", fonts)
	}
	txt := strings.Join(strings.Fields(runTool(t, "pdftotext", path, "-")), " ")
	for _, want := range []string{"Plain text, true italics, faux bold and faux bold italics; code stays mono.", "Café, naïve, “quotes”, fi fl ffi.", "Set in Liberation Serif and Liberation Mono"} {
		if !strings.Contains(txt, want) {
			t.Errorf("pdftotext lacks %q:\n%s", want, txt)
		}
	}

	var again bytes.Buffer
	b2 := &Book{Title: "Own Fonts", Fonts: liberation(t), Chapters: b.Chapters}
	if err := Render(&again, b2, Options{}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if !bytes.Equal(first, again.Bytes()) {
		t.Error("two renders with the same fonts differ")
	}
}

// TestBookFontsFallback: characters the book's family lacks are set in
// Noto Serif rather than as empty boxes, and the text survives.
func TestBookFontsFallback(t *testing.T) {
	reg := Font{Name: "LiberationSerif-Regular.ttf", Data: testFont(t, "LiberationSerif-Regular")}
	text := "A recipe ℞ and an asterism ⁂, and *a per-ten-thousand ‱ sign* in the text."
	b := &Book{Title: "Fallback", Fonts: &Fonts{Regular: reg}, Chapters: []Chapter{{Title: "One", Markdown: []byte(text)}}}
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "℞⁂‱" {
		if d.sh.faces[0].covers(r) || !d.sh.fallback[0].covers(r) {
			t.Fatalf("%q: the test needs a character Liberation Serif lacks and Noto Serif has", r)
		}
	}
	var faces []string
	for _, p := range d.pages {
		for _, pl := range p.boxes {
			for _, bl := range pl.b.lines {
				for _, r := range bl.ln.runs {
					for _, pt := range r.parts {
						for _, g := range pt.glyphs {
							if g.gid == 0 {
								t.Errorf("missing glyph for %q in %s", g.text, r.f.sf.PostScriptName)
							}
						}
					}
					if t := runText(r); strings.ContainsAny(t, "℞⁂‱") {
						faces = append(faces, r.f.sf.PostScriptName)
					}
				}
			}
		}
	}
	if strings.Join(faces, " ") != "NotoSerif-Regular NotoSerif-Regular NotoSerif-Italic" {
		t.Errorf("runs with ℞, ⁂ and ‱ are in %q, want Noto Serif regular and italic", faces)
	}
	txt := strings.Join(strings.Fields(runTool(t, "pdftotext", renderFile(t, b, t.TempDir(), "fallback.pdf"), "-")), " ")
	if !strings.Contains(txt, strings.ReplaceAll(text, "*", "")) {
		t.Errorf("pdftotext lacks the text:\n%s", txt)
	}
}

func TestDefaultSize(t *testing.T) {
	tests := []struct{ xh, want float64 }{
		{0.536, 10},   // Noto Serif
		{0.459, 11},   // Liberation Serif
		{0.40, 11},    // a Garamond
		{0.57, 9.5},   // larger still: never below 9.5
		{0, 11},       // unknown
		{0.95, 11},    // implausible
		{0.515, 10.5}, // 5.4/0.515 = 10.49
	}
	for _, tt := range tests {
		if got := defaultSize(tt.xh); got != tt.want {
			t.Errorf("defaultSize(%v) = %v, want %v", tt.xh, got, tt.want)
		}
	}
}

// cffFont is the start of an OpenType font with PostScript outlines.
func cffFont() []byte {
	b := []byte("OTTO\x00\x01\x00\x10\x00\x00\x00\x00")
	rec := make([]byte, 16)
	copy(rec, "CFF ")
	binary.BigEndian.PutUint32(rec[8:], 28)
	binary.BigEndian.PutUint32(rec[12:], 4)
	return append(append(b, rec...), 1, 0, 4, 2)
}

// withFsType returns a copy of a TrueType font with its OS/2 fsType (the
// embedding licence flags) set to v.
func withFsType(t *testing.T, data []byte, v uint16) []byte {
	t.Helper()
	out := append([]byte(nil), data...)
	for i := 0; i < int(binary.BigEndian.Uint16(out[4:])); i++ {
		if rec := out[12+16*i:]; string(rec[:4]) == "OS/2" {
			binary.BigEndian.PutUint16(out[binary.BigEndian.Uint32(rec[8:])+8:], v)
			return out
		}
	}
	t.Fatal("no OS/2 table")
	return nil
}

// TestBookFontErrors: a font that cannot be used is a *FontError naming
// it, never a panic and never a PDF set in something else.
func TestBookFontErrors(t *testing.T) {
	reg := testFont(t, "LiberationSerif-Regular")
	tests := []struct {
		name string
		fam  Fonts
		want string
		is   error
	}{
		{"no regular", Fonts{Italic: Font{Name: "i.ttf", Data: reg}}, "regular: no regular font", nil},
		{"CFF outlines", Fonts{Regular: Font{Name: "Garamond.otf", Data: cffFont()}}, "Garamond.otf: the font has PostScript (CFF) outlines", sfnt.ErrCFF},
		{"not a font", Fonts{Regular: Font{Name: "notes.ttf", Data: []byte("these are not the glyphs you are looking for")}}, "notes.ttf: not a TrueType or OpenType font", sfnt.ErrFormat},
		{"collection", Fonts{Regular: Font{Name: "c.ttc", Data: append([]byte("ttcf"), reg[4:]...)}}, "c.ttc: not a TrueType", sfnt.ErrFormat},
		{"truncated", Fonts{Regular: Font{Name: "cut.ttf", Data: reg[:2000]}}, "cut.ttf: ", nil},
		{"too large", Fonts{Regular: Font{Name: "big.ttf", Data: make([]byte, MaxFontBytes+1)}}, "big.ttf: font file too large", nil},
		{"bad italic", Fonts{Regular: Font{Name: "r.ttf", Data: reg}, Italic: Font{Name: "i.ttf", Data: reg[:100]}}, "i.ttf: ", nil},
		{"restricted licence", Fonts{Regular: Font{Name: "Secret.ttf", Data: withFsType(t, reg, 0x0002)}}, "Secret.ttf: its licence forbids embedding it in documents", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fam := tt.fam
			b := &Book{Title: "x", Fonts: &fam, Chapters: []Chapter{{Markdown: []byte("text")}}}
			err := Render(io.Discard, b, Options{})
			var fe *FontError
			if !errors.As(err, &fe) {
				t.Fatalf("Render = %v, want a *FontError", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
}

// TestBookFontsDamaged renders with fonts damaged at random places: each
// render must succeed or fail with a *FontError, never panic.
func TestBookFontsDamaged(t *testing.T) {
	good := testFont(t, "LiberationSerif-Regular")
	rng := rand.New(rand.NewPCG(1, 2))
	n := 60
	if testing.Short() {
		n = 10
	}
	for i := range n {
		data := bytes.Clone(good)
		// Damage the table directory or the tables' heads, where a
		// parser is most easily led astray.
		for range 1 + rng.IntN(8) {
			p := rng.IntN(min(len(data), 4096))
			if i%3 == 0 {
				p = rng.IntN(len(data))
			}
			data[p] = byte(rng.UintN(256))
		}
		b := &Book{Title: "x", Fonts: &Fonts{Regular: Font{Name: "damaged.ttf", Data: data}},
			Chapters: []Chapter{{Markdown: []byte(fontsText)}}}
		var fe *FontError
		if err := Render(io.Discard, b, Options{}); err != nil && !errors.As(err, &fe) {
			t.Errorf("damage %d: Render = %v, want nil or a *FontError", i, err)
		}
	}
}
