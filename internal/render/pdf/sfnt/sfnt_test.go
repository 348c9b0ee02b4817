package sfnt

import (
	"bytes"
	"testing"

	gtfont "github.com/go-text/typesetting/font"

	"github.com/bindery/bindery/internal/render/pdf/fonts"
)

func TestParseEmbeddedFonts(t *testing.T) {
	for st := fonts.Regular; st <= fonts.Mono; st++ {
		f, err := Parse(fonts.TTF(st))
		if err != nil {
			t.Fatalf("style %d: %v", st, err)
		}
		if f.UnitsPerEm == 0 || f.NumGlyphs < 100 || f.PostScriptName == "" || f.Ascent <= 0 || f.Descent >= 0 {
			t.Errorf("style %d: implausible font %+v", st, f.PostScriptName)
		}
	}
}

// TestSubsetIsValidTrueType subsets a font and parses the result with an
// independent parser (go-text): same glyph count, kept glyphs keep their
// outlines, dropped ones are empty, and the new cmap maps what it was given.
func TestSubsetIsValidTrueType(t *testing.T) {
	data := fonts.TTF(fonts.Regular)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	full, err := gtfont.ParseTTF(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	gA, _ := full.NominalGlyph('A')
	gB, _ := full.NominalGlyph('B')
	gAacute, _ := full.NominalGlyph('Á') // often a composite
	sub := f.Subset(map[uint16]bool{uint16(gA): true, uint16(gAacute): true}, map[rune]uint16{'A': uint16(gA), 'Á': uint16(gAacute)})
	if len(sub) >= len(data)/4 {
		t.Errorf("subset is %d bytes, font %d: not much of a subset", len(sub), len(data))
	}
	sf, err := Parse(sub)
	if err != nil {
		t.Fatalf("subset does not parse: %v", err)
	}
	if sf.NumGlyphs != f.NumGlyphs {
		t.Errorf("subset has %d glyphs, want %d (ids are kept)", sf.NumGlyphs, f.NumGlyphs)
	}
	if len(sf.glyph(int(gA))) == 0 || len(sf.glyph(int(gAacute))) == 0 {
		t.Error("kept glyph lost its outline")
	}
	for _, c := range f.components(int(gAacute)) {
		if len(sf.glyph(c)) == 0 {
			t.Errorf("component %d of Á dropped", c)
		}
	}
	if len(sf.glyph(int(gB))) != 0 {
		t.Error("unused glyph B kept")
	}
	gt, err := gtfont.ParseTTF(bytes.NewReader(sub))
	if err != nil {
		t.Fatalf("go-text rejects the subset: %v", err)
	}
	if g, ok := gt.NominalGlyph('Á'); !ok || g != gAacute {
		t.Errorf("subset cmap: Á → %d, %v; want %d", g, ok, gAacute)
	}
	if _, ok := gt.NominalGlyph('B'); ok {
		t.Error("subset cmap maps B")
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("hello"), make([]byte, 100), append([]byte{0, 1, 0, 0, 0, 9}, make([]byte, 20)...)} {
		if _, err := Parse(data); err == nil {
			t.Errorf("Parse(%q) succeeded", data)
		}
	}
}
