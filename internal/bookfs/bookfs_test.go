package bookfs_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/render/pdf/fonts"
)

func TestCleanPath(t *testing.T) {
	ok := map[string]string{
		"chapters/01-intro.md":        "chapters/01-intro.md",
		"metadata.yaml":               "metadata.yaml",
		"assets/images/map.png":       "assets/images/map.png",
		"chapters/cafe\u0301.md":      "chapters/café.md", // NFD → NFC
		"chapters/Ünïcødé – ok.md":    "chapters/Ünïcødé – ok.md",
		"chapters/file.with.dots.txt": "chapters/file.with.dots.txt",
	}
	for in, want := range ok {
		got, err := bookfs.CleanPath(in)
		if err != nil || got != want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "/etc/passwd", "../secret.md", "chapters/../../x.md", "chapters/./x.md", "chapters//x.md",
		`chapters\x.md`, "chapters/x\x00.md", "chapters/x\n.md", "chapters/\u202ex.md\u0085", ".htaccess",
		"chapters/.hidden.md", "CON.md", "chapters/nul.txt", "com1.png", "LPT9", "chapters/x.md ", "chapters/x.",
		"a/b/c/d/e/f/g.md", strings.Repeat("a", 300) + ".md", "c:x.md", "chapters/what?.md", "\xff.md",
		// Names that display as something else: bidirectional controls,
		// marks, zero-width characters, other format characters (Cf).
		"chapters/report\u202efdp.md", "chapters/\u202ax.md", "chapters/\u202bx.md", "chapters/\u202cx.md", "chapters/\u202dx.md",
		"chapters/\u2066x.md", "chapters/\u2067x.md", "chapters/\u2068x.md", "chapters/\u2069x.md",
		"chapters/a\u200eb.md", "chapters/a\u200fb.md", "chapters/a\u061cb.md",
		"chapters/a\u200bb.md", "chapters/a\u200cb.md", "chapters/a\u200db.md", "chapters/a\u2060b.md", "\ufeffchapters/x.md",
		"chapters/a\u00adb.md", "chapters/a\U000e0041b.md", "chapters/a\u2028b.md",
	} {
		if got, err := bookfs.CleanPath(in); err == nil || bindery.ErrorCode(err) != bindery.EINVALID {
			t.Errorf("CleanPath(%q) = %q, %v; want EINVALID", in, got, err)
		}
	}
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"chapters/01.md", "../x", "a/./b", "é/e\u0301", "CON", "a\\b", "chapters/x\u202egpj.md", "a\u200db.md", "\ufeffx.md"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := bookfs.CleanPath(in)
		if err != nil {
			return
		}
		// Whatever passes stays inside the folder and is canonical.
		if filepath.IsAbs(got) || strings.HasPrefix(got, "..") || strings.Contains(got, "/..") ||
			strings.Contains(got, "\\") || strings.Contains(got, "//") || got != filepath.ToSlash(filepath.Clean(got)) {
			t.Fatalf("CleanPath(%q) = %q escapes or is not clean", in, got)
		}
		if r, found := bindery.NameRune(got); found {
			t.Fatalf("CleanPath(%q) = %q keeps the invisible character %U", in, got, r)
		}
		if again, err := bookfs.CleanPath(got); err != nil || again != got {
			t.Fatalf("CleanPath is not idempotent: %q → %q → %q, %v", in, got, again, err)
		}
	})
}

// newStore makes a store with one book (id 1) and small limits.
func newStore(t *testing.T, lim bookfs.Limits) (*bookfs.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := bookfs.New(dir, lim)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(1); err != nil {
		t.Fatal(err)
	}
	return s, filepath.Join(dir, "1")
}

var lim = bookfs.Limits{MaxFileBytes: 1 << 20, MaxFiles: 20, MaxBookBytes: 4 << 20}

func put(s *bookfs.Store, name string, data []byte) error {
	_, err := s.Put(context.Background(), 1, name, bytes.NewReader(data))
	return err
}

