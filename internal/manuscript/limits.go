package manuscript

import (
	"fmt"
	"strings"
)

// Limits bound what Load reads, so that a hostile or broken book folder
// cannot exhaust memory or time. A zero field means "use the default".
type Limits struct {
	MaxMetadataBytes    int64 // metadata.yaml; default 64 KiB
	MaxFrontMatterBytes int   // YAML front matter of one chapter; default 16 KiB
	MaxYAMLNodes        int   // nodes in one YAML document; default 2000
	MaxYAMLDepth        int   // nesting of one YAML document; default 16
	MaxChapterBytes     int64 // one chapter file; default 4 MiB
	MaxChapters         int   // chapter files; default 1000
	// MaxBookTextBytes bounds the chapters together; default 4 MiB, some
	// 700,000 words (War and Peace is 3.2 MB). The PDF typesetter lays
	// out the whole book before writing it (the contents list needs the
	// page numbers): a 4 MiB book builds in under 256 MB, an 8 MiB one
	// needed 480 MB.
	MaxBookTextBytes int64
	MaxAssetBytes    int64 // one image or stylesheet; default 50 MiB (the upload limit)
	// MaxNesting bounds how deep lists, block quotes, links and emphasis
	// nest in a chapter; default 32. Deeper nesting makes parsing cost grow
	// with depth × length and trips the 512-element limit of the HTML
	// parser used after sanitising.
	MaxNesting      int
	MaxTableColumns int // columns of one table; default 64
	MaxFootnotes    int // footnote definitions in one chapter; default 1000
	// MaxParagraphBytes bounds one paragraph (the lines up to a blank
	// line); default 512 KiB, some 85,000 words. The PDF typesetter holds
	// a whole paragraph's glyphs and break items at once: a build of an
	// 8 MB paragraph peaked at 1.25 GB.
	MaxParagraphBytes int
	// MaxImagePixels bounds a PNG or GIF (width × height); default 16
	// million. Such an image is decoded in full for the PDF.
	MaxImagePixels int64
	// MaxJPEGPixels bounds a JPEG; default 50 million. A JPEG is embedded
	// in the PDF as it is, never decoded.
	MaxJPEGPixels int64
}

// Default pixel limits of images, shared by uploads (bookfs) and builds
// (Check), which refuse the same images with the same words
// (Limits.PixelProblem). A PNG, GIF or WebP is decoded in full for the
// PDF — 4 bytes a pixel and more: a 49-megapixel PNG of 200 KB made a
// build peak at 609 MB, a 16-megapixel one at 218 MB — so it has the lower
// limit; a JPEG is embedded as it is.
const (
	DefaultMaxImagePixels = 16_000_000 // PNG, GIF, WebP
	DefaultMaxJPEGPixels  = 50_000_000
)

// PixelProblem says why an image of format (as image.DecodeConfig names
// it: "png", "gif", "webp", "jpeg") and size w × h is refused under l, or
// "" when it is accepted.
func (l Limits) PixelProblem(format string, w, h int) string {
	l = l.withDefaults()
	max := l.MaxImagePixels
	if format == "jpeg" {
		max = l.MaxJPEGPixels
	}
	if w <= 0 || h <= 0 || int64(w)*int64(h) > max {
		return fmt.Sprintf("the image is %d × %d pixels; at most %s pixels are accepted for %s images", w, h, millions(max), formatName(format))
	}
	return ""
}

// millions writes n as "16 million", or as digits when it is not a whole
// number of millions (a limit lowered by an operator).
func millions(n int64) string {
	if n%1_000_000 == 0 {
		return fmt.Sprintf("%d million", n/1_000_000)
	}
	return fmt.Sprintf("%d", n)
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits { return l.withDefaults() }

// DefaultLimits are the limits Load uses.
var DefaultLimits = Limits{
	MaxMetadataBytes:    64 << 10,
	MaxFrontMatterBytes: 16 << 10,
	MaxYAMLNodes:        2000,
	MaxYAMLDepth:        16,
	MaxChapterBytes:     4 << 20,
	MaxChapters:         1000,
	MaxBookTextBytes:    4 << 20,
	MaxAssetBytes:       50 << 20,
	MaxNesting:          32,
	MaxTableColumns:     64,
	MaxFootnotes:        1000,
	MaxParagraphBytes:   512 << 10,
	MaxImagePixels:      DefaultMaxImagePixels,
	MaxJPEGPixels:       DefaultMaxJPEGPixels,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxMetadataBytes > 0 {
		d.MaxMetadataBytes = l.MaxMetadataBytes
	}
	if l.MaxFrontMatterBytes > 0 {
		d.MaxFrontMatterBytes = l.MaxFrontMatterBytes
	}
	if l.MaxYAMLNodes > 0 {
		d.MaxYAMLNodes = l.MaxYAMLNodes
	}
	if l.MaxYAMLDepth > 0 {
		d.MaxYAMLDepth = l.MaxYAMLDepth
	}
	if l.MaxChapterBytes > 0 {
		d.MaxChapterBytes = l.MaxChapterBytes
	}
	if l.MaxChapters > 0 {
		d.MaxChapters = l.MaxChapters
	}
	if l.MaxAssetBytes > 0 {
		d.MaxAssetBytes = l.MaxAssetBytes
	}
	if l.MaxNesting > 0 {
		d.MaxNesting = l.MaxNesting
	}
	if l.MaxTableColumns > 0 {
		d.MaxTableColumns = l.MaxTableColumns
	}
	if l.MaxParagraphBytes > 0 {
		d.MaxParagraphBytes = l.MaxParagraphBytes
	}
	if l.MaxFootnotes > 0 {
		d.MaxFootnotes = l.MaxFootnotes
	}
	if l.MaxBookTextBytes > 0 {
		d.MaxBookTextBytes = l.MaxBookTextBytes
	}
	if l.MaxImagePixels > 0 {
		d.MaxImagePixels = l.MaxImagePixels
	}
	if l.MaxJPEGPixels > 0 {
		d.MaxJPEGPixels = l.MaxJPEGPixels
	}
	return d
}

// formatName is an image format as people write it.
func formatName(format string) string {
	if format == "webp" {
		return "WebP"
	}
	return strings.ToUpper(format)
}

// BookTextProblem returns the *Error that refuses a book whose chapters,
// up to and including file, hold total bytes, or nil when that is within
// l.MaxBookTextBytes. Load and uploads (bookfs) refuse with its words.
func (l Limits) BookTextProblem(file string, total int64) error {
	l = l.withDefaults()
	if total <= l.MaxBookTextBytes {
		return nil
	}
	return errorf(file, 0, "the chapters hold at least %d bytes of text together (limit %d): make the book shorter or split it", total, l.MaxBookTextBytes)
}
