package build_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/bindery/bindery/internal/testkit"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
)

const exampleDir = "../../examples/lighthouse"

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return names
}

func TestRunWritesArtifacts(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	var progress bytes.Buffer
	show, finish := build.Display(&progress, false)
	res, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: out, Progress: show})
	finish()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"the-keeper-of-skerry-light.epub", "the-keeper-of-skerry-light.html", "the-keeper-of-skerry-light.pdf"}
	if got := listDir(t, out); !slices.Equal(got, want) {
		t.Errorf("out dir holds %q, want %q (no temporary files)", got, want)
	}
	if len(res.Artifacts) != 3 || res.Artifacts[0].Format != build.EPUB || res.Artifacts[0].Size == 0 {
		t.Errorf("artifacts = %+v", res.Artifacts)
	}
	for _, a := range res.Artifacts {
		fi, err := os.Stat(a.Path)
		if err != nil || fi.Size() != a.Size || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, size %d vs %d", a.Path, err, fi.Size(), a.Size)
		}
	}
	for _, line := range []string{"loaded 4 chapters", "checked", "wrote " + filepath.Join(out, want[0])} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress lacks %q:\n%s", line, progress.String())
		}
	}
}

// Two builds of the same book give byte-identical files when they are
// stamped with the same time, as SOURCE_DATE_EPOCH does.
func TestRunIsReproducible(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	stamp := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, out := range []string{a, b} {
		if _, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: out, Modified: stamp}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range listDir(t, a) {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between builds", name)
		}
	}
}

// A book with errors is not built, and the error lists them as
// "file:line: message".
func TestRunRefusesBookWithErrors(t *testing.T) {
	dir := mt.WriteBook(t, map[string]string{
		"metadata.yaml":  "title: T\nauthor: A\nlanguage: en\n",
		"chapters/01.md": "# One\n\n![map](missing.png)\n\n[next](02.md)\n",
	})
	out := t.TempDir()
	_, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: out})
	var pe *build.ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("Run = %v, want *ProblemsError", err)
	}
	want := "chapters/01.md:3: image \"missing.png\": no such file in the book folder\n" +
		"chapters/01.md:5: broken link \"02.md\": no such file in the book folder"
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if got := listDir(t, out); len(got) != 0 {
		t.Errorf("wrote %q", got)
	}
}

func TestRunReportsLoadErrorsWithLine(t *testing.T) {
	dir := mt.WriteBook(t, map[string]string{"metadata.yaml": "title: T\n  bad: x\n", "chapters/01.md": "x"})
	_, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir()})
	if err == nil || err.Error() != `metadata.yaml:2: a ": " where no "key: value" can start: check the indentation, or put a value that contains ": " in quotes (mapping values are not allowed in this context)` {
		t.Errorf("Run = %v", err)
	}
}

func TestRunPDFHook(t *testing.T) {
	out := t.TempDir()
	pdf := build.RendererFunc(func(ctx context.Context, w io.Writer, m *manuscript.Manuscript) error {
		_, err := io.WriteString(w, "%PDF-1.7 "+m.Metadata.Title)
		return err
	})
	res, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: out, Formats: []build.Format{build.PDF}, PDF: pdf})
	if err != nil || len(res.Artifacts) != 1 || !strings.HasSuffix(res.Artifacts[0].Path, ".pdf") {
		t.Fatalf("Run with a PDF renderer = %+v, %v", res, err)
	}
}

// A renderer that fails half-way leaves the previous artifact untouched and
// no temporary file behind.
func TestRunWritesAtomically(t *testing.T) {
	out := t.TempDir()
	final := filepath.Join(out, "the-keeper-of-skerry-light.pdf")
	if err := os.WriteFile(final, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	pdf := build.RendererFunc(func(ctx context.Context, w io.Writer, m *manuscript.Manuscript) error {
		io.WriteString(w, "partial")
		return boom
	})
	_, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: out, Formats: []build.Format{build.PDF}, PDF: pdf})
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v", err)
	}
	if got, _ := os.ReadFile(final); string(got) != "previous" {
		t.Errorf("artifact = %q, want the previous one", got)
	}
	if got := listDir(t, out); !slices.Equal(got, []string{"the-keeper-of-skerry-light.pdf"}) {
		t.Errorf("out dir holds %q", got)
	}
}

func TestRunOnTerminalDrawsABar(t *testing.T) {
	var progress bytes.Buffer
	show, finish := build.Display(&progress, true)
	_, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: t.TempDir(), Progress: show})
	finish()
	if err != nil {
		t.Fatal(err)
	}
	if s := progress.String(); !strings.Contains(s, "\r") || !strings.Contains(s, "wrote ") {
		t.Errorf("terminal progress %q has no redrawn bar or no result lines", s)
	}
}

