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
	MaxChapterBytes     int64 // one chapter file; default 8 MiB
	MaxChapters         int   // chapter files; default 1000
	MaxAssetBytes       int64 // one image or stylesheet; default 50 MiB (the upload limit)
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
}

// Pixel limits of images, shared by uploads (bookfs) and builds (Check),
// which refuse the same images with the same words (PixelProblem). A
// PNG, GIF or WebP is decoded in full for the PDF — 4 bytes a pixel and more:
// a 49-megapixel PNG of 200 KB made a build peak at 609 MB, a 16-megapixel
// one at 218 MB — so it has the lower limit; a JPEG is embedded as it is.
const (
	MaxDecodedPixels = 16_000_000 // PNG, GIF, WebP
	MaxJPEGPixels    = 50_000_000
)

// PixelProblem says why an image of format (as image.DecodeConfig names
// it: "png", "gif", "webp", "jpeg") and size w × h is refused, or "" when
// it is accepted.
func PixelProblem(format string, w, h int) string {
	max := int64(MaxDecodedPixels)
	if format == "jpeg" {
		max = MaxJPEGPixels
	}
	if w <= 0 || h <= 0 || int64(w)*int64(h) > max {
		return fmt.Sprintf("the image is %d × %d pixels; at most %d million pixels are accepted for %s images", w, h, max/1_000_000, formatName(format))
	}
	return ""
}

// DefaultLimits are the limits Load uses.
var DefaultLimits = Limits{
	MaxMetadataBytes:    64 << 10,
	MaxFrontMatterBytes: 16 << 10,
	MaxYAMLNodes:        2000,
	MaxYAMLDepth:        16,
	MaxChapterBytes:     8 << 20,
	MaxChapters:         1000,
	MaxAssetBytes:       50 << 20,
	MaxNesting:          32,
	MaxTableColumns:     64,
	MaxFootnotes:        1000,
	MaxParagraphBytes:   512 << 10,
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
	return d
}

// formatName is an image format as people write it.
func formatName(format string) string {
	if format == "webp" {
		return "WebP"
	}
	return strings.ToUpper(format)
}
