// Package sfnt reads the few TrueType tables a PDF writer needs (metrics,
// names, glyph outlines) and writes glyph subsets of a font.
//
// It handles fonts with TrueType outlines (a "glyf" table) only; CFF-based
// OpenType fonts are rejected by Parse with ErrCFF, font collections and
// WOFF files with ErrFormat.
package sfnt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Font is a parsed TrueType font. Its fields are read-only after Parse.
type Font struct {
	data   []byte
	tables map[string][]byte

	UnitsPerEm      int
	NumGlyphs       int
	Ascent, Descent int // hhea ascender and descender (descender < 0)
	CapHeight       int
	XHeight         int // OS/2 sxHeight; 0 when the font does not say
	ItalicAngle     float64
	BBox            [4]int // xMin, yMin, xMax, yMax
	Advances        []int  // per glyph, font units
	PostScriptName  string
	Family          string // typographic family name (name ID 16, else 1)
	FixedPitch      bool
	longLoca        bool
	loca            []uint32
}

// Errors of Parse for files it does not read; match them with errors.Is.
var (
	ErrCFF    = errors.New("sfnt: the font has PostScript (CFF) outlines; only TrueType-outline fonts (a glyf table) can be embedded")
	ErrFormat = errors.New("sfnt: not a TrueType or OpenType font file (font collections and WOFF are not read)")
)

// maxFileSize is the largest font file Parse reads: far above any
// TrueType font (pan-Unicode ones are 20–30 MiB), and small enough that
// its subsets fit the 32-bit offsets and lengths of the format: their 13
// tables, none much larger than the file, add up to well under 4 GiB.
const maxFileSize = 256 << 20

// Parse reads a TrueType font file. It fails on a truncated file, a file
// over 256 MiB, a font without a glyf table (ErrCFF when it has CFF
// outlines instead), a file that is no single sfnt font (ErrFormat), or any
// table it needs that is malformed, including a loca table whose offsets
// do not ascend. It never panics.
func Parse(data []byte) (f *Font, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("sfnt: malformed font: %v", r)
		}
	}()
	if len(data) < 4 {
		return nil, ErrFormat
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("sfnt: font file over %d MiB", maxFileSize>>20)
	}
	switch string(data[:4]) {
	case "\x00\x01\x00\x00", "true", "OTTO":
	default:
		return nil, ErrFormat
	}
	if len(data) < 12 {
		return nil, errors.New("sfnt: file too short")
	}
	f = &Font{data: data, tables: map[string][]byte{}}
	n := int(u16(data, 4))
	for i := 0; i < n; i++ {
		rec := data[12+16*i:]
		tag := string(rec[:4])
		off, length := u32(rec, 8), u32(rec, 12)
		if uint64(off)+uint64(length) > uint64(len(data)) {
			return nil, fmt.Errorf("sfnt: table %q out of bounds", tag)
		}
		f.tables[tag] = data[off : off+length]
	}
	if f.tables["glyf"] == nil && (f.tables["CFF "] != nil || f.tables["CFF2"] != nil) {
		return nil, ErrCFF
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("sfnt: no %s table (not a TrueType-outline font)", t)
		}
	}
	head := f.tables["head"]
	f.UnitsPerEm = int(u16(head, 18))
	f.BBox = [4]int{i16(head, 36), i16(head, 38), i16(head, 40), i16(head, 42)}
	f.longLoca = u16(head, 50) == 1
	f.NumGlyphs = int(u16(f.tables["maxp"], 4))
	hhea := f.tables["hhea"]
	f.Ascent = i16(hhea, 4)
	f.Descent = i16(hhea, 6)
	nMetrics := int(u16(hhea, 34))
	hmtx := f.tables["hmtx"]
	f.Advances = make([]int, f.NumGlyphs)
	for g := 0; g < f.NumGlyphs; g++ {
		if g < nMetrics {
			f.Advances[g] = int(u16(hmtx, 4*g))
		} else {
			f.Advances[g] = f.Advances[nMetrics-1]
		}
	}
	loca := f.tables["loca"]
	f.loca = make([]uint32, f.NumGlyphs+1)
	for g := range f.loca {
		if f.longLoca {
			f.loca[g] = u32(loca, 4*g)
		} else {
			f.loca[g] = 2 * uint32(u16(loca, 2*g))
		}
		// The format requires ascending offsets. Holding fonts to it keeps
		// glyphs disjoint slices of glyf, so a subset is never larger than
		// the font: with overlapping entries a small file could make every
		// glyph the whole table, and Subset copy it once per glyph.
		if g > 0 && f.loca[g] < f.loca[g-1] {
			return nil, fmt.Errorf("sfnt: loca offsets out of order at glyph %d", g)
		}
	}
	if os2 := f.tables["OS/2"]; len(os2) >= 90 && u16(os2, 0) >= 2 {
		f.XHeight = i16(os2, 86)
		f.CapHeight = i16(os2, 88)
	}
	if f.CapHeight == 0 {
		f.CapHeight = f.Ascent * 7 / 10
	}
	if post := f.tables["post"]; len(post) >= 16 {
		f.ItalicAngle = float64(int32(u32(post, 4))) / 65536 // #nosec G115 -- italicAngle is a signed 16.16 Fixed: reading its bits as two's complement is its decoding, not an overflow
		f.FixedPitch = u32(post, 12) != 0
	}
	if f.Family = f.name(16); f.Family == "" {
		f.Family = f.name(1)
	}
	f.PostScriptName = f.name(6)
	if f.PostScriptName == "" {
		f.PostScriptName = "Font"
	}
	return f, nil
}

