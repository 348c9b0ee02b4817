package testkit

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// ZipDir returns a zip archive of the regular files under src, each named
// prefix + its slash path below src ("zip -r book.zip book" gives prefix
// "book/"), plus extra entries (name → content).
func ZipDir(tb testing.TB, src, prefix string, extra map[string]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p) // #nosec G304 -- a test's own folder
		if err != nil {
			return err
		}
		w, err := zw.Create(prefix + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	for name, content := range extra {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
