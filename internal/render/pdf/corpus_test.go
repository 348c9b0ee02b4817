package pdf

import (
	"github.com/bindery/bindery/internal/testkit"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusBook loads the Frankenstein corpus as a Book. It skips the test
// when the corpus is missing, unless CI=true, where that is a failure.
func corpusBook(tb testing.TB) *Book {
	tb.Helper()
	dir := testkit.Corpus(tb)
	files, _ := filepath.Glob(filepath.Join(dir, "chapters", "*.md"))
	if len(files) == 0 {
		tb.Fatalf("no chapters in %s", dir)
	}
	sort.Strings(files)
	b := &Book{
		Title: "Frankenstein", Subtitle: "Or, the Modern Prometheus", Authors: []string{"Mary Shelley"},
		Language: "en-GB", Publisher: "Standard Ebooks", Rights: "Public domain", Date: "1831",
		Identifier:  "https://standardebooks.org/ebooks/mary-shelley/frankenstein",
		Description: "A tragic scientist creates a monster in his laboratory.",
		PageSize:    "6x9",
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		b.Chapters = append(b.Chapters, Chapter{Markdown: data, ID: strings.TrimSuffix(filepath.Base(f), ".md")})
	}
	return b
}
