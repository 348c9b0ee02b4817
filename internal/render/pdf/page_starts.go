package pdf

import (
	"context"
	"fmt"
	"io"
)

// PageStart is where a page of the book's body begins in its text, so
// that an ebook of the same text can mark the print edition's pages
// (EPUB page-list and page-break markers).
//
// The position is a count of words: a word is a run of text between
// white space (space, tab, line feed, carriage return, U+2002, U+2003,
// U+2009 — not the no-break space) inside one block, and the words of a
// chapter are those of its headings, paragraphs, list items, block
// quotes and table cells, in reading order. Not counted: the chapter
// title when it comes from Chapter.Title or front matter rather than
// from a leading level-1 heading of the Markdown, the alt text of an
// image that stands alone in its paragraph (a figure), code blocks, list
// markers and the notes. A footnote mark counts as part of the word it
// follows ("word[^1]" is one word, as it prints "word¹").
type PageStart struct {
	// Page is the page number: 1 for the first page of the body, as
	// printed at the foot of the pages that carry a folio (a chapter's
	// opening page and a blank page carry none but have their number).
	Page int
	// Chapter is the index in Book.Chapters of the chapter the page is
	// in; a blank page before a chapter's opening belongs to that chapter.
	Chapter int
	// Word counts the words of the chapter before the first word that
	// begins on the page; a word broken across the pages counts for the
	// page before. Word 0 is the start of the chapter: an opening page
	// and the blank page before it.
	Word int
}

// textPos is a PageStart without its page number.
type textPos struct {
	chapter, word int
}

// Typeset is a book laid out in pages: what Render writes, kept so that
// it can be written and asked where its pages start without laying the
// book out twice.
type Typeset struct {
	d *document
	b *Book
}

// Layout typesets b as RenderContext does, without writing it, and stops
// as it does when ctx ends.
func Layout(ctx context.Context, b *Book, opts Options) (t *Typeset, err error) {
	if b.Fonts != nil {
		defer func() {
			if r := recover(); r != nil {
				t, err = nil, &FontError{Name: "font", Err: fmt.Errorf("malformed font: %v", r)}
			}
		}()
	}
	d, err := layout(b, opts, newStopper(ctx))
	if err != nil {
		return nil, err
	}
	return &Typeset{d: d, b: b}, nil
}

// Write writes the typeset book as a PDF — the same bytes as Render — and
// stops as RenderContext does when ctx ends.
func (t *Typeset) Write(ctx context.Context, w io.Writer) (err error) {
	if t.b.Fonts != nil {
		defer func() {
			if r := recover(); r != nil {
				err = &FontError{Name: "font", Err: fmt.Errorf("malformed font: %v", r)}
			}
		}()
	}
	return t.d.write(w, t.b, newStopper(ctx))
}

// PageStarts returns where each page of the body starts, in page order.
// The front matter (half-title, title page, copyright page, contents),
// which has no page number of the body, is left out.
func (t *Typeset) PageStarts() []PageStart {
	var out []PageStart
	for i, p := range t.d.pages[t.d.frontCount:] {
		out = append(out, PageStart{Page: i + 1, Chapter: p.start.chapter, Word: p.start.word})
	}
	return out
}

// pageWords returns, for each page of a chapter, the words of the
// chapter's text boxes (text, in order) before the first word that
// begins on the page. Boxes not in text (the title when it is not the
// text's, the notes) do not count.
func pageWords(text []*vbox, pages [][]placed) []int {
	index := make(map[*vbox]int, len(text))
	before := make([]int, len(text)+1)
	for i, b := range text {
		index[b] = i
		before[i+1] = before[i] + boxWords(b)
	}
	out := make([]int, len(pages))
	next := 0 // the first text box not yet placed
	for k, pg := range pages {
		out[k] = before[next]
		first := true
		for _, pl := range pg {
			if i, ok := index[pl.b]; ok {
				if first {
					out[k], first = before[i], false
				}
				next = i + 1
			}
		}
	}
	if len(out) > 0 {
		out[0] = 0 // the opening page starts the chapter
	}
	return out
}

// boxWords counts the words that begin in a box: none in a figure,
// whose caption is the image's alt text.
func boxWords(b *vbox) int {
	if b.img != nil {
		return 0
	}
	n := 0
	for _, bl := range b.lines {
		n += bl.ln.words
	}
	return n
}

// MissingGlyphs returns the characters of the book that no font had, in
// code point order: each is drawn as .notdef (a box) and extracts as
// U+FFFD. Default-ignorable characters (joiners, variation selectors),
// which shaping hides, are never listed.
func (t *Typeset) MissingGlyphs() []rune { return t.d.sh.missingRunes() }
