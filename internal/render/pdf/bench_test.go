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
