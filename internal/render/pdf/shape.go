package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-text/typesetting/di"
	gtfont "github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"

	"github.com/bindery/bindery/internal/fontcheck"
	"github.com/bindery/bindery/internal/render/pdf/fonts"
	"github.com/bindery/bindery/internal/render/pdf/pdfwrite"
	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

// glyph is one shaped glyph. adv is its advance in ems (shaping includes
// kerning); text is the source text the glyph stands for (the whole
// cluster on its first glyph, "" on the others). An alias glyph stands
// for a text that is not its own (the soft hyphen a line break adds, a
// task box): it is written under its own CID with that text.
type glyph struct {
	gid     uint16
	alias   bool // drawn for text other than the glyph's own (see pdfwrite.Font.Alias)
	adv     float32
	cluster int // index of the glyph's first rune in the shaped text
	text    string
}

// face is one font, ready for shaping, measuring and embedding. Faces
// made up for a style the family lacks share the font program of another
// face and are drawn slanted or stroked.
type face struct {
	slot    int // the face's index in shaper.cache: shaper.faces (0–4), shaper.fallback (5–8), then system fallbacks
	style   int // the style it sets: fonts.Style (0–4)
	sf      *sfnt.Font
	gt      *gtfont.Face
	pdf     *pdfwrite.Font        // set when a document is written
	pdfIdx  int                   // the font's resource index (/F0, /F1, …) when written
	ascent  float64               // hhea ascender, ems
	desc    float64               // hhea descender, ems (positive)
	xHeight float64               // ems
	space   glyph                 // U+0020
	hyphen  glyph                 // U+2010 or '-', the hyphen a line break adds; its text is softHyphen
	slant   float64               // horizontal shear of a faux italic (tan of the angle); 0 for none
	stroke  float64               // outline stroke of a faux bold, ems; 0 for none
	low     [lowRunes / 64]uint64 // coverage of the runes below lowRunes, a bit each
}

// lowRunes bounds the runes whose coverage a face keeps as a bit set
// (Latin, Greek, Cyrillic, Hebrew, Arabic): checking them costs a bit
// test, so text a face covers pays almost nothing for the fallback chain.
const lowRunes = 0x800

// softHyphen is the text of the hyphen a line break adds: U+00AD, the
// hyphen that Unicode says shows only at a line break, so an extractor
// (or a reader of the text) joins the two halves of the word.
const softHyphen = "\u00ad"

// Faux styles: a 12° slant, about what true italics lean, and a stroke
// of 1/40 em, which thickens stems by about as much as a bold does at
// text sizes.
const (
	fauxSlant  = 0.2126 // tan 12°
	fauxStroke = 0.025
)

// shaper shapes words with HarfBuzz (go-text port) and caches the result
// per face and text: most words of a book repeat. It is not safe for
// concurrent use.
type shaper struct {
	hb    shaping.HarfbuzzShaper
	faces [5]*face // by fonts.Style: regular, italic, bold, bold italic, mono
	// fallback are the Noto Serif faces of the four text styles when the
	// book has its own family: they set the characters it lacks (Greek
	// in a Latin-only face, say). Nil when the text is in Noto Serif.
	fallback [4]*face
	cache    []map[string][]glyph // by face slot
	lang     language.Language
	buf      []rune
	family   string // the text face's family name, for the colophon

	// sys are the fallback fonts of Options.FontDirs (nil for none or
	// until a character needs them),
	// sysFaces their faces by font and style, and runeFace the face
	// chosen for a rune the style's own faces lack, by style (nil: no
	// font has it).
	sys      *fallbackSet
	sysDirs  []string // the folders of sys, walked on the first character the book's fonts lack
	sysFaces map[sysKey]*face
	runeFace [5]map[rune]*face
	// missing are the characters no font has, drawn as .notdef.
	missing map[rune]bool
}

type sysKey struct {
	pf    *parsedFont
	style int
}

