package testkit

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"os"
	"testing"
)

// Gunzip reads a gzipped test fixture and returns its content.
func Gunzip(tb testing.TB, path string) []byte {
	tb.Helper()
	gz, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		tb.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// WellFormedXML parses doc with encoding/xml in strict mode, as an EPUB
// reader's XML parser would, and returns the first error.
func WellFormedXML(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
