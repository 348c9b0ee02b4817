package sfnt

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
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

// table returns the offset and length of table tag in the font file data.
func table(tb testing.TB, data []byte, tag string) (off, n int) {
	tb.Helper()
	for i := 0; i < int(u16(data, 4)); i++ {
		rec := data[12+16*i:]
		if string(rec[:4]) == tag {
			return int(u32(rec, 8)), int(u32(rec, 12))
		}
	}
	tb.Fatalf("no %s table", tag)
	return 0, 0
}

// TestParseRejectsOverlappingGlyphs: loca offsets must ascend, or a small
// font could make every glyph the whole glyf table and its subsets huge.
func TestParseRejectsOverlappingGlyphs(t *testing.T) {
	data := bytes.Clone(fonts.TTF(fonts.Regular))
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.loca[1] == 0 {
		t.Fatal("glyph 0 is empty; the test needs an outline there")
	}
	off, _ := table(t, data, "loca")
	if f.longLoca {
		binary.BigEndian.PutUint32(data[off+8:], 0) // glyph 2 starts where glyph 0 does
	} else {
		binary.BigEndian.PutUint16(data[off+4:], 0)
	}
	if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), "loca") {
		t.Errorf("Parse of a font with descending loca offsets: err = %v, want a loca error", err)
	}
}

func TestGlyphID(t *testing.T) {
	f, err := Parse(fonts.TTF(fonts.Regular))
	if err != nil {
		t.Fatal(err)
	}
	last := uint32(f.NumGlyphs - 1)
	for _, tc := range []struct {
		g    uint32
		want uint16
	}{
		{0, 0},
		{65, 65},
		{last, uint16(last)},
		{last + 1, 0},       // past the last glyph
		{1<<16 + 65, 0},     // would truncate to glyph 65
		{math.MaxUint32, 0}, // would truncate to glyph 65535
	} {
		if got := f.GlyphID(tc.g); got != tc.want {
			t.Errorf("GlyphID(%d) = %d, want %d", tc.g, got, tc.want)
		}
	}
}

// TestSubsetCmapFitsFormat4: a cmap of more runes than a format 4
// subtable can hold keeps the lowest ones, with a length and offsets that
// are right, instead of 16-bit fields that wrapped around.
func TestSubsetCmapFitsFormat4(t *testing.T) {
	data := fonts.TTF(fonts.Regular)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	// Every other BMP code point: one segment each, 30,000 of them.
	cmap := map[rune]uint16{}
	for r := rune(0x21); r <= 0xFFFD; r += 2 {
		cmap[r] = uint16(r % 200)
	}
	sub := f.Subset(map[uint16]bool{}, cmap)
	off, n := table(t, sub, "cmap")
	sub4 := sub[off+12 : off+n]
	if got := int(u16(sub4, 2)); got != len(sub4) {
		t.Errorf("format 4 length field = %d, subtable is %d bytes", got, len(sub4))
	}
	gt, err := gtfont.ParseTTF(bytes.NewReader(sub))
	if err != nil {
		t.Fatalf("go-text rejects the subset: %v", err)
	}
	for _, r := range []rune{0x21, 0x23, 0x1001} {
		if g, ok := gt.NominalGlyph(r); !ok || g != gtfont.GID(cmap[r]) {
			t.Errorf("subset cmap: %U → %d, %v; want %d", r, g, ok, cmap[r])
		}
	}
	if g, ok := gt.NominalGlyph(0xFFFD); ok {
		t.Errorf("subset cmap maps U+FFFD to %d: more runes than format 4 holds were written", g)
	}
}

// TestCmapSearchFields: the format 4 subtable's binary-search fields
// follow the spec for any segment count, including a table with only the
// closing segment (a subset whose glyphs map no single rune), which used
// to panic.
func TestCmapSearchFields(t *testing.T) {
	for _, tc := range []struct {
		m                           map[rune]uint16
		segX2, search, entry, shift uint16
	}{
		{map[rune]uint16{}, 2, 2, 0, 0},
		{map[rune]uint16{'a': 3}, 4, 4, 1, 0},
		{map[rune]uint16{'a': 3, 'c': 4}, 6, 4, 1, 2},
		{map[rune]uint16{'a': 3, 'c': 4, 'e': 5}, 8, 8, 2, 0},
	} {
		sub := buildCmap(tc.m)[12:]
		got := [4]uint16{u16(sub, 6), u16(sub, 8), u16(sub, 10), u16(sub, 12)}
		if want := [4]uint16{tc.segX2, tc.search, tc.entry, tc.shift}; got != want {
			t.Errorf("%d runes: segCountX2, searchRange, entrySelector, rangeShift = %v, want %v", len(tc.m), got, want)
		}
	}
}
