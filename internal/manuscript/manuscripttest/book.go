// Package manuscripttest writes book folders for tests.
package manuscripttest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
)

// PNG, as the content of a file given to WriteBook, stands for a small real
// PNG image.
const PNG = "\x00png"

// Symlink, as the content of a file given to WriteBook, makes it a symbolic
// link to target.
func Symlink(target string) string { return "\x00symlink:" + target }

// TinyPNG returns a valid 2×2 PNG image.
func TinyPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{200, 30, 30, 255})
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// WriteBook writes files (slash path → content) into a fresh folder under
// tb.TempDir and returns its path.
func WriteBook(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "\x00symlink:"); ok {
			if err := os.Symlink(target, p); err != nil {
				tb.Fatal(err)
			}
			continue
		}
		data := []byte(content)
		if content == PNG {
			data = TinyPNG()
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// OpenRoot opens dir as an os.Root closed when the test ends.
func OpenRoot(tb testing.TB, dir string) *os.Root {
	tb.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { root.Close() })
	return root
}

// MustLoad writes files as a book folder and loads it, failing the test on
// any error. The root stays open until the test ends.
func MustLoad(tb testing.TB, files map[string]string) *manuscript.Manuscript {
	tb.Helper()
	m, err := manuscript.Load(OpenRoot(tb, WriteBook(tb, files)))
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return m
}

// LoadDir loads the book folder dir, failing the test on any error.
func LoadDir(tb testing.TB, dir string) *manuscript.Manuscript {
	tb.Helper()
	m, err := manuscript.Load(OpenRoot(tb, dir))
	if err != nil {
		tb.Fatalf("Load %s: %v", dir, err)
	}
	return m
}
