// Package pdf renders a book to a print-ready PDF, typeset natively in Go:
// no LaTeX, no browser.
//
// Chapters are Markdown (CommonMark with GFM tables and strikethrough,
// footnotes and typographic punctuation; raw HTML is dropped, but for the
// inline styles <sup>, <sub>, <u>/<ins> and <s>/<del>/<strike>; task-list
// items, "- [ ]" and "- [x]", hang a box instead of their brackets).
// Paragraphs are justified with the Knuth–Plass line breaker and Liang
// hyphenation (package typeset), shaped with HarfBuzz (go-text/typesetting)
// for kerning and ligatures, and set in embedded, subset Noto Serif (or the
// book's own TrueType family, see Fonts) and Liberation Mono with ToUnicode
// maps so the text can be searched and copied.
//
// The text layer is honest: a word extracts whole (poppler, MuPDF and
// pdfminer are tested). No space glyph is drawn inside a word; a word
// broken across lines carries its whole text as /ActualText on its first
// line, and the hyphen a break adds extracts as U+00AD SOFT HYPHEN (the
// hyphen that shows only at a line end), so extractors that ignore
// ActualText give "dis\u00ad⏎tance"; a break after a word's own hyphen
// adds none. A glyph the fonts lack (.notdef) extracts as U+FFFD. URLs
// and code break only where the Chicago Manual allows, never with a
// hyphen.
//
// Every script: characters the text font lacks are set in a fallback
// chain, the book's family, then Noto Serif, then the fonts of
// Options.FontDirs (the first with the glyph; see sysfonts.go), and a
// character no font has is listed by Typeset.MissingGlyphs. Right-to-left
// text (Hebrew, Arabic) is shaped right to left and each line put in
// visual order by the Unicode bidi algorithm (bidi.go); Arabic is joined
// and Indic scripts reordered by HarfBuzz, which shapes each piece with
// its script; Chinese and Japanese break between characters by UAX #14's
// rules for their punctuation (cjk.go).
//
// Footnotes are set at the foot of the page that refers to them, a long
// one continuing overleaf.
//
// Pages are flush at the foot, as TeX's \flushbottom: a body page is a
// whole number of lines tall, and a full page (any but a chapter's last)
// that ends short is filled by stretching the space between paragraphs
// and around headings, quotes, lists, tables and figures, never between
// the lines of a paragraph; where that would take more than a line per
// gap, a line moves on instead, so the two pages of a spread end on the
// same line. Widows, orphans and headings alone at a page's foot are
// still avoided (see spreads.go).
//
// The book opens with a half-title, a title page, a copyright page and a
// table of contents with page numbers; chapters open on a right-hand page
// with no running head or folio; other pages carry the book title (left
// pages) or the chapter title (right pages) at the head and the page
// number at the foot. The PDF has an outline of the chapters, internal
// links, page labels, document info and XMP metadata. Output is
// deterministic: the same Book and Options give the same bytes.
//
// Layout typesets a book without writing it, and Typeset.PageStarts says
// where each printed page begins in the text (chapter and word count, see
// PageStart): the EPUB of the same book marks the print edition's pages
// with it.
package pdf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/fontcheck"
)

// Book is everything the renderer needs. Only Title and Chapters are
// required; the zero value of every other field picks a default.
type Book struct {
	Title, Subtitle string
	Authors         []string
	// Language is a BCP 47 tag; hyphenation is on for English ("en…")
	// and off for other languages (no patterns yet). Default "en".
	Language    string
	Publisher   string
	Date        string // as written on the copyright page, e.g. "1831"
	Rights      string
	Identifier  string // ISBN, URN or URL
	Description string

	// PageSize is the trim size: "6x9" (default), "5x8", "5.5x8.5",
	// "A5", "letter", or "WxH" in inches (e.g. "7x10").
	PageSize string
	// Margins in points; a zero field takes its default (see
	// DefaultMargins). Inner is the gutter side of facing pages.
	Margins Margins
	// FontSize is the body type size in points. The default depends on
	// the text font: the size, in half points from 9.5 to 11, that gives
	// lower-case letters an x-height of about 5.4 pt (10 for Noto Serif,
	// whose x-height is large; 11 for most book faces), half a point
	// less for trim sizes narrower than 6 in. Leading is 1.3 times the
	// size.
	FontSize float64

	// Fonts is the text font family; nil sets the book in Noto Serif.
	// Code is set in Liberation Mono either way.
	Fonts *Fonts

	Chapters []Chapter

	// Images returns the bytes (JPEG or PNG) of an image referenced by a
	// chapter, by its path as written in the Markdown. Nil, or an error,
	// sets the image's alt text instead of the image.
	Images func(path string) ([]byte, error)
}

// Chapter is one chapter of a Book.
type Chapter struct {
	// Title is set on the chapter's opening page, in the table of
	// contents, the outline and the running heads. Empty means: the
	// "title:" of the Markdown's YAML front matter, else the text of a
	// leading level-1 heading, else "Chapter N".
	Title string
	// Markdown is the chapter text. A leading YAML front matter block is
	// skipped.
	Markdown []byte
	// ID names the chapter for links: a link to "ID.md", "ID.xhtml" or
	// "path/ID.md#anchor" in any chapter goes to this chapter. Default:
	// "chapter-N" (1-based).
	ID string
}

// Fonts is a family of text fonts: the font programs of up to four
// styles, of which only Regular is required. A missing style is made from
// the others, as word processors do: italic is the regular slanted 12°,
// bold is the regular with its outline stroked (faux bold), and bold
// italic is the bold, or else the faux bold, slanted (or the italic
// made faux bold when there is an italic but no bold). Characters the
// family lacks are set in Noto Serif of the same style, where it has them,
// and then in the fonts of Options.FontDirs.
type Fonts struct {
	Regular, Italic, Bold, BoldItalic Font
}

