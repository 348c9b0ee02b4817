package ideogram

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
	"golang.org/x/text/unicode/norm"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/pdf/fonts"
)

// Cover sizes. The default is 1600×2400 (2:3, the shape of a trade
// paperback and of Ideogram's "2x3"), which e-book stores accept.
const (
	DefaultCoverWidth  = 1600
	DefaultCoverHeight = 2400
	MinCoverSide       = 200
	MaxCoverSide       = 4000
)

// Bounds on the untrusted texts drawn on a cover, in runes.
const (
	maxCoverTitleRunes    = 200
	maxCoverSubtitleRunes = 240
	maxCoverAuthorRunes   = 200
)

// coverFonts are the parsed Noto Serif faces, parsed once. sfnt.Font is
// safe for concurrent use; the opentype.Face built on it per call is not,
// so each RenderCover makes its own.
var coverFonts = sync.OnceValues(func() (map[fonts.Style]*sfnt.Font, error) {
	m := map[fonts.Style]*sfnt.Font{}
	for _, s := range []fonts.Style{fonts.Regular, fonts.Italic, fonts.Bold} {
		f, err := opentype.Parse(fonts.TTF(s))
		if err != nil {
			return nil, err
		}
		m[s] = f
	}
	return m, nil
})

// ink is the colour of the lettering: a warm ivory, readable on every
// background coverColour yields.
var ink = color.NRGBA{0xF4, 0xEE, 0xE1, 0xFF}

