package pipeline

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRelativeNamesNoServerPath: messages built from library errors (which
// name absolute paths) reach readers relative to the run or the book.
func TestRelativeNamesNoServerPath(t *testing.T) {
	data := filepath.Join(string(filepath.Separator)+"srv", "bindery")
	rc := &runContext{
		e:   &Engine{cfg: Config{ArtifactsDir: filepath.Join(data, "artifacts")}},
		out: filepath.Join(data, "artifacts", "12"),
		dir: filepath.Join(data, "books", "3"),
	}
	for in, want := range map[string]string{
		"wrote " + filepath.Join(data, "artifacts", "12", "lighthouse.epub") + " (1 MiB)": "wrote lighthouse.epub (1 MiB)",
		"open " + filepath.Join(data, "books", "3", "chapters", "01.md") + ": denied":     "open chapters/01.md: denied",
		"zip: not a valid zip file in " + filepath.Join(data, "artifacts", "12"):          "zip: not a valid zip file in .",
		"see " + filepath.Join(data, "artifacts", "13", "x.pdf"):                          "see …/13/x.pdf",
		"see " + filepath.Join(data, "books", "4", "metadata.yaml"):                       "see …/4/metadata.yaml",
	} {
		got := rc.relative(in)
		if got != want || strings.Contains(got, data) {
			t.Errorf("relative(%q) = %q, want %q", in, got, want)
		}
	}
}