func code(err error) string { return bindery.ErrorCode(err) }

// noTemporaryFiles asserts that nothing hidden is left in the book.
func noTemporaryFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.HasPrefix(d.Name(), ".upload-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestPutChecksTypeAndContent(t *testing.T) {
	s, dir := newStore(t, lim)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"chapters/01.md", []byte("# One\n\nText é.\n"), ""},
		{"chapters/notes.txt", []byte("plain"), ""},
		{"metadata.yaml", []byte("title: A Book\nauthor: Me\n"), ""},
		{"assets/images/a.png", pngBytes(t), ""},
		{"assets/images/a.jpg", jpegBytes(t, nil), ""},
		{"assets/images/b.jpeg", jpegBytes(t, nil), ""},
		{"sources/x.pdf", []byte("%PDF-1.7\n%%EOF\n"), ""},
		{"sources/x.epub", epubBytes(t, nil), ""},
		{"chapters/evil.html", []byte("<script>"), bindery.EUNSUPPORTED},
		{"assets/css/book.css", []byte("body{}\n@font-face{src:url(../fonts/a.ttf)}"), ""},
		{"assets/css/remote.css", []byte("p{background:url(https://tracker.example/p.gif)}"), bindery.EUNPROCESSABLE},
		{"assets/css/import.css", []byte("@import 'x.css';"), bindery.EUNPROCESSABLE},
		{"assets/css/bin.css", []byte("p{}\x00"), bindery.EUNSUPPORTED},
		{"assets/fonts/Noto.ttf", fonts.TTF(fonts.Regular), ""},
		{"assets/fonts/fake.otf", pngBytes(t), bindery.EUNPROCESSABLE},
		{"assets/images/a.gif", gifBytes(t, true), ""},
		{"assets/images/fake.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00 not really"), bindery.EUNSUPPORTED},
		{"assets/images/a.svg", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), bindery.EUNSUPPORTED},
		{"assets/images/a.webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), bindery.EUNSUPPORTED},
		{"run.sh", []byte("#!/bin/sh"), bindery.EUNSUPPORTED},
		{"assets/images/fake.png", []byte("GIF89a not a png"), bindery.EUNSUPPORTED},
		{"assets/images/fake.jpg", pngBytes(t), bindery.EUNSUPPORTED},
		{"sources/fake.pdf", []byte("<html>"), bindery.EUNSUPPORTED},
		{"sources/fake.epub", []byte("PK\x03\x04 not really"), bindery.EUNSUPPORTED},
		{"chapters/bin.md", []byte("text\x00with NUL"), bindery.EUNSUPPORTED},
		{"chapters/latin1.md", []byte("caf\xe9"), bindery.EUNSUPPORTED},
		{"metadata.yaml", []byte("title: [unclosed\n"), bindery.EUNPROCESSABLE},
	}
	for _, tc := range cases {
		if err := put(s, tc.name, tc.data); code(err) != tc.want {
			t.Errorf("Put(%s) = %v, want code %q", tc.name, err, tc.want)
		}
	}
	noTemporaryFiles(t, dir)
	list, _ := s.List(1)
	if len(list) != 11 {
		t.Errorf("List = %+v, want the 11 accepted files", list)
	}
}

func TestUnsupportedTypeNamesAllowedTypes(t *testing.T) {
	s, _ := newStore(t, lim)
	err := put(s, "x.exe", []byte("MZ"))
	if !strings.Contains(bindery.ErrorMessage(err), ".md, .txt, .jpg, .jpeg, .png, .gif, .webp, .css, .ttf, .otf, .pdf, .epub and metadata.yaml") {
		t.Fatalf("message %q does not name the allowed types", bindery.ErrorMessage(err))
	}
}

