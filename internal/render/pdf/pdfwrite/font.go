package pdfwrite

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

// Font is a TrueType font embedded as a composite font: Type0 with
// Identity-H encoding over a CIDFontType2 whose CIDs are the glyph ids.
// Only the glyphs recorded with Use are kept in the embedded subset; a
// ToUnicode CMap maps each glyph back to the text it was shaped from, so
// the text can be searched and copied.
//
// A glyph drawn for a text other than its own (the hyphen a line break
// adds, which is text U+00AD, not the hyphen of the source) is shown
// under an alias CID, numbered after the font's glyphs, with its own
// ToUnicode entry; a CIDToGIDMap stream then maps aliases to their
// glyphs (it is /Identity when there are none).
//
// Glyph 0, .notdef, is what a font shows for a character it lacks: it is
// mapped to U+FFFD REPLACEMENT CHARACTER, whatever text it was shaped
// from, so that a box never extracts as a real character (and a first
// missing character does not become the text of every later one).
type Font struct {
	Ref     Ref // the Type0 font dictionary, for page resources
	sf      *sfnt.Font
	used    map[uint16]string
	aliases []alias
}

// alias is a CID past the font's glyphs: it shows glyph gid and stands
// for text.
type alias struct {
	gid  uint16
	text string
}

// NewFont registers sf for embedding; the font objects are written by
// Close.
func (w *Writer) NewFont(sf *sfnt.Font) *Font {
	f := &Font{Ref: w.Alloc(), sf: sf, used: map[uint16]string{}}
	w.fonts = append(w.fonts, f)
	return f
}

// Use records that glyph gid is shown and stands for text (which may be
// several characters, for a ligature, or empty for a mark). The first
// non-empty text recorded for a glyph wins.
func (f *Font) Use(gid uint16, text string) {
	if old, ok := f.used[gid]; !ok || old == "" {
		f.used[gid] = text
	}
}

// Alias returns a CID that shows glyph gid and extracts as text, for a
// glyph shown as something other than the text it was shaped from (see
// Font). The same gid and text give the same CID. When the font has no
// CID numbers left, it returns gid itself.
func (f *Font) Alias(gid uint16, text string) uint16 {
	for i, a := range f.aliases {
		if a.gid == gid && a.text == text {
			return uint16(f.sf.NumGlyphs + i) // #nosec G115 -- an alias exists only if its CID was ≤ 0xFFFF when made (below)
		}
	}
	cid := f.sf.NumGlyphs + len(f.aliases)
	if cid > 0xFFFF || int(gid) >= f.sf.NumGlyphs {
		f.Use(gid, text)
		return gid
	}
	f.Use(gid, "")
	f.aliases = append(f.aliases, alias{gid: gid, text: text})
	return uint16(cid) // #nosec G115 -- cid ≤ 0xFFFF, checked above
}

// Width returns the advance of glyph gid in thousandths of the font size,
// the unit of PDF glyph widths and TJ adjustments.
func (f *Font) Width(gid uint16) float64 {
	if int(gid) >= len(f.sf.Advances) {
		if i := int(gid) - f.sf.NumGlyphs; i >= 0 && i < len(f.aliases) {
			gid = f.aliases[i].gid
		} else {
			return 0
		}
	}
	return float64(f.sf.Advances[gid]) * 1000 / float64(f.sf.UnitsPerEm)
}

