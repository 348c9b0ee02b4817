package epub_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
	"github.com/bindery/bindery/internal/render/epub"
)

// benchmarkBook loads dir and writes it as an EPUB b.N times, counting the
// load as a command-line build does.
func benchmarkBook(b *testing.B, dir string) {
	root := mt.OpenRoot(b, dir)
	b.ReportAllocs()
	for b.Loop() {
		m, err := manuscript.Load(root)
		if err != nil {
			b.Fatal(err)
		}
		if err := epub.Write(context.Background(), io.Discard, m, epub.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrankenstein: 78k words, 32 chapters, a 450 KB cover.
func BenchmarkFrankenstein(b *testing.B) { benchmarkBook(b, corpus(b)) }

// Benchmark300kWords: Frankenstein's chapters four times over (≈313k words,
// 128 chapters), the size of a long novel.
func Benchmark300kWords(b *testing.B) {
	src := corpus(b)
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	chapters, _ := filepath.Glob(filepath.Join(src, "chapters", "*.md"))
	for copy := 2; copy <= 4; copy++ {
		for _, c := range chapters {
			data, err := os.ReadFile(c)
			if err != nil {
				b.Fatal(err)
			}
			name := fmt.Sprintf("%d-%s", copy, filepath.Base(c))
			if err := os.WriteFile(filepath.Join(dir, "chapters", name), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	benchmarkBook(b, dir)
}