func TestSizeLimitWhileStreaming(t *testing.T) {
	s, dir := newStore(t, bookfs.Limits{MaxFileBytes: 1000, MaxFiles: 10, MaxBookBytes: 1 << 20})
	if err := put(s, "chapters/big.md", bytes.Repeat([]byte("a"), 1001)); code(err) != bindery.ETOOLARGE {
		t.Fatalf("over the limit: %v", err)
	}
	if err := put(s, "chapters/ok.md", bytes.Repeat([]byte("a"), 1000)); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	// Through http.MaxBytesReader, as the server streams it.
	w := httptest.NewRecorder()
	body := http.MaxBytesReader(w, io.NopCloser(bytes.NewReader(make([]byte, 5000))), 500)
	if _, err := s.Put(context.Background(), 1, "chapters/x.md", body); code(err) != bindery.ETOOLARGE {
		t.Fatalf("MaxBytesReader: %v", err)
	}
	noTemporaryFiles(t, dir)
}

func TestQuota(t *testing.T) {
	s, _ := newStore(t, bookfs.Limits{MaxFileBytes: 1000, MaxFiles: 2, MaxBookBytes: 1500})
	if err := put(s, "chapters/1.md", bytes.Repeat([]byte("a"), 1000)); err != nil {
		t.Fatal(err)
	}
	if err := put(s, "chapters/2.md", bytes.Repeat([]byte("a"), 600)); code(err) != bindery.ETOOLARGE {
		t.Fatalf("byte quota: %v", err)
	}
	if err := put(s, "chapters/1.md", bytes.Repeat([]byte("b"), 900)); err != nil {
		t.Fatalf("replacing a file counts the old one as gone: %v", err)
	}
	if err := put(s, "chapters/2.md", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := put(s, "chapters/3.md", []byte("x")); code(err) != bindery.ETOOLARGE || !strings.Contains(err.Error(), "2 files") {
		t.Fatalf("file-count quota: %v", err)
	}
}

// TestFailedUploadKeepsTheOldFile: atomic replacement.
func TestFailedUploadKeepsTheOldFile(t *testing.T) {
	s, dir := newStore(t, lim)
	if err := put(s, "chapters/1.md", []byte("version one")); err != nil {
		t.Fatal(err)
	}
	// A body that fails half-way (a dropped connection).
	r := io.MultiReader(strings.NewReader("version two, half"), errReader{})
	if _, err := s.Put(context.Background(), 1, "chapters/1.md", r); err == nil {
		t.Fatal("a failing body was accepted")
	}
	if err := put(s, "chapters/1.md", []byte("bad\x00content")); err == nil {
		t.Fatal("bad content accepted")
	}
	got, _ := os.ReadFile(filepath.Join(dir, "chapters", "1.md"))
	if string(got) != "version one" {
		t.Fatalf("old file changed to %q", got)
	}
	noTemporaryFiles(t, dir)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// TestSymlinksCannotEscape: a link planted in the book folder (by hand or
// a bug) leads nowhere outside it, for reads and for writes.
func TestSymlinksCannotEscape(t *testing.T) {
	s, dir := newStore(t, lim)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.md"), []byte("secret"), 0o600)
	os.Symlink(outside, filepath.Join(dir, "chapters", "out"))
	os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(dir, "chapters", "secret.md"))

	if f, _, err := s.Get(1, "chapters/secret.md"); err == nil {
		f.Close()
		t.Fatal("read through a symlink to a file outside")
	}
	if f, _, err := s.Get(1, "chapters/out/secret.md"); err == nil {
		f.Close()
		t.Fatal("read through a symlinked folder")
	}
	if err := put(s, "chapters/out/new.md", []byte("x")); err == nil {
		t.Fatal("wrote through a symlinked folder")
	}
	if _, err := os.Stat(filepath.Join(outside, "new.md")); err == nil {
		t.Fatal("a file appeared outside the book")
	}
	if err := put(s, "chapters/secret.md", []byte("overwrite")); code(err) != bindery.ECONFLICT {
		t.Fatalf("overwriting a symlink: %v", err)
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "secret.md")); string(got) != "secret" {
		t.Fatal("the file outside was changed")
	}
	if err := s.Delete(1, "chapters/secret.md"); err == nil {
		t.Fatal("deleted through a symlink")
	}
	for _, f := range mustList(t, s) {
		if strings.Contains(f.Path, "secret") || strings.Contains(f.Path, "out/") {
			t.Fatalf("a link is listed: %v", f)
		}
	}
}

