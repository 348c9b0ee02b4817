package pdfwrite

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

// Font is a TrueType font embedded as a composite font: Type0 with
// Identity-H encoding over a CIDFontType2 whose CIDs are the glyph ids
// (CIDToGIDMap /Identity). Only the glyphs recorded with Use are kept in
// the embedded subset; a ToUnicode CMap maps each glyph back to the text
// it was shaped from, so the text can be searched and copied.
type Font struct {
	Ref  Ref // the Type0 font dictionary, for page resources
	sf   *sfnt.Font
	used map[uint16]string
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

// Width returns the advance of glyph gid in thousandths of the font size,
// the unit of PDF glyph widths and TJ adjustments.
func (f *Font) Width(gid uint16) float64 {
	if int(gid) >= len(f.sf.Advances) {
		return 0
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

	var ws strings.Builder
	ws.WriteString("[")
	for i := 0; i < len(gids); {
		j := i
		for j+1 < len(gids) && gids[j+1] == gids[j]+1 {
			j++
		}
		fmt.Fprintf(&ws, " %d [", gids[i])
		for k := i; k <= j; k++ {
			if k > i {
				ws.WriteByte(' ')
			}
			ws.WriteString(Num(f.Width(gids[k])))
		}
		ws.WriteString("]")
		i = j + 1
	}
	ws.WriteString(" ]")
	w.Object(cid, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont %s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %s /DW 0 /W %s /CIDToGIDMap /Identity >>",
		Name(base), desc, ws.String()))
	b := f.sf.BBox
	w.Object(desc, fmt.Sprintf("<< /Type /FontDescriptor /FontName %s /Flags %d /FontBBox [%s %s %s %s] /ItalicAngle %s /Ascent %s /Descent %s /CapHeight %s /StemV 80 /FontFile2 %s >>",
		Name(base), flags, sc(b[0]), sc(b[1]), sc(b[2]), sc(b[3]), Num(f.sf.ItalicAngle), sc(f.sf.Ascent), sc(f.sf.Descent), sc(f.sf.CapHeight), file))
	w.Stream(file, fmt.Sprintf("/Length1 %d", len(program)), program, true)
	w.Stream(toUni, "", toUnicodeCMap(gids, f.used), true)
}

func toUnicodeCMap(gids []uint16, text map[uint16]string) []byte {
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var lines []string
	for _, g := range gids {
		t := text[g]
		if t == "" {
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
