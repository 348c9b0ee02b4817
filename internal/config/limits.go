package config

import (
	"fmt"
	"strconv"
)

// Limits bound what one book may hold and what a build of it may cost.
// They are read by `bindery serve` (uploads, previews, runs) and by
// `bindery build` and `check` alike, so that a book built at the terminal
// is refused where the server would refuse it, in the same words.
//
// The defaults keep a build of any book within them under 256 MB of
// memory (measured with bench/memory.sh); raising a limit raises that
// ceiling.
type Limits struct {
	MaxChapters       int   // BINDERY_MAX_CHAPTERS: chapter files per book
	MaxChapterBytes   int64 // BINDERY_MAX_CHAPTER_BYTES: one chapter file
	MaxBookTextBytes  int64 // BINDERY_MAX_BOOK_TEXT_BYTES: the chapters together
	MaxParagraphBytes int   // BINDERY_MAX_PARAGRAPH_BYTES: one paragraph
	MaxNesting        int   // BINDERY_MAX_NESTING: lists, quotes, links and emphasis nested
	MaxTableColumns   int   // BINDERY_MAX_TABLE_COLUMNS: columns of one table
	MaxFootnotes      int   // BINDERY_MAX_FOOTNOTES: footnotes of one chapter
	// MaxImagePixels is BINDERY_MAX_IMAGE_MEGAPIXELS × 10⁶: a PNG or GIF,
	// decoded in full for the PDF.
	MaxImagePixels int64
	// MaxJPEGPixels is BINDERY_MAX_JPEG_MEGAPIXELS × 10⁶: a JPEG, embedded
	// in the PDF as it is.
	MaxJPEGPixels int64
	// MaxArchiveRatio is BINDERY_MAX_ARCHIVE_RATIO: how many times its
	// size a book archive (.zip, .tar.gz) may inflate to.
	MaxArchiveRatio int64
}

// Upper bounds of the limits that have one: past them the limit no
// longer protects anything.
const (
	// maxNestingCeiling: the HTML parser used after sanitising refuses
	// more than 512 open elements, and a level of list nesting opens two
	// (ul, li) besides the paragraph; 100 levels stay well below.
	maxNestingCeiling = 100
	// maxMegapixelsCeiling: pixel counts are multiplied by bytes per pixel
	// in int64 arithmetic and by the PDF writer's own sanity check.
	maxMegapixelsCeiling = 200
)

// LoadLimits reads only the limits (for `bindery build` and `check`,
// which need nothing else of the server's configuration). Errors name
// the variable, like Load's.
func LoadLimits(getenv func(string) string) (Limits, error) {
	l := &loader{getenv: getenv}
	lim := l.limits()
	if l.err != nil {
		return Limits{}, l.err
	}
	return lim, nil
}

// limits reads the BINDERY_MAX_… variables of Limits.
func (l *loader) limits() Limits {
	return Limits{
		MaxChapters:       int(l.bounded("BINDERY_MAX_CHAPTERS", 1000, 1, 1_000_000)),
		MaxChapterBytes:   l.int64("BINDERY_MAX_CHAPTER_BYTES", 4<<20, 1),
		MaxBookTextBytes:  l.int64("BINDERY_MAX_BOOK_TEXT_BYTES", 4<<20, 1),
		MaxParagraphBytes: int(l.bounded("BINDERY_MAX_PARAGRAPH_BYTES", 512<<10, 1, 1<<30)),
		MaxNesting:        int(l.bounded("BINDERY_MAX_NESTING", 32, 1, maxNestingCeiling)),
		MaxTableColumns:   int(l.bounded("BINDERY_MAX_TABLE_COLUMNS", 64, 1, 10_000)),
		MaxFootnotes:      int(l.bounded("BINDERY_MAX_FOOTNOTES", 1000, 1, 1_000_000)),
		MaxImagePixels:    l.bounded("BINDERY_MAX_IMAGE_MEGAPIXELS", 16, 1, maxMegapixelsCeiling) * 1_000_000,
		MaxJPEGPixels:     l.bounded("BINDERY_MAX_JPEG_MEGAPIXELS", 50, 1, maxMegapixelsCeiling) * 1_000_000,
		MaxArchiveRatio:   l.bounded("BINDERY_MAX_ARCHIVE_RATIO", 100, 1, 10_000),
	}
}

// bounded is int64 with an upper bound; the error names the range.
func (l *loader) bounded(name string, def, min, max int64) int64 {
	v := l.lookup(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		l.fail(name, fmt.Sprintf("is %q; expected a whole number from %d to %d", clip(v), min, max))
		return def
	}
	return n
}
