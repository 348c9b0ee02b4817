package build_test

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/build"
)

// webpBook copies the example book and adds two WebP images to its first
// chapter: a lossy one with an alpha channel and a lossless one.
func webpBook(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "book")
	if err := os.CopyFS(dir, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alpha.webp", "lossless.webp"} {
		data, err := os.ReadFile(filepath.Join("..", "bookfs", "testdata", "webp", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "assets", "images", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ch := filepath.Join(dir, "chapters", "01-the-lamp.md")
	md, err := os.ReadFile(ch)
	if err != nil {
		t.Fatal(err)
	}
	md = append(md, "\n![A gradient with alpha](../assets/images/alpha.webp)\n\n![A lossless gradient](../assets/images/lossless.webp)\n"...)
	if err := os.WriteFile(ch, md, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBuildWebPBook: a book with WebP images builds to all three formats.
// The HTML carries them as they are; the PDF embeds them decoded (the one
// with alpha with a soft mask); the EPUB holds them as PNG, which
// epubcheck (EPUB 3.2 rules, where WebP is no core type) passes.
func TestBuildWebPBook(t *testing.T) {
	out := t.TempDir()
	res, err := build.Run(context.Background(), build.Options{Dir: webpBook(t), OutDir: out})
	if err != nil || len(res.Artifacts) != 3 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	paths := map[build.Format]string{}
	for _, a := range res.Artifacts {
		paths[a.Format] = a.Path
	}

	html, err := os.ReadFile(paths[build.HTML])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(html), `src="data:image/webp;base64,`); n != 2 {
		t.Errorf("the HTML holds %d WebP images, want 2", n)
	}

	images := output(t, "pdfimages", "-list", paths[build.PDF])
	// Per image: the page, its number, its type (image or smask), width, height.
	rows := regexp.MustCompile(`(?m)^\s*\d+\s+\d+\s+(image|smask)\s+(\d+)\s+(\d+)`).FindAllStringSubmatch(images, -1)
	var webp, masks int
	for _, r := range rows {
		if r[2] == "32" && r[3] == "24" {
			if r[1] == "image" {
				webp++
			} else {
				masks++
			}
		}
	}
	if webp != 2 || masks != 1 {
		t.Errorf("the PDF embeds %d 32×24 images and %d masks, want 2 and 1 (the alpha one):\n%s", webp, masks, images)
	}

	zr, err := zip.OpenReader(paths[build.EPUB])
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var pngs int
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".webp") {
			t.Errorf("the EPUB holds %s", f.Name)
		}
		if strings.HasPrefix(f.Name, "EPUB/images/") && (strings.HasSuffix(f.Name, "-alpha.png") || strings.HasSuffix(f.Name, "-lossless.png")) {
			r, _ := f.Open()
			head := make([]byte, 8)
			io.ReadFull(r, head)
			r.Close()
			if string(head) != "\x89PNG\r\n\x1a\n" {
				t.Errorf("%s is not a PNG", f.Name)
			}
			pngs++
		}
	}
	if pngs != 2 {
		t.Errorf("the EPUB holds %d converted images, want 2", pngs)
	}
	epubcheck(t, paths[build.EPUB])
}

// epubcheck runs Debian's W3C epubcheck on file and requires no fatal,
// error or warning; missing is a failure under CI=true.
func epubcheck(t *testing.T, file string) {
	t.Helper()
	jar := os.Getenv("EPUBCHECK_JAR")
	if jar == "" {
		jar = "/usr/share/java/epubcheck.jar"
	}
	if _, err := os.Stat(jar); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("epubcheck is missing: %v (apt-get install epubcheck)", err)
		}
		t.Skipf("epubcheck is missing: %v", err)
	}
	report, err := exec.Command(tool(t, "java"), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar, file).CombinedOutput()
	if err != nil || !strings.Contains(string(report), "No errors or warnings detected") {
		t.Errorf("epubcheck: %v\n%s", err, report)
	}
}
