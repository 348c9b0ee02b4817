package manuscript_test

import (
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
)

// TestYAMLErrorsNameTheLineAndTheProblem: a metadata.yaml that does not
// parse is reported at the line an author must fix, in plain words (the
// YAML library's own words kept in parentheses).
func TestYAMLErrorsNameTheLineAndTheProblem(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"title: X\nauthor: [a, b\nlanguage: en\n", "metadata.yaml:2: a [list] that starts on this line is not closed"},
		{"title: X\ndescription: {a: 1\n", "metadata.yaml:2: a {mapping} that starts on this line is not closed"},
		{"title: X\nauthor: A\n\n\nlanguage: en\n  bad: indent\n", `metadata.yaml:6: a ": " where no "key: value" can start`},
		{"title: X\nauthors:\n  - A\n  B\nlanguage: en\n", `metadata.yaml:4: this line is neither "key: value" nor "- item"`},
		{"title: X\npdf:\n  margins: 1in\n bad: 2\n", `metadata.yaml:4: this line is not a "key: value" at the indentation`},
		{"title: X\n\tauthor: A\n", "metadata.yaml:2: a tab used for indentation"},
	} {
		root := mt.OpenRoot(t, mt.WriteBook(t, map[string]string{"metadata.yaml": tc.yaml, "chapters/01.md": "# One\n\nText.\n"}))
		_, err := manuscript.Load(root)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v\nwant it to start with %q", tc.yaml, err, tc.want)
		}
	}
}

func TestMissingMetadataIsNamed(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{"chapters/01.md": "# One\n\nText.\n"})
	ps := manuscript.Check(m)
	if len(ps) == 0 || ps[0].String() != "metadata.yaml: there is no metadata.yaml in the book folder: add one with at least a title (title: My Book)" {
		t.Fatalf("Check = %v", ps)
	}
	for _, p := range ps {
		if strings.Contains(p.String(), "title is missing") {
			t.Errorf("a missing file is also reported field by field: %s", p)
		}
	}
}

// TestParagraphLimit: a paragraph past MaxParagraphBytes is refused at its
// first line (the PDF typesetter holds a paragraph at once); the same text
// in paragraphs is accepted.
func TestParagraphLimit(t *testing.T) {
	word := "word "
	long := strings.Repeat(word, (512<<10)/len(word)+1)
	if _, err := manuscript.ParseBody(t.Context(), "chapters/01.md", []byte("# One\n\n"+long+"\n"), 1); err == nil ||
		!strings.HasPrefix(err.Error(), "chapters/01.md:3: this paragraph is longer than 512 KiB") {
		t.Errorf("a 512 KiB paragraph: %v", err)
	}
	split := strings.Repeat(strings.Repeat(word, 2000)+"\n\n", 60)
	if _, err := manuscript.ParseBody(t.Context(), "chapters/01.md", []byte(split), 1); err != nil {
		t.Errorf("the same text in paragraphs: %v", err)
	}
}