// name returns the name record id from the Windows (Unicode) or Mac
// platform, or "".
func (f *Font) name(id int) string {
	t := f.tables["name"]
	if len(t) < 6 {
		return ""
	}
	count, strOff := int(u16(t, 2)), int(u16(t, 4))
	for i := 0; i < count; i++ {
		r := t[6+12*i:]
		pid, nid := u16(r, 0), u16(r, 6)
		length, off := int(u16(r, 8)), int(u16(r, 10))
		if int(nid) != id || strOff+off+length > len(t) {
			continue
		}
		s := t[strOff+off : strOff+off+length]
		if pid == 3 || pid == 0 {
			var b strings.Builder
			for j := 0; j+1 < len(s); j += 2 {
				b.WriteRune(rune(u16(s, j)))
			}
			return b.String()
		}
		return string(s)
	}
	return ""
}

// GlyphID returns g as a glyph id of f, or 0 (.notdef) when f has no
// glyph g. Shapers use 32-bit ids, and a format 12 cmap can map a rune past
// the font's last glyph: such an id must not be truncated into another
// glyph.
func (f *Font) GlyphID(g uint32) uint16 {
	if g > math.MaxUint16 || int(g) >= f.NumGlyphs {
		return 0
	}
	return uint16(g)
}

func (f *Font) glyph(g int) []byte {
	if g < 0 || g >= f.NumGlyphs {
		return nil
	}
	a, b := f.loca[g], f.loca[g+1]
	glyf := f.tables["glyf"]
	if a >= b || int(b) > len(glyf) {
		return nil
	}
	return glyf[a:b]
}

// components returns the glyph ids a composite glyph refers to.
func (f *Font) components(g int) []int {
	d := f.glyph(g)
	if len(d) < 10 || i16(d, 0) >= 0 { // numberOfContours; negative for a composite
		return nil
	}
	var out []int
	p := 10
	for p+4 <= len(d) {
		flags := u16(d, p)
		out = append(out, int(u16(d, p+2)))
		p += 4
		if flags&0x0001 != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&0x0008 != 0:
			p += 2
		case flags&0x0040 != 0:
			p += 4
		case flags&0x0080 != 0:
			p += 8
		}
		if flags&0x0020 == 0 { // no MORE_COMPONENTS
			return out
		}
	}
	return out
}