func mustList(t *testing.T, s *bookfs.Store) []bookfs.File {
	t.Helper()
	l, err := s.List(1)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// --- images ---------------------------------------------------------------

// gifBytes is a two-frame GIF; with meta, it also holds a comment and an
// XMP application extension (where GIFs keep metadata).
func gifBytes(t *testing.T, meta bool) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White}
	frame := func(c uint8) *image.Paletted {
		im := image.NewPaletted(image.Rect(0, 0, 4, 3), pal)
		for i := range im.Pix {
			im.Pix[i] = c
		}
		return im
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{frame(0), frame(1)}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !meta {
		return b
	}
	// After the header, the logical screen descriptor and the global
	// colour table if any: a comment and an XMP extension.
	at := 13
	if b[10]&0x80 != 0 {
		at += 3 << (b[10]&7 + 1)
	}
	extra := []byte("\x21\xFE\x0Bsecret note\x00")
	extra = append(extra, []byte("\x21\xFF\x0BXMP DataXMP\x14<x:gps>51.5N</x:gps>\x00")...)
	return append(append(append([]byte(nil), b[:at]...), extra...), b[at:]...)
}

func TestGIFMetadataIsStripped(t *testing.T) {
	s, _ := newStore(t, lim)
	if err := put(s, "assets/images/a.gif", gifBytes(t, true)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(s.Dir(1), "assets", "images", "a.gif"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"secret note", "51.5N", "XMP"} {
		if bytes.Contains(got, []byte(secret)) {
			t.Errorf("stored GIF still holds %q", secret)
		}
	}
	g, err := gif.DecodeAll(bytes.NewReader(got))
	if err != nil || len(g.Image) != 2 {
		t.Fatalf("stored GIF: %d frames, %v; want both frames", len(g.Image), err)
	}
	if !bytes.Equal(got, gifBytes(t, false)) {
		t.Errorf("stripping changed more than the metadata")
	}
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// jpegBytes encodes a small JPEG and inserts extra segments after SOI.
func jpegBytes(t *testing.T, segments [][]byte) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	var b bytes.Buffer
	jpeg.Encode(&b, img, nil)
	out := append([]byte{}, b.Bytes()[:2]...)
	for _, s := range segments {
		out = append(out, s...)
	}
	return append(out, b.Bytes()[2:]...)
}

func segment(marker byte, body []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(body)+2))
	return append(s, body...)
}

func TestJPEGMetadataStripped(t *testing.T) {
	s, dir := newStore(t, lim)
	gps := []byte("Exif\x00\x00 GPSLatitude 51.5007N GPSLongitude 0.1246W SerialNumber=XYZ")
	icc := []byte("ICC_PROFILE\x00\x01\x01profile-data")
	data := jpegBytes(t, [][]byte{
		segment(0xE1, gps),
		segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>home address</x:xmpmeta>")),
		segment(0xED, []byte("Photoshop 3.0\x00 IPTC city")),
		segment(0xFE, []byte("a comment with a name")),
		segment(0xE2, icc),
		segment(0xE2, []byte("MPF\x00 second picture")),
	})
	if err := put(s, "assets/images/photo.jpg", data); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "assets", "images", "photo.jpg"))
	for _, leak := range []string{"GPS", "Exif", "xmpmeta", "IPTC", "comment", "MPF"} {
		if bytes.Contains(got, []byte(leak)) {
			t.Errorf("stripped JPEG still contains %q", leak)
		}
	}
	if !bytes.Contains(got, icc) {
		t.Error("the colour profile was removed")
	}
	if _, err := jpeg.Decode(bytes.NewReader(got)); err != nil {
		t.Fatalf("stripped JPEG does not decode: %v", err)
	}
	// Lossless: the image data is byte for byte the original's.
	orig := jpegBytes(t, nil)
	sos := bytes.Index(orig, []byte{0xFF, 0xDA})
	if !bytes.HasSuffix(got, orig[sos:]) {
		t.Error("the compressed image data changed")
	}
}

