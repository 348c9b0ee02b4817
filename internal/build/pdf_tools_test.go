package build_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/build"
)

// tool finds an external program; missing is a failure under CI=true.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (apt-get install qpdf poppler-utils)", name)
		}
		t.Skipf("%s is missing", name)
	}
	return p
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(tool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestExamplePDFPassesTheTools: the bundled book's PDF, as `bindery build`
// makes it, is clean for qpdf, embeds subset fonts with ToUnicode maps,
// has the 6×9 trim, and its text comes back out.
func TestExamplePDFPassesTheTools(t *testing.T) {
	out := t.TempDir()
	res, err := build.Run(context.Background(), build.Options{Dir: exampleDir, OutDir: out, Formats: []build.Format{build.PDF}})
	if err != nil || len(res.Artifacts) != 1 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	pdf := res.Artifacts[0].Path
	if got := output(t, "qpdf", "--check", pdf); !strings.Contains(got, "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check:\n%s", got)
	}
	fonts := strings.Split(strings.TrimSpace(output(t, "pdffonts", pdf)), "\n")
	if len(fonts) < 3 {
		t.Fatalf("pdffonts lists no font:\n%s", strings.Join(fonts, "\n"))
	}
	for _, line := range fonts[2:] {
		f := strings.Fields(line)
		// name type encoding emb sub uni object ID: the last five are emb sub uni obj gen.
		if len(f) < 7 || f[len(f)-5] != "yes" || f[len(f)-4] != "yes" || f[len(f)-3] != "yes" {
			t.Errorf("font not embedded, subset and mapped: %s", line)
		}
	}
	if info := output(t, "pdfinfo", pdf); !strings.Contains(info, "432 x 648 pts") || !strings.Contains(info, "The Keeper of Skerry Light") {
		t.Errorf("pdfinfo:\n%s", info)
	}
	text := strings.Join(strings.Fields(output(t, "pdftotext", pdf, "-")), " ")
	chapters, _ := filepath.Glob(filepath.Join(exampleDir, "chapters", "*.md"))
	for _, c := range chapters {
		data, _ := os.ReadFile(c)
		// The first words of every plain paragraph (no Markdown marks, no
		// quotes the typographer would curl) are in the PDF.
		checked := 0
		for _, para := range strings.Split(string(data), "\n\n") {
			para = strings.TrimSpace(para)
			if para == "" || strings.ContainsAny(para, "*_[]~`#>|!'\"-:") {
				continue
			}
			words := strings.Fields(para)
			if len(words) < 4 {
				continue
			}
			if want := strings.Join(words[:4], " "); !strings.Contains(text, want) {
				t.Errorf("%s: %q not found in the PDF's text", filepath.Base(c), want)
			}
			checked++
		}
		if checked == 0 {
			t.Errorf("%s: no plain paragraph to check", filepath.Base(c))
		}
	}
}
