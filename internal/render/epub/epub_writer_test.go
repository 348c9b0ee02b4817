package epub_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"github.com/bindery/bindery/internal/testkit"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
	"github.com/bindery/bindery/internal/render/epub"
)

func writeEPUB(tb testing.TB, m *manuscript.Manuscript, opts epub.Options) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := epub.Write(context.Background(), &b, m, opts); err != nil {
		tb.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

func openZip(tb testing.TB, data []byte) *zip.Reader {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatal(err)
	}
	return zr
}

func readEntry(tb testing.TB, zr *zip.Reader, name string) string {
	tb.Helper()
	f, err := zr.Open(name)
	if err != nil {
		tb.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// OCF: the first entry is "mimetype", stored, without extra field, holding
// exactly "application/epub+zip" at byte 38, as readers sniff it.
func TestContainerStartsWithStoredMimetype(t *testing.T) {
	data := writeEPUB(t, exampleBook(t), epub.Options{})
	if got := string(data[30:38]); got != "mimetype" {
		t.Fatalf("first entry name %q", got)
	}
	if got := string(data[38:58]); got != "application/epub+zip" {
		t.Fatalf("mimetype content %q", got)
	}
	if method, extra := binary.LittleEndian.Uint16(data[8:]), binary.LittleEndian.Uint16(data[28:]); method != zip.Store || extra != 0 {
		t.Errorf("mimetype method %d extra length %d, want stored and 0", method, extra)
	}
	for _, f := range openZip(t, data).File {
		if len(f.Extra) != 0 || !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) && !f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.Local)) {
			t.Errorf("%s: extra %d bytes, time %v; want none and the zip epoch", f.Name, len(f.Extra), f.Modified)
		}
	}
}

// Same book, same bytes: twice in a row, and from two copies of the folder.
func TestWriteIsReproducible(t *testing.T) {
	a := writeEPUB(t, exampleBook(t), epub.Options{})
	b := writeEPUB(t, exampleBook(t), epub.Options{})
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the example book differ")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(exampleDir)); err != nil {
		t.Fatal(err)
	}
	if c := writeEPUB(t, mt.LoadDir(t, dir), epub.Options{}); !bytes.Equal(a, c) {
		t.Fatal("a copy of the book folder builds differently")
	}
}

func TestModified(t *testing.T) {
	tests := []struct {
		date string
		opt  time.Time
		want string
	}{
		{"2025-03-01", time.Time{}, "2025-03-01T00:00:00Z"},
		{"2025-03-01T10:20:30+02:00", time.Time{}, "2025-03-01T08:20:30Z"},
		{"1831", time.Time{}, "2000-01-01T00:00:00Z"},
		{"", time.Time{}, "2000-01-01T00:00:00Z"},
		{"1831", time.Date(2024, 2, 3, 4, 5, 6, 7, time.UTC), "2024-02-03T04:05:06Z"},
	}
	for _, tt := range tests {
		m := mt.MustLoad(t, map[string]string{"metadata.yaml": "title: T\ndate: \"" + tt.date + "\"\n", "chapters/01.md": "x"})
		opf := readEntry(t, openZip(t, writeEPUB(t, m, epub.Options{Modified: tt.opt})), "EPUB/package.opf")
		if want := `<meta property="dcterms:modified">` + tt.want + `</meta>`; !strings.Contains(opf, want) {
			t.Errorf("date %q: OPF lacks %s", tt.date, want)
		}
	}
}

// Metadata reaches XML documents escaped by context: a hostile title is
// text in every document, never markup.
func TestMetadataIsEscaped(t *testing.T) {
	title := `</dc:title><script>alert(1)</script>&amp; "q" 'a'`
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":  "title: '" + strings.ReplaceAll(title, "'", "''") + "'\nauthor: \"<b>A</b>\"\nlanguage: en\ncover: c.png\n",
		"c.png":          mt.PNG,
		"chapters/01.md": "---\ntitle: \"<i>T</i>\"\n---\ntext\n",
	})
	zr := openZip(t, writeEPUB(t, m, epub.Options{}))
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".xhtml") && !strings.HasSuffix(f.Name, ".opf") && !strings.HasSuffix(f.Name, ".ncx") {
			continue
		}
		doc := readEntry(t, zr, f.Name)
		if strings.Contains(doc, "<script") || strings.Contains(doc, "<b>") || strings.Contains(doc, "<i>") {
			t.Errorf("%s holds markup from metadata:\n%s", f.Name, doc)
		}
		if err := wellFormed(doc); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
	var pkg struct {
		Titles []string `xml:"metadata>title"`
	}
	if err := xml.Unmarshal([]byte(readEntry(t, zr, "EPUB/package.opf")), &pkg); err != nil || len(pkg.Titles) == 0 || pkg.Titles[0] != title {
		t.Errorf("dc:title = %q, %v; want %q", pkg.Titles, err, title)
	}
}

// Every XML document of the EPUB is well formed, for the example book.
func TestDocumentsAreWellFormed(t *testing.T) {
	zr := openZip(t, writeEPUB(t, exampleBook(t), epub.Options{}))
	n := 0
	for _, f := range zr.File {
		if ext := filepath.Ext(f.Name); ext == ".xhtml" || ext == ".opf" || ext == ".ncx" || ext == ".xml" {
			n++
			if err := wellFormed(readEntry(t, zr, f.Name)); err != nil {
				t.Errorf("%s: %v", f.Name, err)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d XML documents", n)
	}
}

// An image that is a symbolic link out of the book never enters the EPUB.
func TestOutsideImageIsLeftOut(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.png")
	png := append(mt.TinyPNG(), []byte("SECRET-MARKER")...)
	if err := os.WriteFile(secret, png, 0o644); err != nil {
		t.Fatal(err)
	}
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":    "title: T\n",
		"assets/link.png":  mt.Symlink(secret),
		"chapters/01.md":   "![alt](../assets/link.png) ![up](../../" + filepath.Base(filepath.Dir(secret)) + "/secret.png)\n",
		"chapters/02.md":   "x",
		"assets/other.png": mt.PNG,
	})
	data := writeEPUB(t, m, epub.Options{})
	for _, f := range openZip(t, data).File {
		if strings.Contains(readEntry(t, openZip(t, data), f.Name), "SECRET-MARKER") {
			t.Errorf("%s holds the outside file", f.Name)
		}
	}
}

func TestWriteStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := epub.Write(ctx, io.Discard, exampleBook(t), epub.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Write = %v, want context.Canceled", err)
	}
}

func TestCoverMustBeAnImage(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{"metadata.yaml": "title: T\ncover: c.png\n", "c.png": "<html>", "chapters/01.md": "x"})
	err := epub.Write(context.Background(), io.Discard, m, epub.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), `metadata.yaml: cover "c.png"`) {
		t.Errorf("Write = %v, want a cover error", err)
	}
}

func wellFormed(doc string) error { return testkit.WellFormedXML([]byte(doc)) }

const exampleDir = "../../../examples/lighthouse"

func exampleBook(tb testing.TB) *manuscript.Manuscript {
	tb.Helper()
	return mt.LoadDir(tb, exampleDir)
}

// corpus returns the Frankenstein corpus folder (testkit.Corpus).
func corpus(tb testing.TB) string { return testkit.Corpus(tb) }