// Subset returns a TrueType font that keeps the glyph ids of f but holds
// outlines only for the glyphs in used (plus glyph 0 and the components of
// composite glyphs). cmap maps the runes the subset should map, if any, to
// glyph ids: it becomes a format 4 cmap (BMP runes only). Tables a PDF
// renderer does not need (layout, kerning, hinting device tables) are
// dropped; hinting programs are kept so the subset renders as the font.
func (f *Font) Subset(used map[uint16]bool, cmap map[rune]uint16) []byte {
	keep := map[int]bool{0: true}
	var stack []int
	for g := range used {
		stack = append(stack, int(g))
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if keep[g] || g >= f.NumGlyphs {
			continue
		}
		keep[g] = true
		stack = append(stack, f.components(g)...)
	}
	for g := range keep { // components of glyph 0 and of already-kept glyphs
		for _, c := range f.components(g) {
			if c < f.NumGlyphs {
				keep[c] = true
			}
		}
	}
	var glyf []byte
	loca := make([]byte, 4*(f.NumGlyphs+1))
	for g := 0; g < f.NumGlyphs; g++ {
		binary.BigEndian.PutUint32(loca[4*g:], field32(len(glyf)))
		if keep[g] {
			glyf = append(glyf, f.glyph(g)...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	binary.BigEndian.PutUint32(loca[4*f.NumGlyphs:], field32(len(glyf)))

	head := append([]byte(nil), f.tables["head"]...)
	binary.BigEndian.PutUint32(head[8:], 0) // checksumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1)
	post := make([]byte, 32)
	if p := f.tables["post"]; len(p) >= 32 {
		copy(post, p[:32])
	}
	binary.BigEndian.PutUint32(post, 0x00030000)

	tables := map[string][]byte{
		"head": head, "hhea": f.tables["hhea"], "maxp": f.tables["maxp"], "hmtx": f.tables["hmtx"],
		"loca": loca, "glyf": glyf, "post": post,
	}
	for _, t := range []string{"cvt ", "fpgm", "prep", "OS/2", "name"} {
		if d := f.tables[t]; d != nil {
			tables[t] = d
		}
	}
	tables["cmap"] = buildCmap(cmap)
	return assemble(tables)
}

// buildCmap writes a cmap with one Windows Unicode BMP format 4 subtable.
// The subtable's length and offsets are 16-bit, so it holds some 32,000
// runes at most: the lowest runes are kept and the rest left out. That
// costs nothing in a PDF, whose viewers draw glyphs by id and find text
// through the ToUnicode CMap, not this table.
func buildCmap(m map[rune]uint16) []byte {
	var runes []rune
	for r := range m {
		if r > 0 && r <= 0xFFFE {
			runes = append(runes, r)
		}
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	type seg struct{ start, end rune }
	var segs []seg
	// The subtable is 16 bytes of header, 8 per segment (end, start,
	// delta, range offset) and 2 per rune (its glyphIdArray entry); the
	// closing 0xFFFF segment is counted from the start.
	size := 16 + 8
	for _, r := range runes {
		n := len(segs)
		extend := n > 0 && segs[n-1].end == r-1
		cost := 2
		if !extend {
			cost += 8
		}
		if size+cost > math.MaxUint16 {
			break
		}
		size += cost
		if extend {
			segs[n-1].end = r
		} else {
			segs = append(segs, seg{r, r})
		}
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF})
	segX2 := 2 * len(segs)
	var glyphs []uint16
	sub := make([]byte, 16+4*segX2)
	// searchRange is twice the largest power of two not above the
	// segment count, entrySelector that power's log2 (a table with only
	// the closing segment, when no used glyph maps a single rune, has
	// 2 and 0).
	pow, entry := 1, 0
	for pow*2 <= len(segs) {
		pow *= 2
		entry++
	}
	searchRange := 2 * pow
	binary.BigEndian.PutUint16(sub[0:], 4)
	binary.BigEndian.PutUint16(sub[4:], 0)
	binary.BigEndian.PutUint16(sub[6:], field16(segX2))
	binary.BigEndian.PutUint16(sub[8:], field16(searchRange))
	binary.BigEndian.PutUint16(sub[10:], field16(entry))
	binary.BigEndian.PutUint16(sub[12:], field16(segX2-searchRange))
	endOff, startOff := 14, 16+segX2
	deltaOff, rangeOff := startOff+segX2, startOff+2*segX2
	for i, s := range segs {
		binary.BigEndian.PutUint16(sub[endOff+2*i:], field16(int(s.end)))
		binary.BigEndian.PutUint16(sub[startOff+2*i:], field16(int(s.start)))
		if s.start == 0xFFFF {
			binary.BigEndian.PutUint16(sub[deltaOff+2*i:], 1)
			continue
		}
		// idRangeOffset into glyphIdArray, which follows idRangeOffset[].
		ro := 2*(len(segs)-i) + 2*len(glyphs)
		binary.BigEndian.PutUint16(sub[rangeOff+2*i:], field16(ro))
		for r := s.start; r <= s.end; r++ {
			glyphs = append(glyphs, m[r])
		}
	}
	for _, g := range glyphs {
		sub = binary.BigEndian.AppendUint16(sub, g)
	}
	binary.BigEndian.PutUint16(sub[2:], field16(len(sub)))
	out := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}
	return append(out, sub...)
}

// assemble writes an sfnt file of the tables, sorted by tag, with
// checksums and head.checkSumAdjustment.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], field16(n))
	binary.BigEndian.PutUint16(out[6:], field16(16<<es))
	binary.BigEndian.PutUint16(out[8:], field16(es))
	binary.BigEndian.PutUint16(out[10:], field16(16*n-16<<es))
	headOff := 0
	for i, t := range tags {
		d := tables[t]
		rec := out[12+16*i:]
		copy(rec, t)
		binary.BigEndian.PutUint32(rec[4:], checksum(d))
		binary.BigEndian.PutUint32(rec[8:], field32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], field32(len(d)))
		if t == "head" {
			headOff = len(out)
		}
		out = append(out, d...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	binary.BigEndian.PutUint32(out[headOff+8:], 0xB1B0AFBA-checksum(out))
	return out
}

func checksum(b []byte) uint32 {
	var s uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		s += binary.BigEndian.Uint32(w[:])
	}
	return s
}

func u16(b []byte, i int) uint16 { return binary.BigEndian.Uint16(b[i:]) }
func u32(b []byte, i int) uint32 { return binary.BigEndian.Uint32(b[i:]) }

// i16 reads a signed 16-bit field (FWORD, int16) at b[i:].
func i16(b []byte, i int) int {
	return int(int16(u16(b, i))) // #nosec G115 -- reading the field's bits as two's complement is how a signed field is decoded, not an overflow
}

// field16 and field32 convert a count, length or offset into a field of a
// font being written. Callers keep values in range (Parse bounds the input
// file, buildCmap its subtable, and Subset writes 13 tables at most),
// so a value out of range is a bug of this package: it panics rather than
// write a font whose offsets point elsewhere.
func field16(n int) uint16 {
	if n < 0 || n > math.MaxUint16 {
		panic(fmt.Sprintf("sfnt: %d overflows a 16-bit field", n))
	}
	return uint16(n)
}

func field32(n int) uint32 {
	if n < 0 || n > math.MaxUint32 {
		panic(fmt.Sprintf("sfnt: %d overflows a 32-bit field", n))
	}
	return uint32(n)
}
