package manuscript_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestEditMetadata")

// TestEditMetadata: each edit of a hand-written metadata.yaml changes only
// the entries it must, in their own style, and keeps everything else as
// written (testdata/edit/<file>.<case>.golden; go test -update rewrites
// them). The result always reads back as the edited metadata.
func TestEditMetadata(t *testing.T) {
	for _, tc := range []struct {
		file, name string
		edit       func(*manuscript.Metadata)
	}{
		{"novel", "title", func(m *manuscript.Metadata) { m.Title = "Frankenstein; or, The Modern Prometheus" }},
		{"novel", "second-author", func(m *manuscript.Metadata) { m.Authors = append(m.Authors, "Percy Bysshe Shelley") }},
		{"novel", "description", func(m *manuscript.Metadata) {
			m.Description = "A young scientist creates a sentient creature in an unorthodox scientific experiment, and flees from it."
		}},
		{"novel", "margin", func(m *manuscript.Metadata) { m.PDF.Margins.Top = "1in" }},
		{"novel", "no-subtitle", func(m *manuscript.Metadata) { m.Subtitle = "" }},
		{"novel", "new-publisher", func(m *manuscript.Metadata) { m.Publisher = "Lackington, Hughes, Harding, Mavor & Jones" }},
		{"novel", "date-and-cover", func(m *manuscript.Metadata) { m.Date = "1831"; m.Cover = "assets/images/cover.jpg" }},
		{"novel", "font", func(m *manuscript.Metadata) { m.PDF.FontFamily = ""; m.PDF.FontSize = "11pt" }},
		{"lists", "authors", func(m *manuscript.Metadata) { m.Authors = []string{"Ann One", "Cy Three"} }},
		{"lists", "language-and-cover", func(m *manuscript.Metadata) { m.Language = "de"; m.Cover = "assets/images/new.png" }},
		{"lists", "one-author", func(m *manuscript.Metadata) { m.Authors = []string{"Ann One"}; m.Subjects = []string{"Poetry"} }},
	} {
		t.Run(tc.file+"/"+tc.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "edit", tc.file+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			md, err := manuscript.ParseMetadata(src)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(&md)
			got, err := manuscript.EditMetadata(src, md)
			if err != nil {
				t.Fatal(err)
			}
			back, err := manuscript.ParseMetadata(got)
			if err != nil {
				t.Fatalf("the edited file does not parse: %v\n%s", err, got)
			}
			if !sameMetadata(back, md) {
				t.Errorf("the edited file reads back as\n%+v\nwant\n%+v\n%s", back, md, got)
			}
			golden := filepath.Join("testdata", "edit", tc.file+"."+tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("edited file:\n%s\nwant (%s):\n%s", got, golden, want)
			}
		})
	}
}

// sameMetadata compares what an edit sets; the cover is compared as
// Cover, wherever the file keeps it (cover: or epub.cover_image).
func sameMetadata(a, b manuscript.Metadata) bool {
	eq := func(x, y []string) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return eq(a.Authors, b.Authors) && eq(a.Subjects, b.Subjects) && a.Title == b.Title && a.Subtitle == b.Subtitle &&
		a.Language == b.Language && a.Identifier == b.Identifier && a.ISBN == b.ISBN && a.Publisher == b.Publisher &&
		a.Date == b.Date && a.Rights == b.Rights && a.Description == b.Description && a.Cover == b.Cover && a.PDF == b.PDF && a.EPUB.Stylesheet == b.EPUB.Stylesheet
}

// TestEditMetadataUnchanged: no edit, no change, byte for byte.
func TestEditMetadataUnchanged(t *testing.T) {
	for _, f := range []string{"novel", "lists"} {
		src, _ := os.ReadFile(filepath.Join("testdata", "edit", f+".yaml"))
		md, _ := manuscript.ParseMetadata(src)
		got, err := manuscript.EditMetadata(src, md)
		if err != nil || string(got) != string(src) {
			t.Errorf("%s: %v\n%s", f, err, got)
		}
	}
}