func (f *Font) embed(w *Writer) {
	gids := make([]uint16, 0, len(f.used))
	for g := range f.used {
		gids = append(gids, g)
	}
	slices.Sort(gids)
	// The subset tag is derived from the glyph set so output is
	// deterministic.
	h := sha256.New()
	fmt.Fprint(h, f.sf.PostScriptName, gids)
	sum := h.Sum(nil)
	var tag [6]byte
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	base := string(tag[:]) + "+" + f.sf.PostScriptName

	used := map[uint16]bool{}
	cmap := map[rune]uint16{}
	for _, g := range gids {
		used[g] = true
		if rs := []rune(f.used[g]); len(rs) == 1 {
			if _, ok := cmap[rs[0]]; !ok {
				cmap[rs[0]] = g
			}
		}
	}
	program := f.sf.Subset(used, cmap)

	cid, desc, file, toUni := w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc()
	scale := 1000 / float64(f.sf.UnitsPerEm)
	sc := func(v int) string { return Num(float64(v) * scale) }
	flags := 32 // nonsymbolic
	if f.sf.FixedPitch {
		flags |= 1
	}
	flags |= 2 // serif
	if f.sf.ItalicAngle != 0 {
		flags |= 64
	}
	w.Object(f.Ref, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont %s /Encoding /Identity-H /DescendantFonts [%s] /ToUnicode %s >>",
		Name(base), cid, toUni))

	cids := gids
	text := f.used
	if len(f.aliases) > 0 {
		cids = slices.Clone(gids)
		text = make(map[uint16]string, len(f.used)+len(f.aliases))
		for g, t := range f.used {
			text[g] = t
		}
		for i, a := range f.aliases {
			cid := uint16(f.sf.NumGlyphs + i) // #nosec G115 -- Alias made no CID above 0xFFFF
			cids = append(cids, cid)
			text[cid] = a.text
		}
	}
	var ws strings.Builder
	ws.WriteString("[")
	for i := 0; i < len(cids); {
		j := i
		for j+1 < len(cids) && cids[j+1] == cids[j]+1 {
			j++
		}
		fmt.Fprintf(&ws, " %d [", cids[i])
		for k := i; k <= j; k++ {
			if k > i {
				ws.WriteByte(' ')
			}
			ws.WriteString(Num(f.Width(cids[k])))
		}
		ws.WriteString("]")
		i = j + 1
	}
	ws.WriteString(" ]")
	cidToGID := "/Identity"
	var gidMap Ref
	if len(f.aliases) > 0 {
		gidMap = w.Alloc()
		cidToGID = gidMap.String()
	}
	w.Object(cid, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont %s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %s /DW 0 /W %s /CIDToGIDMap %s >>",
		Name(base), desc, ws.String(), cidToGID))
	b := f.sf.BBox
	w.Object(desc, fmt.Sprintf("<< /Type /FontDescriptor /FontName %s /Flags %d /FontBBox [%s %s %s %s] /ItalicAngle %s /Ascent %s /Descent %s /CapHeight %s /StemV 80 /FontFile2 %s >>",
		Name(base), flags, sc(b[0]), sc(b[1]), sc(b[2]), sc(b[3]), Num(f.sf.ItalicAngle), sc(f.sf.Ascent), sc(f.sf.Descent), sc(f.sf.CapHeight), file))
	w.Stream(file, fmt.Sprintf("/Length1 %d", len(program)), program, true)
	w.Stream(toUni, "", toUnicodeCMap(cids, text), true)
	if len(f.aliases) > 0 {
		m := make([]byte, 2*(f.sf.NumGlyphs+len(f.aliases)))
		for g := range f.sf.NumGlyphs {
			binary.BigEndian.PutUint16(m[2*g:], uint16(g))
		}
		for i, a := range f.aliases {
			binary.BigEndian.PutUint16(m[2*(f.sf.NumGlyphs+i):], a.gid)
		}
		w.Stream(gidMap, "", m, true)
	}
}

func toUnicodeCMap(gids []uint16, text map[uint16]string) []byte {
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var lines []string
	for _, g := range gids {
		t := text[g]
		if g == 0 {
			t = "\ufffd" // .notdef: a box, whatever character it stood for
		}
		if t == "" {
			// A glyph that stands for no text of its own: the second
			// glyph of a shaped cluster (a Devanagari vowel sign or
			// reph, whose cluster's text the first glyph carries), or
			// a glyph shown only through an alias. Mapped to the empty
			// string, not left out: an unmapped glyph extracts as
			// "(cid:N)" in pdfminer and U+FFFD in MuPDF, and PDF/UA
			// wants every shown glyph mapped.
			lines = append(lines, fmt.Sprintf("<%04X> <>\n", g))
			continue
		}
		var hex strings.Builder
		for _, u := range utf16.Encode([]rune(t)) {
			fmt.Fprintf(&hex, "%04X", u)
		}
		lines = append(lines, fmt.Sprintf("<%04X> <%s>\n", g, hex.String()))
	}
	for i := 0; i < len(lines); i += 100 {
		chunk := lines[i:min(i+100, len(lines))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, l := range chunk {
			b.WriteString(l)
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return []byte(b.String())
}