// RenderCover draws a plain typographic cover of w×h pixels for meta and
// returns it as PNG: the title in Noto Serif Bold, the subtitle in Italic
// and the authors in spaced capitals, centred, wrapped to the width and
// sized to fit, on a deep colour derived from the title (so a book keeps its
// colour from run to run), inside a thin double frame.
//
// The output depends only on meta's title, subtitle and authors and on w
// and h: the same input gives the same bytes. Texts are untrusted: each is
// cut to a bounded length, normalised (NFC), stripped of control and
// bidirectional-override characters, and characters Noto Serif lacks
// (scripts other than Latin, Greek and Cyrillic; emoji) are left out of the
// drawing rather than drawn as boxes; the alt text (LocalCoverAltText)
// keeps the full title. Errors: EINVALID when w or h is outside
// [MinCoverSide, MaxCoverSide].
func RenderCover(meta manuscript.Metadata, w, h int) ([]byte, error) {
	if w < MinCoverSide || h < MinCoverSide || w > MaxCoverSide || h > MaxCoverSide {
		return nil, bindery.Errorf(bindery.EINVALID, "A cover must be between %d and %d pixels on each side.", MinCoverSide, MaxCoverSide)
	}
	fs, err := coverFonts()
	if err != nil {
		return nil, err
	}
	// Everything is drawn as ink coverage on an alpha mask; the palette
	// then maps coverage to colours between the background and the ink.
	// All the cover's colours lie on that line, so a paletted PNG holds it
	// exactly, at a quarter of the size and encoding time of RGBA.
	img := image.NewAlpha(image.Rect(0, 0, w, h))
	bg := coverColour(meta.Title)

	W, H := float64(w), float64(h)
	unit := math.Min(W, H/1.5) // the width of a 2:3 cover that fits in w×h
	drawFrame(img, unit)

	title := coverText(meta.Title, maxCoverTitleRunes, fs[fonts.Bold])
	if strings.TrimSpace(printable(meta.Title)) == "" {
		title = "Untitled"
	}
	subtitle := coverText(meta.Subtitle, maxCoverSubtitleRunes, fs[fonts.Italic])
	// Spaces inside a name become no-break spaces, so lines break between
	// names rather than inside one.
	authors := strings.ToUpper(joinNames(meta.Authors, func(a string) string {
		return strings.ReplaceAll(coverText(a, maxCoverAuthorRunes/maxAuthorsShown, fs[fonts.Regular]), " ", "\u00a0")
	}))

	textW := W - 2*0.14*unit
	// The authors sit at the foot; the title, an ornament and the subtitle
	// form one group centred in the space above them.
	var authorBlock block
	authorTop := H - 0.12*unit
	if authors != "" {
		authorBlock = fit(fs[fonts.Regular], authors, textW, 0.16*unit, unit/22, unit/44, 2, 1.45, 0.14)
		authorTop = H - 0.14*unit - authorBlock.height()
	}
	groupTop, groupBottom := 0.15*unit, authorTop-0.10*unit
	avail := groupBottom - groupTop

	titleBlock := fit(fs[fonts.Bold], title, textW, avail*0.62, unit/8.5, unit/30, 6, 1.18, 0)
	var subBlock block
	if subtitle != "" {
		subMax := math.Min(titleBlock.size*0.5, unit/17)
		subBlock = fit(fs[fonts.Italic], subtitle, textW, avail*0.25, subMax, math.Min(subMax, unit/48), 4, 1.3, 0)
	}
	gap := 0.055 * unit
	ornamentH := 0.02 * unit
	groupH := titleBlock.height() + gap + ornamentH
	if subtitle != "" {
		groupH += gap + subBlock.height()
	}
	y := groupTop + math.Max(0, (avail-groupH)*0.42)
	if title != "" {
		titleBlock.draw(img, W, y)
	}
	y += titleBlock.height() + gap
	drawOrnament(img, W/2, y+ornamentH/2, unit)
	y += ornamentH
	if subtitle != "" {
		subBlock.draw(img, W, y+gap)
	}
	if authors != "" {
		authorBlock.draw(img, W, authorTop)
	}

	pal := make(color.Palette, 256)
	for i := range pal {
		pal[i] = accent(bg, float64(i)/255)
	}
	out := &image.Paletted{Pix: img.Pix, Stride: img.Stride, Rect: img.Rect, Palette: pal}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// coverColour derives a deep, muted background from the title: the hue
// from its SHA-256, saturation and lightness in a narrow band so that every
// title gets a colour a designer might pick and ivory text stays readable.
func coverColour(title string) color.NRGBA {
	sum := sha256.Sum256([]byte(norm.NFC.String(strings.TrimSpace(title))))
	hue := float64(uint16(sum[0])<<8|uint16(sum[1])) / 65536 * 360
	sat := 0.32 + float64(sum[2])/255*0.16
	light := 0.22 + float64(sum[3])/255*0.08
	for {
		r, g, b := hslToRGB(hue, sat, light)
		c := color.NRGBA{r, g, b, 0xFF}
		// Greens and yellows are bright at the same lightness: darken until
		// the ink meets WCAG's 7:1 contrast (AAA), with a little to spare.
		if contrast(ink, c) >= 7.5 || light <= 0.05 {
			return c
		}
		light -= 0.01
	}
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b color.NRGBA) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG 2 relative luminance of c.
func luminance(c color.NRGBA) float64 {
	lin := func(v uint8) float64 {
		f := float64(v) / 255
		if f <= 0.04045 {
			return f / 12.92
		}
		return math.Pow((f+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

func hslToRGB(h, s, l float64) (uint8, uint8, uint8) {
	c := (1 - math.Abs(2*l-1)) * s
	hp := h / 60
	x := c * (1 - math.Abs(math.Mod(hp, 2)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g, b = c, x, 0
	case hp < 2:
		r, g, b = x, c, 0
	case hp < 3:
		r, g, b = 0, c, x
	case hp < 4:
		r, g, b = 0, x, c
	case hp < 5:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	m := l - c/2
	to := func(v float64) uint8 { return uint8(math.Round(math.Max(0, math.Min(1, v+m)) * 255)) }
	return to(r), to(g), to(b)
}

// accent is ink blended over bg at the given opacity.
func accent(bg color.NRGBA, a float64) color.NRGBA {
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-a) + float64(y)*a)) }
	return color.NRGBA{mix(bg.R, ink.R), mix(bg.G, ink.G), mix(bg.B, ink.B), 0xFF}
}

// drawFrame draws a thin double rule inside the edges, in ink at 55%.
func drawFrame(img *image.Alpha, unit float64) {
	b := img.Bounds()
	col := image.NewUniform(color.Alpha{140})
	thick := int(math.Max(2, math.Round(unit/420)))
	thin := int(math.Max(1, math.Round(unit/900)))
	for _, f := range []struct {
		inset float64
		width int
	}{{0.045, thick}, {0.058, thin}} {
		in := int(math.Round(f.inset * unit))
		r := image.Rect(b.Min.X+in, b.Min.Y+in, b.Max.X-in, b.Max.Y-in)
		if r.Dx() <= 2*f.width || r.Dy() <= 2*f.width {
			continue
		}
		for _, side := range []image.Rectangle{
			{r.Min, image.Pt(r.Max.X, r.Min.Y+f.width)},
			{image.Pt(r.Min.X, r.Max.Y-f.width), r.Max},
			{r.Min, image.Pt(r.Min.X+f.width, r.Max.Y)},
			{image.Pt(r.Max.X-f.width, r.Min.Y), r.Max},
		} {
			draw.Draw(img, side, col, image.Point{}, draw.Src)
		}
	}
}

// drawOrnament draws a short rule with a small diamond at its centre. The
// rasterizer covers only the ornament's box, not the whole cover.
func drawOrnament(img *image.Alpha, cx, cy, unit float64) {
	half := 0.09 * unit
	t := math.Max(1.5, unit/700)
	d := 0.011 * unit
	box := image.Rect(int(cx-half)-1, int(cy-d)-1, int(cx+half)+2, int(cy+d)+2).Intersect(img.Bounds())
	if box.Empty() {
		return
	}
	ox, oy := float64(box.Min.X), float64(box.Min.Y)
	z := vector.NewRasterizer(box.Dx(), box.Dy())
	pt := func(x, y float64) (float32, float32) { return float32(x - ox), float32(y - oy) }
	rect := func(x0, y0, x1, y1 float64) {
		z.MoveTo(pt(x0, y0))
		z.LineTo(pt(x1, y0))
		z.LineTo(pt(x1, y1))
		z.LineTo(pt(x0, y1))
		z.ClosePath()
	}
	rect(cx-half, cy-t/2, cx-d*1.8, cy+t/2)
	rect(cx+d*1.8, cy-t/2, cx+half, cy+t/2)
	z.MoveTo(pt(cx, cy-d))
	z.LineTo(pt(cx+d, cy))
	z.LineTo(pt(cx, cy+d))
	z.LineTo(pt(cx-d, cy))
	z.ClosePath()
	z.Draw(img, box, image.Opaque, image.Point{})
}

// coverText cleans an untrusted text for drawing with f: cut to n runes,
// NFC, control and bidi-override characters removed, white space collapsed,
// and characters f has no glyph for left out.
func coverText(s string, n int, f *sfnt.Font) string {
	s = clipRunes(printable(norm.NFC.String(clipRunes(s, n*2))), n)
	var buf sfnt.Buffer
	var b strings.Builder
	for _, r := range s {
		if r == ' ' {
			b.WriteRune(r)
			continue
		}
		if unicode.Is(unicode.Variation_Selector, r) || r == '\u200d' {
			continue
		}
		if gi, err := f.GlyphIndex(&buf, r); err != nil || gi == 0 {
			continue
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// block is a wrapped, sized text ready to draw.
type block struct {
	face    font.Face
	size    float64
	lines   []string
	leading float64 // line height in pixels
	track   float64 // extra space after each character, in pixels
}

func (b block) height() float64 {
	if len(b.lines) == 0 {
		return 0
	}
	return b.leading*float64(len(b.lines)-1) + b.size*1.05
}

// draw draws b centred horizontally in a canvas of width W, its first
// line's cap height at top.
func (b block) draw(img *image.Alpha, W, top float64) {
	if b.face == nil {
		return
	}
	d := font.Drawer{Dst: img, Src: image.Opaque, Face: b.face}
	base := top + b.size*0.78
	for i, line := range b.lines {
		w := measure(b.face, line, b.track)
		x := (W - w) / 2
		y := base + float64(i)*b.leading
		d.Dot = fixed.Point26_6{X: fixed.Int26_6(math.Round(x * 64)), Y: fixed.Int26_6(math.Round(y * 64))}
		if b.track == 0 {
			d.DrawString(line)
			continue
		}
		for _, r := range line {
			d.DrawString(string(r))
			d.Dot.X += fixed.Int26_6(math.Round(b.track * 64))
		}
	}
}

// measure is the advance width of s in pixels, with tracking.
func measure(face font.Face, s string, track float64) float64 {
	w := float64(font.MeasureString(face, s)) / 64
	if track != 0 {
		n := 0
		for range s {
			n++
		}
		w += track * float64(max(0, n-1))
	}
	return w
}

// fit sets text in f at the largest size from maxSize down to minSize at
// which it wraps into at most maxLines lines of at most maxW pixels and a
// block of at most maxH pixels. At minSize it keeps the first maxLines
// lines and ends the last with an ellipsis. trackEm is letter spacing in
// ems. Sizes step down by 4%, so the result is deterministic.
func fit(f *sfnt.Font, text string, maxW, maxH, maxSize, minSize float64, maxLines int, leading, trackEm float64) block {
	if text == "" {
		return block{}
	}
	for size := maxSize; ; size *= 0.96 {
		last := size <= minSize
		if last {
			size = minSize
		}
		face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			return block{}
		}
		b := block{face: face, size: size, leading: size * leading, track: size * trackEm}
		var broke bool
		b.lines, broke = wrap(face, text, maxW, b.track)
		if (!broke || last) && len(b.lines) <= maxLines && b.height() <= maxH {
			b.lines = balance(face, text, maxW, b.track, b.lines)
			return b
		}
		if last {
			n := len(b.lines)
			b.lines = b.lines[:min(n, maxLines)]
			for len(b.lines) > 1 && b.height() > maxH {
				b.lines = b.lines[:len(b.lines)-1]
			}
			if len(b.lines) < n {
				b.lines[len(b.lines)-1] = ellipsize(face, b.lines[len(b.lines)-1], maxW, b.track)
			}
			return b
		}
	}
}

// balance rewraps lines to the narrowest width that keeps their number,
// so that a title does not end with one stranded word.
func balance(face font.Face, text string, maxW, track float64, lines []string) []string {
	if len(lines) < 2 {
		return lines
	}
	lo, hi := maxW/2, maxW
	best := lines
	for range 12 {
		mid := (lo + hi) / 2
		l, broke := wrap(face, text, mid, track)
		if !broke && len(l) == len(lines) {
			best, hi = l, mid
		} else {
			lo = mid
		}
	}
	return best
}

// wrap breaks text into lines no wider than maxW, at spaces, and inside a
// word only when the word alone is too wide (then broke is true).
func wrap(face font.Face, text string, maxW, track float64) (lines []string, broke bool) {
	line := ""
	for _, word := range strings.Split(text, " ") {
		if word == "" {
			continue
		}
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if measure(face, cand, track) <= maxW {
			line = cand
			continue
		}
		if line != "" {
			lines = append(lines, line)
			line = ""
		}
		for measure(face, word, track) > maxW {
			broke = true
			// Break the word at the last rune that fits (at least one).
			runes := []rune(word)
			n := 1
			for n < len(runes) && measure(face, string(runes[:n+1]), track) <= maxW {
				n++
			}
			lines = append(lines, string(runes[:n]))
			word = string(runes[n:])
		}
		line = word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines, broke
}

// ellipsize shortens line until line + "…" fits maxW.
func ellipsize(face font.Face, line string, maxW, track float64) string {
	runes := []rune(line)
	for len(runes) > 0 && measure(face, string(runes)+"…", track) > maxW {
		runes = runes[:len(runes)-1]
	}
	return strings.TrimRight(string(runes), " ") + "…"
}
