package bookfs_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
)

// The WebP files in testdata/webp were made with Debian's webp tools from
// two 32 × 24 gradients (one opaque, one with alpha):
//
//	cwebp -q 60 opaque.png -o lossy.webp          # VP8
//	cwebp -lossless opaque.png -o lossless.webp   # VP8L
//	cwebp -q 60 alpha.png -o alpha.webp           # VP8X, ALPH, VP8
//	cwebp -lossless alpha.png -o alpha-lossless.webp
//	webpmux -set icc|exif|xmp … alpha.webp → meta.webp  # + ICCP, EXIF, XMP
//	img2webp -loop 0 -lossy opaque.png -d 100 alpha.png -o anim.webp
//
// meta.webp's metadata all hold the word SECRET.
func webpFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "webp", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// riffWebP builds a WebP container of the given chunks (FourCC, payload).
func riffWebP(chunks ...[2]string) []byte {
	body := []byte("WEBP")
	for _, c := range chunks {
		var h [8]byte
		copy(h[:4], c[0])
		binary.LittleEndian.PutUint32(h[4:], uint32(len(c[1])))
		body = append(append(body, h[:]...), c[1]...)
		if len(c[1])%2 == 1 {
			body = append(body, 0)
		}
	}
	out := []byte("RIFF\x00\x00\x00\x00")
	binary.LittleEndian.PutUint32(out[4:], uint32(len(body)))
	return append(out, body...)
}

// payload returns the payload of chunk id in a WebP file.
func payload(t *testing.T, data []byte, id string) string {
	t.Helper()
	for off := 12; off+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[off+4:]))
		if string(data[off:off+4]) == id {
			return string(data[off+8 : off+8+n])
		}
		off += 8 + n + n%2
	}
	t.Fatalf("no %q chunk", id)
	return ""
}

func TestWebPAccepted(t *testing.T) {
	s, dir := newStore(t, lim)
	for _, name := range []string{"lossy.webp", "lossless.webp", "alpha.webp", "alpha-lossless.webp", "meta.webp"} {
		data := webpFile(t, name)
		if err := put(s, "assets/images/"+name, data); err != nil {
			t.Errorf("Put(%s) = %v", name, err)
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, "assets", "images", name))
		if err != nil {
			t.Fatal(err)
		}
		if name != "meta.webp" && !bytes.Equal(got, data) {
			t.Errorf("%s without metadata was changed on the way in", name)
		}
	}
	// A bare name goes with the other images.
	if k, err := bookfs.KindOf("x.WEBP"); err != nil || bookfs.Placement("x.WEBP", k) != "assets/images/x.WEBP" || k.ContentType != "image/webp" {
		t.Errorf("KindOf/Placement of a .webp: %+v, %v", k, err)
	}
}