// Progress arrives as values: numbered steps, one Wrote per artifact with
// its path and size — what the server turns into stage progress without
// parsing text.
func TestRunReportsProgressAsValues(t *testing.T) {
	var events []build.Event
	res, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: t.TempDir(), Formats: []build.Format{build.EPUB, build.HTML},
		Progress: func(e build.Event) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	var started []string
	var wrote []build.Artifact
	for _, e := range events {
		if e.Steps != 4 || e.Step < 1 || e.Step > 4 {
			t.Errorf("event %+v: step %d of %d, want of 4", e, e.Step, e.Steps)
		}
		switch e.Kind {
		case build.StepStarted:
			started = append(started, e.Message)
		case build.Wrote:
			wrote = append(wrote, e.Artifact)
		}
	}
	if want := []string{"loading " + exampleDir, "checking", "writing epub", "writing html"}; !slices.Equal(started, want) {
		t.Errorf("steps started %q, want %q", started, want)
	}
	if !slices.Equal(wrote, res.Artifacts) {
		t.Errorf("Wrote events %+v, want the artifacts %+v", wrote, res.Artifacts)
	}
}

// A manuscript loaded by the caller is built as it is: the folder is not
// read again (a server run parses its book once for every stage).
func TestRunBuildsTheLoadedManuscript(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	m, err := manuscript.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	m.Metadata.Title = "Loaded Once"
	// A chapter broken after loading would fail a second parse.
	if err := os.WriteFile(filepath.Join(dir, "metadata.yaml"), []byte("title: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir(), Formats: []build.Format{build.HTML}, Manuscript: m})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Artifacts) != 1 || filepath.Base(res.Artifacts[0].Path) != "loaded-once.html" {
		t.Errorf("artifacts %+v, want loaded-once.html from the loaded manuscript", res.Artifacts)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	if _, err := build.Run(ctx, build.Options{Dir: exampleDir, OutDir: out}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		in   string
		want []build.Format
		err  bool
	}{
		{"", build.DefaultFormats, false},
		{"epub", []build.Format{build.EPUB}, false},
		{" EPUB, html ,pdf,epub", []build.Format{build.EPUB, build.HTML, build.PDF}, false},
		{"mobi", nil, true},
	}
	for _, tt := range tests {
		got, err := build.ParseFormats(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("ParseFormats(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"clean", map[string]string{"metadata.yaml": "title: T\nauthor: A\nlanguage: en\n", "chapters/01.md": "# One\n\nText.\n"}, "no problems\n"},
		{"load error is a problem", map[string]string{"chapters/01.md": "ok\n\xff\n"}, "chapters/01.md:2: invalid UTF-8\n1 error, 0 warnings\n"},
		{"nesting limit is a problem", map[string]string{"chapters/01.md": "ok\n\n" + strings.Repeat("> ", 40) + "deep\n"}, "chapters/01.md:3: lists and block quotes are nested more than 32 levels deep\n1 error, 0 warnings\n"},
		{"findings", map[string]string{"metadata.yaml": "title: T\nlanguage: en\n", "chapters/01.md": "# One\n\n![](x.png)\n"},
			"metadata.yaml: warning: author is missing\n" +
				"chapters/01.md:3: warning: image \"x.png\" has no alt text\n" +
				"chapters/01.md:3: image \"x.png\": no such file in the book folder\n" +
				"1 error, 2 warnings\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := build.Check(context.Background(), mt.WriteBook(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := build.WriteProblems(&b, ps); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
	if _, err := build.Check(context.Background(), filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("Check of a missing folder succeeded")
	}
}

func TestBuildFrankenstein(t *testing.T) {
	dir := testkit.Corpus(t)
	res, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir()})
	if err != nil || len(res.Problems) != 0 || len(res.Artifacts) != 3 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
}

func TestRunNativePDF(t *testing.T) {
	out := t.TempDir()
	res, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: out, Formats: []build.Format{build.PDF}, PDF: build.PDFRenderer()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(res.Artifacts[0].Path)
	if err != nil || !bytes.HasPrefix(data, []byte("%PDF-")) || len(data) < 10000 {
		t.Errorf("PDF: %d bytes, %v", len(data), err)
	}
}

// TestDraftBuild: a missing image and a broken link stop a build, and a
// draft build goes on with warnings, a visible placeholder and the link's
// text.
func TestDraftBuild(t *testing.T) {
	dir := mt.WriteBook(t, map[string]string{
		"metadata.yaml":  "title: D\nauthor: A\nlanguage: en\n",
		"chapters/01.md": "# One\n\n![The map](../assets/images/map.png)\n\nSee [two](02-two.md).\n",
	})
	if _, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir(), Formats: []build.Format{"html"}}); err == nil {
		t.Fatal("a book with a missing image built")
	}
	out := t.TempDir()
	res, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: out, Formats: []build.Format{"html"}, Draft: true})
	if err != nil {
		t.Fatalf("draft build: %v", err)
	}
	if len(res.Problems) != 2 || manuscript.HasErrors(res.Problems) {
		t.Errorf("draft problems = %v, want two warnings", res.Problems)
	}
	page, err := os.ReadFile(filepath.Join(out, "d.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<em>[missing image: The map]</em>", "See two."} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the draft page lacks %q", want)
		}
	}
}