func TestPNGMetadataStripped(t *testing.T) {
	s, dir := newStore(t, lim)
	data := insertChunk(pngBytes(t), "eXIf", []byte("MM\x00* GPS 51.5N"))
	data = insertChunk(data, "tEXt", []byte("Author\x00Jane at 1 Home Street"))
	if err := put(s, "assets/images/x.png", data); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "assets", "images", "x.png"))
	if bytes.Contains(got, []byte("GPS")) || bytes.Contains(got, []byte("Home Street")) {
		t.Fatal("PNG metadata kept")
	}
	if _, err := png.Decode(bytes.NewReader(got)); err != nil {
		t.Fatalf("stripped PNG does not decode: %v", err)
	}
}

// insertChunk adds a chunk right after IHDR.
func insertChunk(p []byte, typ string, data []byte) []byte {
	ihdrEnd := 8 + 8 + 13 + 4
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	crc := crc32.NewIEEE()
	crc.Write(c[4:])
	c = binary.BigEndian.AppendUint32(c, crc.Sum32())
	return append(append(append([]byte{}, p[:ihdrEnd]...), c...), p[ihdrEnd:]...)
}

// TestDecompressionBomb: a tiny PNG that claims 100,000 × 100,000 pixels
// is refused from its header, without decoding.
func TestDecompressionBomb(t *testing.T) {
	s, _ := newStore(t, lim)
	p := pngBytes(t)
	ihdr := p[16 : 16+13]
	binary.BigEndian.PutUint32(ihdr[0:], 100000)
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	crc := crc32.NewIEEE()
	crc.Write(p[12 : 16+13])
	binary.BigEndian.PutUint32(p[16+13:], crc.Sum32())
	if err := put(s, "assets/images/bomb.png", p); code(err) != bindery.EUNPROCESSABLE || !strings.Contains(err.Error(), "million pixels") {
		t.Fatalf("bomb: %v", err)
	}
}

// --- EPUB containers ------------------------------------------------------

type entry struct {
	name    string
	body    string
	method  uint16
	symlink bool
}