func TestWebPMetadataStripped(t *testing.T) {
	s, dir := newStore(t, lim)
	in := webpFile(t, "meta.webp")
	if !bytes.Contains(in, []byte("SECRET")) || in[20]&(1<<5|1<<3|1<<2) == 0 {
		t.Fatal("the fixture has lost its metadata")
	}
	if err := put(s, "assets/images/meta.webp", in); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "assets", "images", "meta.webp"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"SECRET", "Exif", "xmpmeta", "ICCP", "EXIF", "XMP "} {
		if bytes.Contains(got, []byte(secret)) {
			t.Errorf("the stored WebP still holds %q", secret)
		}
	}
	// What is left is exactly the image meta.webp was made from: VP8X
	// with only the alpha flag (ICC, EXIF and XMP flags cleared), ALPH,
	// VP8, and a RIFF size that matches.
	if want := webpFile(t, "alpha.webp"); !bytes.Equal(got, want) {
		t.Errorf("stripped meta.webp (%d bytes) differs from alpha.webp (%d bytes)", len(got), len(want))
	}
	if flags := payload(t, got, "VP8X")[0]; flags != 1<<4 {
		t.Errorf("VP8X flags %#x, want only alpha (0x10)", flags)
	}
	if n := binary.LittleEndian.Uint32(got[4:8]); int(n) != len(got)-8 {
		t.Errorf("RIFF size %d for a %d-byte file", n, len(got))
	}
	// StoredHash (bindery push) agrees with what Put stored.
	f, err := os.Open(filepath.Join("testdata", "webp", "meta.webp"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := bookfs.StoredHash(f, "assets/images/meta.webp")
	if err != nil {
		t.Fatal(err)
	}
	hashes, _ := s.Hashes(t.Context(), 1)
	if hashes["assets/images/meta.webp"] != h {
		t.Errorf("StoredHash %s, stored file %s", h, hashes["assets/images/meta.webp"])
	}
}

func TestWebPRefused(t *testing.T) {
	lossy := webpFile(t, "lossy.webp")
	vp8 := payload(t, lossy, "VP8 ")
	huge := string([]byte{0, 0, 0, 0, 0x87, 0x13, 0, 0x87, 0x13, 0}) // 5000 × 5000 canvas
	cases := []struct {
		name string
		data []byte
		code string
		msg  string
	}{
		{"animated", webpFile(t, "anim.webp"), bindery.EUNPROCESSABLE, "animated WebP images are not accepted"},
		{"truncated", lossy[:len(lossy)-40], bindery.EUNSUPPORTED, "The content is not a valid webp file: its RIFF size does not match the file."},
		{"corrupt image data", append(append([]byte{}, lossy[:40]...), bytes.Repeat([]byte{0xA5}, len(lossy)-40)...), bindery.EUNSUPPORTED, "The content is not a valid webp file"},
		{"not a WebP", pngBytes(t), bindery.EUNSUPPORTED, "its header is not a WebP header"},
		{"two images", riffWebP([2]string{"VP8 ", vp8}, [2]string{"VP8 ", vp8}), bindery.EUNSUPPORTED, "it holds more than one image"},
		{"too many pixels", riffWebP([2]string{"VP8X", huge}, [2]string{"VP8 ", vp8}), bindery.EUNPROCESSABLE, "the image is 5000 × 5000 pixels; at most 16 million pixels are accepted for WebP images"},
	}
	s, dir := newStore(t, lim)
	for _, tc := range cases {
		err := put(s, "assets/images/x.webp", tc.data)
		if code(err) != tc.code || !strings.Contains(bindery.ErrorMessage(err), tc.msg) {
			t.Errorf("%s: Put = %v (%s), want %s with %q", tc.name, err, code(err), tc.code, tc.msg)
		}
	}
	noTemporaryFiles(t, dir)
	if list, _ := s.List(1); len(list) != 0 {
		t.Errorf("refused files were stored: %+v", list)
	}
}

// TestWebPInArchive: an imported book's WebP images get the checks and
// the stripping of single uploads; a refusal names the entry.
func TestWebPInArchive(t *testing.T) {
	s, _ := newStore(t, lim)
	book := append(smallBook, member{name: "assets/images/meta.webp", body: string(webpFile(t, "meta.webp"))})
	st, err := s.Stage(t.Context(), bytes.NewReader(tarGzOf(t, book...)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	got, err := st.ReadFile("assets/images/meta.webp")
	if err != nil || !bytes.Equal(got, webpFile(t, "alpha.webp")) {
		t.Errorf("the imported WebP is not the stripped image (%d bytes, %v)", len(got), err)
	}
	anim := append(smallBook, member{name: "assets/images/anim.webp", body: string(webpFile(t, "anim.webp"))})
	_, err = s.Stage(t.Context(), bytes.NewReader(zipOf(t, anim...)))
	if code(err) != bindery.EUNPROCESSABLE || !strings.Contains(bindery.ErrorMessage(err), "animated WebP images are not accepted") ||
		!strings.Contains(bindery.ErrorMessage(err), "(archive entry assets/images/anim.webp)") {
		t.Errorf("Stage of an animated WebP = %v", err)
	}
}