// parsedFont is a font parsed by both parsers; both are read-only
// afterwards, so the embedded fonts are parsed once per process and shared
// by concurrent renders.
type parsedFont struct {
	sf  *sfnt.Font
	gt  *gtfont.Font
	err error
}

var (
	parseOnce [fonts.Mono + 1]sync.Once
	parsed    [fonts.Mono + 1]parsedFont
)

func parseFont(st fonts.Style) parsedFont {
	parseOnce[st].Do(func() {
		pf, err := parseData(fonts.TTF(st))
		if err != nil {
			pf.err = fmt.Errorf("pdf: font %d: %w", st, err)
		}
		parsed[st] = pf
	})
	return parsed[st]
}

// parseData parses a font program with both parsers. A font that either
// parser chokes on is an error, never a panic.
func parseData(data []byte) (pf parsedFont, err error) {
	defer func() {
		if r := recover(); r != nil {
			pf, err = parsedFont{}, fmt.Errorf("malformed font: %v", r)
		}
	}()
	sf, err := sfnt.Parse(data)
	if err != nil {
		return parsedFont{}, plainError{err}
	}
	gt, err := gtfont.ParseTTF(bytes.NewReader(data))
	if err != nil {
		return parsedFont{}, fmt.Errorf("malformed font: %v", err)
	}
	if int(gt.Upem()) != sf.UnitsPerEm || sf.UnitsPerEm < 16 || sf.UnitsPerEm > 16384 {
		return parsedFont{}, fmt.Errorf("malformed font: %d units per em", sf.UnitsPerEm)
	}
	return parsedFont{sf: sf, gt: gt.Font}, nil
}

// plainError is an error of package sfnt without the "sfnt: " prefix,
// which means nothing to the author of a book.
type plainError struct{ err error }

func (e plainError) Error() string { return strings.TrimPrefix(e.err.Error(), "sfnt: ") }
func (e plainError) Unwrap() error { return e.err }

// basicLatin must all be in a book font's character map.
const basicLatin = " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'()-"

