package manuscript_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
	"github.com/bindery/bindery/internal/testkit"
)

func TestLoadOrdersChaptersAndFindsTitles(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":               "title: T\nauthor: A\nlanguage: en\n",
		"chapters/10-later.md":        "Body only.\n",
		"chapters/02-front-matter.md": "---\ntitle: From Front Matter\n---\n# Heading Loses\n",
		"chapters/01-heading.md":      "Intro line\n\nSetext *Title*\n=======\n",
		"chapters/03-the-last_one.md": "",
		"chapters/.hidden.md":         "# skipped",
		"chapters/notes.txt":          "skipped",
		"chapters/sub/04-nested.md":   "# skipped: chapters are not searched recursively",
	})
	var got []string
	for _, c := range m.Chapters {
		got = append(got, c.Path+"|"+c.ID+"|"+c.Title)
	}
	want := []string{
		"chapters/01-heading.md|ch01-heading|Setext Title",
		"chapters/02-front-matter.md|ch02-front-matter|From Front Matter",
		"chapters/03-the-last_one.md|ch03-the-last-one|The last one",
		"chapters/10-later.md|ch10-later|Later",
	}
	if !slices.Equal(got, want) {
		t.Errorf("chapters:\n got %q\nwant %q", got, want)
	}
	if c := m.Chapters[1]; !c.StartsWithHeading || c.BodyLine != 4 || string(c.Body) != "# Heading Loses\n" {
		t.Errorf("front matter chapter: StartsWithHeading=%v BodyLine=%d Body=%q", c.StartsWithHeading, c.BodyLine, c.Body)
	}
	if m.Chapters[0].StartsWithHeading {
		t.Error("chapter 01 does not start with a heading")
	}
}

// The original system's folder (and pandoc's): cover at the top, under the
// pandoc key cover-image, subjects, a date that is only a year.
func TestLoadOriginalFolderShape(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":        "title: Frankenstein\nsubtitle: Or, the Modern Prometheus\nauthor: Mary Shelley\nlanguage: en-GB\ndate: \"1831\"\nsubject:\n  - Horror tales\n  - Gothic fiction\ncover-image: cover.png\n",
		"cover.png":            mt.PNG,
		"chapters/01-intro.md": "---\ntitle: Introduction\n---\n\nText.\n",
	})
	md := m.Metadata
	if md.Title != "Frankenstein" || md.Cover != "cover.png" || md.Date != "1831" || len(md.Subjects) != 2 || md.Authors[0] != "Mary Shelley" {
		t.Errorf("metadata = %+v", md)
	}
	if ps := manuscript.Check(m); len(ps) != 0 {
		t.Errorf("Check = %v, want no problems", ps)
	}
}

func TestLoadErrors(t *testing.T) {
	big := strings.Repeat("x", 200)
	tests := []struct {
		name  string
		files map[string]string
		lim   manuscript.Limits
		want  string
	}{
		{"no chapters folder", map[string]string{"metadata.yaml": "title: x\n"}, manuscript.Limits{}, "chapters/: no chapters folder"},
		{"no chapter files", map[string]string{"chapters/readme.txt": "x"}, manuscript.Limits{}, "chapters/: no chapter files (*.md)"},
		{"bad yaml", map[string]string{"metadata.yaml": "title: a\nauthor: b\n  bad: c\n", "chapters/1.md": "x"}, manuscript.Limits{}, `metadata.yaml:3: a ": " where no "key: value" can start: check the indentation, or put a value that contains ": " in quotes (mapping values are not allowed in this context)`},
		{"bad front matter", map[string]string{"chapters/01.md": "---\ntitle: x\n  bad: indent\n---\nbody"}, manuscript.Limits{}, `chapters/01.md:3: a ": " where no "key: value" can start: check the indentation, or put a value that contains ": " in quotes (mapping values are not allowed in this context)`},
		{"invalid utf8", map[string]string{"chapters/01.md": "ok\nstill ok\nbad \xff byte\n"}, manuscript.Limits{}, "chapters/01.md:3: invalid UTF-8"},
		{"chapter too large", map[string]string{"chapters/01.md": big}, manuscript.Limits{MaxChapterBytes: 100}, "chapters/01.md: file too large: 200 bytes (limit 100)"},
		{"metadata too large", map[string]string{"metadata.yaml": "title: " + big, "chapters/01.md": "x"}, manuscript.Limits{MaxMetadataBytes: 100}, "metadata.yaml: file too large: 207 bytes (limit 100)"},
		{"too many chapters", map[string]string{"chapters/1.md": "a", "chapters/2.md": "b", "chapters/3.md": "c"}, manuscript.Limits{MaxChapters: 2}, "chapters/: more than 2 chapters"},
		{"chapter is a folder", map[string]string{"chapters/01.md/x": "a"}, manuscript.Limits{}, "chapters/: no chapter files (*.md)"},
		{"chapter symlink out of the book", map[string]string{"chapters/01.md": mt.Symlink("/etc/passwd")}, manuscript.Limits{}, "chapters/01.md: openat: path escapes from parent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := mt.OpenRoot(t, mt.WriteBook(t, tt.files))
			_, err := manuscript.LoadLimits(context.Background(), root, tt.lim)
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %q\nwant %q", err, tt.want)
			}
			var e *manuscript.Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not a *manuscript.Error", err)
			}
		})
	}
}

// The error names the book-relative file, never the folder on the machine.
func TestLoadErrorsHideLocalPaths(t *testing.T) {
	dir := mt.WriteBook(t, map[string]string{"chapters/01.md": mt.Symlink("/etc/passwd")})
	_, err := manuscript.Load(mt.OpenRoot(t, dir))
	if err == nil || strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), "/etc/passwd") {
		t.Errorf("error %q leaks a local path", err)
	}
}

func TestLoadFrankenstein(t *testing.T) {
	dir := corpus(t)
	m := mt.LoadDir(t, dir)
	if len(m.Chapters) != 32 || m.Chapters[31].Title != "Chapter XXIV" || m.Metadata.Cover != "cover.jpg" {
		t.Errorf("chapters=%d last=%q cover=%q", len(m.Chapters), m.Chapters[31].Title, m.Metadata.Cover)
	}
	if ps := manuscript.Check(m); len(ps) != 0 {
		t.Errorf("Check(frankenstein) = %v, want none", ps)
	}
}

// corpus returns the Frankenstein corpus folder (testkit.Corpus).
func corpus(tb testing.TB) string { return testkit.Corpus(tb) }

// Images and stylesheets are read on demand, each under MaxAssetBytes.
func TestReadFileLimit(t *testing.T) {
	dir := mt.WriteBook(t, map[string]string{"chapters/01.md": "x", "big.png": strings.Repeat("x", 2000)})
	m, err := manuscript.LoadLimits(context.Background(), mt.OpenRoot(t, dir), manuscript.Limits{MaxAssetBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ReadFile("big.png"); err == nil || err.Error() != "big.png: file too large: 2000 bytes (limit 1000)" {
		t.Errorf("ReadFile = %v", err)
	}
}