func epubBytes(t *testing.T, entries []entry) []byte {
	t.Helper()
	if entries == nil {
		entries = []entry{{name: "mimetype", body: "application/epub+zip", method: zip.Store}, {name: "META-INF/container.xml", body: "<container/>"}}
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: e.method}
		if e.symlink {
			h.SetMode(os.ModeSymlink | 0o777)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	zw.Close()
	return b.Bytes()
}

func TestEPUBContainerChecks(t *testing.T) {
	s, _ := newStore(t, lim)
	mt := entry{name: "mimetype", body: "application/epub+zip", method: zip.Store}
	for name, entries := range map[string][]entry{
		"zip slip":           {mt, {name: "../../etc/cron.d/x", body: "x"}},
		"absolute path":      {mt, {name: "/etc/passwd", body: "x"}},
		"backslash":          {mt, {name: `..\..\x`, body: "x"}},
		"symlink":            {mt, {name: "OEBPS/link", body: "/etc/passwd", symlink: true}},
		"compressed type":    {{name: "mimetype", body: "application/epub+zip", method: zip.Deflate}},
		"wrong type":         {{name: "mimetype", body: "application/zip", method: zip.Store}},
		"mimetype not first": {{name: "a.txt", body: "x"}, mt},
	} {
		if err := put(s, "sources/"+strings.ReplaceAll(name, " ", "-")+".epub", epubBytes(t, entries)); code(err) != bindery.EUNSUPPORTED {
			t.Errorf("%s: %v, want unsupported", name, err)
		}
	}
}

func TestGetAndDelete(t *testing.T) {
	s, _ := newStore(t, lim)
	if err := put(s, "chapters/1.md", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	f, info, err := s.Get(1, "chapters/1.md")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(f)
	f.Close()
	if string(body) != "hello" || info.ContentType != "text/markdown; charset=utf-8" || info.Size != 5 {
		t.Fatalf("Get = %q %+v", body, info)
	}
	if _, _, err := s.Get(1, "chapters"); code(err) != bindery.ENOTFOUND {
		t.Fatalf("Get of a folder: %v", err)
	}
	if err := s.Delete(1, "chapters/1.md"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(1, "chapters/1.md"); code(err) != bindery.ENOTFOUND {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Open(99); code(err) != bindery.ENOTFOUND {
		t.Fatalf("unknown book: %v", err)
	}
}

// TestBundledExampleIsAccepted: every file of examples/lighthouse's book
// (its metadata, chapters and assets, stylesheet included) is accepted by
// the server's upload checks, as bindery build accepts it.
func TestBundledExampleIsAccepted(t *testing.T) {
	s, _ := newStore(t, lim)
	src := filepath.Join("..", "..", "examples", "lighthouse")
	n := 0
	for _, top := range []string{"metadata.yaml", "chapters", "assets"} {
		err := filepath.WalkDir(filepath.Join(src, top), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := put(s, filepath.ToSlash(rel), data); err != nil {
				t.Errorf("Put(%s) = %v", rel, err)
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 6 {
		t.Fatalf("only %d files found in %s", n, src)
	}
}

// TestQuotaCountsOutputsAndUploadsUnderWay: a book's byte limit counts the
// files its runs produced (CountOutputs) and other uploads' temporary
// files, not only its own files.
func TestQuotaCountsOutputsAndUploadsUnderWay(t *testing.T) {
	s, dir := newStore(t, bookfs.Limits{MaxFileBytes: 1000, MaxFiles: 10, MaxBookBytes: 1000})
	s.CountOutputs(func(id int64) (int64, error) { return 600, nil })
	if err := put(s, "chapters/a.md", bytes.Repeat([]byte("a"), 500)); code(err) != bindery.ETOOLARGE {
		t.Fatalf("500 bytes beside 600 of run files in a 1000-byte book: %v", err)
	}
	if err := put(s, "chapters/a.md", bytes.Repeat([]byte("a"), 300)); err != nil {
		t.Fatalf("300 bytes: %v", err)
	}
	s.CountOutputs(nil)
	if err := os.WriteFile(filepath.Join(dir, "chapters", ".upload-00ff00ff00ff00ff"), bytes.Repeat([]byte("x"), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := put(s, "chapters/b.md", bytes.Repeat([]byte("b"), 300)); code(err) != bindery.ETOOLARGE {
		t.Fatalf("300 + 300 + 500 under way in a 1000-byte book: %v", err)
	}
	if err := put(s, "chapters/b.md", bytes.Repeat([]byte("b"), 150)); err != nil {
		t.Fatalf("a file that fits beside the upload under way: %v", err)
	}
}

// pngHeader is the start of a PNG of w × h pixels: enough for the header
// checks, which never decode the image.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}

// TestImagePixelLimits: a PNG over 16 megapixels (decoded in full for the
// PDF) is refused at upload with the build's words; a JPEG may be larger.
func TestImagePixelLimits(t *testing.T) {
	s, _ := newStore(t, lim)
	err := put(s, "assets/images/huge.png", pngHeader(5000, 5000))
	if code(err) != bindery.EUNPROCESSABLE || !strings.Contains(bindery.ErrorMessage(err), "at most 16 million pixels are accepted for PNG images") {
		t.Errorf("a 25-megapixel PNG: %v", err)
	}
}