// parseBookFont parses a font of Book.Fonts and checks that it can set
// English text.
func parseBookFont(f Font, style string) (parsedFont, error) {
	name := f.Name
	if name == "" {
		name = style
	}
	fail := func(err error) (parsedFont, error) { return parsedFont{}, &FontError{Name: name, Err: err} }
	if len(f.Data) > MaxFontBytes {
		return fail(fmt.Errorf("font file too large: %d bytes (limit %d)", len(f.Data), MaxFontBytes))
	}
	pf, err := parseData(f.Data)
	if err != nil {
		return fail(err)
	}
	// The licence check of uploads (bookfs), so that a build refuses what
	// an upload would, with the same words.
	if err := fontcheck.Licence(f.Data); err != nil {
		return fail(err)
	}
	var missing []rune
	for _, r := range basicLatin {
		if g, ok := pf.gt.NominalGlyph(r); !ok || g == 0 {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fail(fmt.Errorf("no glyphs for %q: not a text font for Latin script", string(missing)))
	}
	return pf, nil
}

// slot is the font of one style of the text family: a parsed font and
// the faux styling it gets.
type slot struct {
	pf            parsedFont
	slant, stroke float64
}

// familySlots returns the four text styles of fam (Regular, Italic, Bold,
// BoldItalic), making up missing ones as Fonts documents; nil is Noto
// Serif.
func familySlots(fam *Fonts) ([4]slot, error) {
	var out [4]slot
	if fam == nil {
		for st := fonts.Regular; st <= fonts.BoldItalic; st++ {
			pf := parseFont(st)
			if pf.err != nil {
				return out, pf.err
			}
			out[st] = slot{pf: pf}
		}
		return out, nil
	}
	if fam.Regular.Data == nil {
		return out, &FontError{Name: "regular", Err: errors.New("no regular font")}
	}
	have := [4]bool{}
	for i, f := range [4]Font{fam.Regular, fam.Italic, fam.Bold, fam.BoldItalic} {
		if f.Data == nil {
			continue
		}
		pf, err := parseBookFont(f, [4]string{"regular", "italic", "bold", "bold italic"}[i])
		if err != nil {
			return out, err
		}
		out[i], have[i] = slot{pf: pf}, true
	}
	reg, it, bd := out[fonts.Regular], out[fonts.Italic], out[fonts.Bold]
	if !have[fonts.Italic] {
		it = slot{pf: reg.pf, slant: fauxSlant}
		out[fonts.Italic] = it
	}
	if !have[fonts.Bold] {
		bd = slot{pf: reg.pf, stroke: fauxStroke}
		out[fonts.Bold] = bd
	}
	if !have[fonts.BoldItalic] {
		switch {
		case have[fonts.Bold] || !have[fonts.Italic]:
			out[fonts.BoldItalic] = slot{pf: bd.pf, slant: fauxSlant, stroke: bd.stroke}
		default: // an italic but no bold
			out[fonts.BoldItalic] = slot{pf: it.pf, stroke: fauxStroke}
		}
	}
	return out, nil
}

func newShaper(lang string, fam *Fonts, dirs []string) (*shaper, error) {
	s := &shaper{lang: language.NewLanguage(lang), sysDirs: dirs, sysFaces: map[sysKey]*face{}, missing: map[rune]bool{}}
	text, err := familySlots(fam)
	if err != nil {
		return nil, err
	}
	mono := parseFont(fonts.Mono)
	if mono.err != nil {
		return nil, mono.err
	}
	slots := []slot{text[0], text[1], text[2], text[3], {pf: mono}}
	if fam != nil {
		noto, err := familySlots(nil)
		if err != nil {
			return nil, err
		}
		slots = append(slots, noto[:]...)
	}
	if s.family = text[0].pf.sf.Family; s.family == "" {
		s.family = text[0].pf.sf.PostScriptName
	}
	for k, sl := range slots {
		f := s.newFace(sl, k%len(s.faces))
		if k < len(s.faces) {
			s.faces[k] = f
		} else {
			s.fallback[k-len(s.faces)] = f
		}
	}
	return s, nil
}

// newFace makes the face of sl for style st, with the next cache slot.
func (s *shaper) newFace(sl slot, st int) *face {
	sf := sl.pf.sf
	upem := float64(sf.UnitsPerEm)
	f := &face{slot: len(s.cache), style: st, sf: sf, gt: gtfont.NewFace(sl.pf.gt),
		ascent: float64(sf.Ascent) / upem, desc: -float64(sf.Descent) / upem,
		slant: sl.slant, stroke: sl.stroke}
	n := 64
	if len(s.cache) < len(s.faces) {
		n = 4096 // the text faces: most words of a book repeat
	}
	s.cache = append(s.cache, make(map[string][]glyph, n))
	for r := rune(0); r < lowRunes; r++ {
		if g, ok := f.gt.NominalGlyph(r); ok && g != 0 {
			f.low[r/64] |= 1 << (r % 64)
		}
	}
	f.space = s.shape(f, " ")[0]
	if h := s.shape(f, "\u2010"); len(h) == 1 && h[0].gid != 0 {
		f.hyphen = h[0]
	} else {
		f.hyphen = s.shape(f, "-")[0]
	}
	// The hyphen a line break adds is not in the text: it extracts
	// as a soft hyphen (see pdfwrite.Font.Alias).
	f.hyphen.text, f.hyphen.alias = softHyphen, true
	f.xHeight = float64(sf.XHeight) / upem
	if sf.XHeight <= 0 {
		if g, ok := f.gt.NominalGlyph('x'); ok {
			if ext, ok := f.gt.GlyphExtents(g); ok {
				f.xHeight = float64(ext.YBearing) / upem
			}
		}
	}
	return f
}

// fallbackFace returns the face that sets r, which f lacks, in f's
// style: the book's family falls back to Noto Serif, then either to the
// first font of Options.FontDirs that has r (see fallbackSet.lookup).
// Nil when no font has r: the character is recorded as missing and
// drawn as .notdef in f.
func (s *shaper) fallbackFace(f *face, r rune) *face {
	st := f.style
	if st < len(s.fallback) && s.fallback[st] != nil && s.fallback[st] != f && s.fallback[st].covers(r) {
		return s.fallback[st]
	}
	if fc, ok := s.runeFace[st][r]; ok {
		return fc
	}
	var fc *face
	if s.sys == nil && len(s.sysDirs) > 0 {
		s.sys, s.sysDirs = fallbackFonts(s.sysDirs), nil
	}
	if s.sys != nil {
		if pf := s.sys.lookup(r); pf != nil {
			fc = s.systemFace(pf, st)
		}
	}
	if fc == nil {
		s.missing[r] = true
	}
	if s.runeFace[st] == nil {
		s.runeFace[st] = map[rune]*face{}
	}
	s.runeFace[st][r] = fc
	return fc
}

// systemFace returns the face of a system fallback font in style st:
// the regular font, slanted for italics and stroked for bold as a book
// family's missing styles are (see Fonts).
func (s *shaper) systemFace(pf *parsedFont, st int) *face {
	k := sysKey{pf, st}
	if f, ok := s.sysFaces[k]; ok {
		return f
	}
	sl := slot{pf: *pf}
	if st == int(fonts.Italic) || st == int(fonts.BoldItalic) {
		sl.slant = fauxSlant
	}
	if st == int(fonts.Bold) || st == int(fonts.BoldItalic) {
		sl.stroke = fauxStroke
	}
	f := s.newFace(sl, st)
	s.sysFaces[k] = f
	return f
}

// Missing returns the characters no font had, in code point order.
func (s *shaper) missingRunes() []rune {
	out := make([]rune, 0, len(s.missing))
	for r := range s.missing {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// shape returns the glyphs of text in face f. The result is cached and
// shared: callers must not modify it.
func (s *shaper) shape(f *face, text string) []glyph {
	if g, ok := s.cache[f.slot][text]; ok {
		return g
	}
	s.buf = s.buf[:0]
	for _, r := range text {
		s.buf = append(s.buf, r)
	}
	runes := s.buf
	script := language.Latin
	for _, r := range runes {
		if unicode.IsLetter(r) {
			script = language.LookupScript(r)
			break
		}
	}
	upem := f.sf.UnitsPerEm
	dir := di.DirectionLTR
	if firstStrong(text) == dirRTL {
		dir = di.DirectionRTL // glyphs come back in visual order (see bidi.go)
	}
	out := s.hb.Shape(shaping.Input{
		Text: runes, RunStart: 0, RunEnd: len(runes),
		Direction: dir, Face: f.gt,
		Size:   fixed.I(upem),
		Script: script, Language: s.lang,
	})
	glyphs := make([]glyph, len(out.Glyphs))
	for i, g := range out.Glyphs {
		gl := glyph{gid: f.sf.GlyphID(uint32(g.GlyphID)), adv: float32(float64(g.Advance) / 64 / float64(upem)), cluster: g.TextIndex()}
		if i == 0 || out.Glyphs[i-1].TextIndex() != g.TextIndex() {
			end := min(g.TextIndex()+g.RunesCount(), len(runes))
			gl.text = string(runes[g.TextIndex():end])
		}
		glyphs[i] = gl
	}
	splitClusters(f, glyphs)
	s.cache[f.slot][text] = glyphs
	return glyphs
}

// splitClusters gives each glyph of a cluster of several glyphs (a
// Hebrew letter with its points, a base with combining marks) its own
// character when each is the font's glyph of one character of the
// cluster: a glyph's text is fixed by its first use (see
// pdfwrite.Font.Use), so the letter bet drawn with a dagesh must not
// stand for "bet, dagesh" wherever else it appears. Clusters whose
// glyphs do not map one to one (ligatures, Indic conjuncts) keep their
// whole text on the first glyph, drawn under an alias CID for that text
// (see pdfwrite.Font.Alias).
func splitClusters(f *face, gs []glyph) {
	for i := 0; i < len(gs); {
		j := i + 1
		for j < len(gs) && gs[j].cluster == gs[i].cluster {
			j++
		}
		if j-i > 1 && gs[i].text != "" && utf8.RuneCountInString(gs[i].text) == j-i {
			texts := make([]string, 0, j-i)
			for _, r := range gs[i].text {
				texts = append(texts, string(r))
			}
			used := make([]bool, len(texts))
			out := make([]string, j-i)
			ok := true
			for k := i; k < j && ok; k++ {
				ok = false
				for t, tx := range texts {
					r, _ := utf8.DecodeRuneInString(tx)
					if g, found := f.gt.NominalGlyph(r); !used[t] && found && f.sf.GlyphID(uint32(g)) == gs[k].gid {
						used[t], out[k-i], ok = true, tx, true
						break
					}
				}
			}
			if ok {
				for k := i; k < j; k++ {
					gs[k].text = out[k-i]
				}
			}
			if !ok {
				aliasCluster(gs[i:j])
			}
		} else if j-i > 1 && utf8.RuneCountInString(gs[i].text) > 1 {
			aliasCluster(gs[i:j])
		}
		i = j
	}
}

// covers reports whether face f has a glyph for r.
func (f *face) covers(r rune) bool {
	if r >= 0 && r < lowRunes {
		return f.low[r/64]&(1<<(r%64)) != 0
	}
	g, ok := f.gt.NominalGlyph(r)
	return ok && g != 0
}

// width returns the advance of glyphs, in ems.
func width(gs []glyph) float64 {
	var w float64
	for _, g := range gs {
		w += float64(g.adv)
	}
	return w
}

// aliasCluster draws the glyphs of a cluster that do not map one to one
// to its characters (a conjunct, a reordered vowel sign) under alias
// CIDs: the first stands for the whole cluster, the others for nothing,
// so that the same glyphs elsewhere keep their own text and a mark the
// cluster draws is not extracted twice.
func aliasCluster(gs []glyph) {
	for k := range gs {
		gs[k].alias = true
	}
}

// simpleLine shapes one line of text (a running head, a folio) in face
// f, the characters f lacks in their fallback faces, scaled down to fit
// measure.
func (s *shaper) simpleLine(f *face, text string, size, measure float64) *line {
	type seg struct {
		f   *face
		txt string
		gs  []glyph
	}
	var segs []seg
	start, cur := 0, f
	for j, r := range text {
		g := f
		switch {
		case unicode.In(r, unicode.Cf, unicode.Variation_Selector) || j > 0 && unicode.In(r, unicode.Mn, unicode.Me):
			g = cur
		case !f.covers(r):
			if fb := s.fallbackFace(f, r); fb != nil {
				g = fb
			}
		}
		if g != cur && j > start {
			segs = append(segs, seg{f: cur, txt: text[start:j]})
			start = j
		}
		cur = g
	}
	segs = append(segs, seg{f: cur, txt: text[start:]})
	total := 0.0
	for i := range segs {
		segs[i].gs = s.shape(segs[i].f, segs[i].txt)
		total += width(segs[i].gs)
	}
	w := total * size
	if w > measure {
		size *= measure / w
		w = measure
	}
	ln := &line{width: w}
	x := 0.0
	for _, sg := range segs {
		gw := width(sg.gs) * size
		ln.runs = append(ln.runs, run{f: sg.f, size: size, parts: []part{{glyphs: sg.gs, x: x}}, end: x + gw})
		x += gw
	}
	return ln
}
