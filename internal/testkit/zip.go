package testkit

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"os"
	"testing"
)

// ZipDir returns a zip archive of the regular files under src, each named
// prefix + its slash path below src ("zip -r book.zip book" gives prefix
// "book/"), plus extra entries (name → content).
func ZipDir(tb testing.TB, src, prefix string, extra map[string]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	root, err := os.OpenRoot(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer root.Close()
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := root.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := zw.Create(prefix + p)
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
