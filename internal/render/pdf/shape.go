package pdf

import (
	"bytes"
	"fmt"
	"sync"
	"unicode"

	"github.com/go-text/typesetting/di"
	gtfont "github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"

	"github.com/bindery/bindery/internal/render/pdf/fonts"
	"github.com/bindery/bindery/internal/render/pdf/pdfwrite"
	"github.com/bindery/bindery/internal/render/pdf/sfnt"
)

// glyph is one shaped glyph. adv is its advance in ems (shaping includes
// kerning); text is the source text the glyph stands for (the whole
// cluster on its first glyph, "" on the others).
type glyph struct {
	gid     uint16
	adv     float32
	cluster int32 // index of the glyph's first rune in the shaped text
	text    string
}

// face is one font, ready for shaping, measuring and embedding.
type face struct {
	style  fonts.Style
	sf     *sfnt.Font
	gt     *gtfont.Face
	pdf    *pdfwrite.Font // set when a document is written
	ascent float64        // hhea ascender, ems
	desc   float64        // hhea descender, ems (positive)
	space  glyph          // U+0020
	hyphen glyph          // U+2010 or '-'
}

// shaper shapes words with HarfBuzz (go-text port) and caches the result
// per face and text: most words of a book repeat. It is not safe for
// concurrent use.
type shaper struct {
	hb    shaping.HarfbuzzShaper
	faces [5]*face
	cache [5]map[string][]glyph
	lang  language.Language
	buf   []rune
}

// parsedFont is an embedded font parsed once per process; both parses
// are read-only afterwards and shared by concurrent renders.
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
		data := fonts.TTF(st)
		sf, err := sfnt.Parse(data)
		if err != nil {
			parsed[st].err = fmt.Errorf("pdf: font %d: %w", st, err)
			return
		}
		gt, err := gtfont.ParseTTF(bytes.NewReader(data))
		if err != nil {
			parsed[st].err = fmt.Errorf("pdf: font %d: %w", st, err)
			return
		}
		parsed[st] = parsedFont{sf: sf, gt: gt.Font}
	})
	return parsed[st]
}

func newShaper(lang string) (*shaper, error) {
	s := &shaper{lang: language.NewLanguage(lang)}
	for st := fonts.Regular; st <= fonts.Mono; st++ {
		pf := parseFont(st)
		if pf.err != nil {
			return nil, pf.err
		}
		sf, gt := pf.sf, gtfont.NewFace(pf.gt)
		f := &face{style: st, sf: sf, gt: gt,
			ascent: float64(sf.Ascent) / float64(sf.UnitsPerEm),
			desc:   -float64(sf.Descent) / float64(sf.UnitsPerEm)}
		s.faces[st] = f
		s.cache[st] = make(map[string][]glyph, 4096)
		f.space = s.shape(f, " ")[0]
		if h := s.shape(f, "\u2010"); len(h) == 1 && h[0].gid != 0 {
			f.hyphen = h[0]
		} else {
			f.hyphen = s.shape(f, "-")[0]
		}
		f.hyphen.text = "-"
	}
	return s, nil
}

// shape returns the glyphs of text in face f. The result is cached and
// shared: callers must not modify it.
func (s *shaper) shape(f *face, text string) []glyph {
	if g, ok := s.cache[f.style][text]; ok {
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
	out := s.hb.Shape(shaping.Input{
		Text: runes, RunStart: 0, RunEnd: len(runes),
		Direction: di.DirectionLTR, Face: f.gt,
		Size:   fixed.I(upem),
		Script: script, Language: s.lang,
	})
	glyphs := make([]glyph, len(out.Glyphs))
	for i, g := range out.Glyphs {
		gl := glyph{gid: uint16(g.GlyphID), adv: float32(float64(g.Advance) / 64 / float64(upem)), cluster: int32(g.ClusterIndex)}
		if i == 0 || out.Glyphs[i-1].ClusterIndex != g.ClusterIndex {
			end := min(g.ClusterIndex+g.RuneCount, len(runes))
			gl.text = string(runes[g.ClusterIndex:end])
		}
		glyphs[i] = gl
	}
	s.cache[f.style][text] = glyphs
	return glyphs
}

// width returns the advance of glyphs, in ems.
func width(gs []glyph) float64 {
	var w float64
	for _, g := range gs {
		w += float64(g.adv)
	}
	return w
}
