package pdf

import (
	"context"
	"io"
	"testing"
)

func BenchmarkRenderFrankenstein(b *testing.B) {
	book := corpusBook(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(io.Discard, book, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender300k renders the corpus chapters four times over
// (about 313,000 words).
func BenchmarkRender300k(b *testing.B) {
	book := corpusBook(b)
	chapters := book.Chapters
	for range 3 {
		book.Chapters = append(book.Chapters, chapters...)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Render(io.Discard, book, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLayoutFrankenstein lays the corpus out without writing it:
// what an EPUB-only build pays for its page-list.
func BenchmarkLayoutFrankenstein(b *testing.B) {
	book := corpusBook(b)
	b.ReportAllocs()
	for b.Loop() {
		t, err := Layout(context.Background(), book, Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = t.PageStarts()
	}
}

// BenchmarkPaginateFrankenstein paginates the corpus's chapters, laid
// out once, first-fit (paginate) and flush at the foot (paginateFlush):
// what vertical justification costs.
func BenchmarkPaginateFrankenstein(b *testing.B) {
	book := corpusBook(b)
	sh, err := newShaper("en", nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	g, err := resolveGeometry(book, sh.faces[0].xHeight)
	if err != nil {
		b.Fatal(err)
	}
	l := &layouter{g: g, sh: sh, hyCache: map[string][]int{}}
	var chapters [][]*vbox
	for ci, c := range book.Chapters {
		l.ci, l.boxes, l.keep = ci, nil, 0
		doc := parseChapter(c.Markdown, linker{ci: ci}, nil)
		l.blocks(doc.blocks, ctx{width: g.width, size: g.size, lead: g.lead, noIndent: true})
		l.notes(doc.footnotes)
		chapters = append(chapters, l.boxes)
	}
	sep := l.noteSeparator()
	h := gridHeight(g.height, g.size, g.lead, sh.faces[0].forStyle(sh, 0))
	b.Run("first-fit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, boxes := range chapters {
				paginate(boxes, h, sep)
			}
		}
	})
	b.Run("flush", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, boxes := range chapters {
				paginateFlush(boxes, h, g.lead, sep)
			}
		}
	})
}
