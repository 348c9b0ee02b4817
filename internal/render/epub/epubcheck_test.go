package epub_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
	"github.com/bindery/bindery/internal/render/epub"
)

// epubcheckJar finds W3C epubcheck: $EPUBCHECK_JAR, else Debian's jar. When
// it or java is missing the test is skipped — except under CI=true, where a
// missing validator must fail the build rather than pass it silently.
func epubcheckJar(t *testing.T) string {
	t.Helper()
	jar := os.Getenv("EPUBCHECK_JAR")
	if jar == "" {
		jar = "/usr/share/java/epubcheck.jar"
	}
	_, jarErr := os.Stat(jar)
	_, javaErr := exec.LookPath("java")
	if jarErr != nil || javaErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("epubcheck is required under CI=true: jar %q: %v; java: %v (apt-get install epubcheck)", jar, jarErr, javaErr)
		}
		t.Skipf("epubcheck not available (jar %q: %v; java: %v)", jar, jarErr, javaErr)
	}
	return jar
}

var epubcheckSummary = regexp.MustCompile(`Messages: (\d+) fatals? / (\d+) errors? / (\d+) warnings?`)

// TestEPUBCheck builds the example book and Frankenstein, with pop-up
// notes, a title page, the accessibility claim and a page-list, and
// requires W3C epubcheck to report 0 fatals, 0 errors and 0 warnings.
func TestEPUBCheck(t *testing.T) {
	jar := epubcheckJar(t)
	books := map[string]string{"lighthouse": exampleDir, "frankenstein": corpus(t)}
	for name, dir := range books {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := mt.LoadDir(t, dir)
			out := filepath.Join(t.TempDir(), name+".epub")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			// Print pages in every chapter: at its start, inside its
			// text and past its end (markers, a page-list, dc:source).
			var pages []epub.PrintPage
			for i := range m.Chapters {
				for _, w := range []int{0, 7, 150, 1 << 20} {
					pages = append(pages, epub.PrintPage{Number: len(pages) + 1, Chapter: i, Word: w})
				}
			}
			opts := epub.Options{PrintPages: func() ([]epub.PrintPage, error) { return pages, nil }}
			if err := epub.Write(context.Background(), f, m, opts); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			// Client JIT and serial GC: epubcheck runs once, so a faster
			// start matters more than peak speed.
			cmd := exec.Command("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar, out)
			report, err := cmd.CombinedOutput()
			m2 := epubcheckSummary.FindStringSubmatch(string(report))
			clean := strings.Contains(string(report), "No errors or warnings detected") ||
				m2 != nil && m2[1] == "0" && m2[2] == "0" && m2[3] == "0"
			if err != nil || !clean {
				t.Errorf("epubcheck %s: %v\n%s", name, err, report)
			}
		})
	}
}