// Font is one font program of a Fonts family.
type Font struct {
	// Name names the font in errors: a file name, say.
	Name string
	// Data is the font file: TrueType, or OpenType with TrueType
	// outlines (a glyf table), at most MaxFontBytes. PostScript (CFF)
	// outlines, font collections and WOFF are refused. Nil means the
	// style is missing.
	Data []byte
}

// MaxFontBytes is the largest font file Render accepts. Book fonts of
// Latin, Greek and Cyrillic are 0.1–2 MiB; the limit leaves room for
// large families while bounding what an uploaded file can cost.
const MaxFontBytes = fontcheck.MaxBytes

// FontError reports a font of Book.Fonts that cannot be used: not a
// TrueType-outline font, malformed, too large, or without the glyphs of
// basic Latin text. Render returns it unwrapped, so callers can tell the
// book's fonts from other failures with errors.As.
type FontError struct {
	Name string // Font.Name, or the style ("regular") when it has none
	Err  error
}

func (e *FontError) Error() string { return e.Name + ": " + e.Err.Error() }

func (e *FontError) Unwrap() error { return e.Err }

// Margins are page margins in points.
type Margins struct {
	Top, Bottom, Inner, Outer float64
}

// Options tunes rendering. The zero value is the default.
type Options struct {
	// NoHyphenation turns hyphenation off.
	NoHyphenation bool
	// FontDirs are folders of fallback fonts: characters that neither
	// the book's family nor Noto Serif has are set in the first font
	// found there that has them (Noto first, serif before sans), such as
	// Debian's /usr/share/fonts with fonts-noto-core. Each folder is
	// walked once per process, through an os.Root (nothing outside it
	// is read); only TrueType-outline .ttf/.otf files up to MaxFontBytes
	// whose licence allows embedding are used, and at most a few dozen
	// are ever read. A character no font has is drawn as .notdef (a box,
	// extracting as U+FFFD) and listed by Typeset.MissingGlyphs. Nil:
	// no fallback beyond Noto Serif.
	FontDirs []string
}

// ErrNoChapters is returned by Render for a book without chapters.
var ErrNoChapters = errors.New("pdf: book has no chapters")

// PageSizeOf returns the trim size, in points, of a page size name (see
// Book.PageSize); "" is 6x9. Names are case-insensitive.
func PageSizeOf(name string) (width, height float64, err error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "6x9":
		return 432, 648, nil
	case "5x8":
		return 360, 576, nil
	case "5.5x8.5":
		return 396, 612, nil
	case "a5":
		return 419.528, 595.276, nil
	case "letter":
		return 612, 792, nil
	}
	w, h, ok := strings.Cut(strings.ToLower(name), "x")
	if ok {
		wi, err1 := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(w), "in"), 64)
		hi, err2 := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(h), "in"), 64)
		if err1 == nil && err2 == nil && wi >= 3 && hi >= 4 && wi <= 17 && hi <= 17 {
			return wi * 72, hi * 72, nil
		}
	}
	return 0, 0, fmt.Errorf("pdf: unknown page size %q", name)
}

// DefaultMargins returns the margins used for a trim size when Book.Margins
// leaves them zero: 0.75 in top, 0.8 in bottom, an inner (gutter) margin of
// 0.875 in and an outer one of 0.625 in, scaled for pages other than 6x9.
func DefaultMargins(width, height float64) Margins {
	k := min(width/432, height/648)
	return Margins{Top: 54 * k, Bottom: 58 * k, Inner: 63 * k, Outer: 45 * k}
}

// geometry is the resolved page geometry of a book.
type geometry struct {
	pageW, pageH float64
	m            Margins
	width        float64 // text block
	height       float64
	size, lead   float64
}

// resolveGeometry resolves the page geometry; xHeight is the x-height of
// the text font in ems, which sets the default type size.
func resolveGeometry(b *Book, xHeight float64) (geometry, error) {
	w, h, err := PageSizeOf(b.PageSize)
	if err != nil {
		return geometry{}, err
	}
	g := geometry{pageW: w, pageH: h, m: b.Margins}
	def := DefaultMargins(w, h)
	if g.m.Top <= 0 {
		g.m.Top = def.Top
	}
	if g.m.Bottom <= 0 {
		g.m.Bottom = def.Bottom
	}
	if g.m.Inner <= 0 {
		g.m.Inner = def.Inner
	}
	if g.m.Outer <= 0 {
		g.m.Outer = def.Outer
	}
	g.width = w - g.m.Inner - g.m.Outer
	g.height = h - g.m.Top - g.m.Bottom
	if g.width < 72 || g.height < 144 {
		return geometry{}, fmt.Errorf("pdf: margins leave a text block of %.0fx%.0f pt", g.width, g.height)
	}
	g.size = b.FontSize
	if g.size <= 0 {
		g.size = defaultSize(xHeight)
		if w < 432 {
			g.size -= 0.5
		}
	}
	if g.size < 5 || g.size > 24 {
		return geometry{}, fmt.Errorf("pdf: font size %v out of range 5–24", g.size)
	}
	g.lead = g.size * 1.3
	return g, nil
}

// defaultSize returns the body type size, in half points from 9.5 to 11,
// that gives a font of x-height xh (ems) an x-height of about 5.4 pt: the
// eye reads size by the lower case, so a face with a large x-height (Noto
// Serif, 0.536 em) is set smaller than a Garamond (about 0.4 em).
func defaultSize(xh float64) float64 {
	if xh <= 0.2 || xh >= 0.8 { // unknown or implausible
		return 11
	}
	return min(11, max(9.5, math.Round(2*5.4/xh)/2))
}
