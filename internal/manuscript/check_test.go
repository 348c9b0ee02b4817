package manuscript_test

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
)

func TestCheck(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":        "date: May 1831\nlanguage: not a tag!\ncover: missing.jpg\n",
		"assets/images/a.png":  mt.PNG,
		"assets/images/b.png":  "not a png",
		"chapters/01-start.md": "# Start\n\n![](../assets/images/a.png)\n\n![b](../assets/images/b.png)\n\n![c](nowhere.png)\n\n#### Deep\n",
		"chapters/02-links.md": "# Links\n\n[ok](01-start.md#start) [bad id](01-start.md#nope) [gone](03-gone.md)\n[out](../../x.md) [js](javascript:alert(1))\n[file](../assets/images/a.png)\n",
		"chapters/03-empty.md": "---\ntitle: Empty\n---\n\n",
	})
	var got []string
	for _, p := range manuscript.Check(m) {
		got = append(got, p.String())
	}
	want := []string{
		"metadata.yaml: title is missing",
		"metadata.yaml: warning: author is missing",
		`metadata.yaml: language "not a tag!" is not a BCP 47 language tag`,
		`metadata.yaml: warning: date "May 1831" is not in W3C date format (YYYY, YYYY-MM or YYYY-MM-DD) and is left out`,
		`metadata.yaml: cover "missing.jpg": no such file in the book folder`,
		`chapters/01-start.md:3: warning: image "../assets/images/a.png" has no alt text`,
		`chapters/01-start.md:5: image "../assets/images/b.png": not a JPEG, PNG, GIF or WebP image (by extension and content)`,
		`chapters/01-start.md:7: image "nowhere.png": no such file in the book folder`,
		"chapters/01-start.md:9: warning: heading level jumps from h1 to h4",
		`chapters/02-links.md:3: warning: link "01-start.md#nope": no heading with id "nope" in chapters/01-start.md`,
		`chapters/02-links.md:3: broken link "03-gone.md": no such file in the book folder`,
		`chapters/02-links.md:4: broken link "../../x.md": points outside the book folder`,
		`chapters/02-links.md:4: link "javascript:alert(1)": URL scheme not allowed (only http, https, mailto and paths inside the book); it is removed`,
		`chapters/02-links.md:5: warning: link "../assets/images/a.png" is not a chapter; it is removed from the outputs`,
		"chapters/03-empty.md:4: warning: chapter is empty",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Check:\n got %q\nwant %q", got, want)
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Logf("first difference at %d:\n got %s\nwant %s", i, g, w)
				break
			}
		}
	}
	if !manuscript.HasErrors(manuscript.Check(m)) {
		t.Error("HasErrors = false")
	}
}

// TestCheckStylesheet: the book's stylesheet meets the rules of uploads,
// reported at its own line.
func TestCheckStylesheet(t *testing.T) {
	for _, tc := range []struct{ css, want string }{
		{"body { margin: 0 }\n@font-face { src: url(../fonts/a.ttf) }\n", ""},
		{"body { margin: 0 }\n\np { background: url(https://tracker.example/p.gif) }\n",
			"assets/css/book.css:3: the stylesheet is refused: url(https://tracker.example/p.gif) is not a file of the book; remote and data: URLs are refused"},
		{"@import 'more.css';\n", "assets/css/book.css:1: the stylesheet is refused: @import is not supported: put every rule in this one stylesheet"},
	} {
		m := mt.MustLoad(t, map[string]string{
			"metadata.yaml":        "title: T\nauthor: A\nepub:\n  stylesheet: assets/css/book.css\n",
			"assets/css/book.css":  tc.css,
			"chapters/01-start.md": "# Start\n\nText.\n",
		})
		var got []string
		for _, p := range manuscript.Check(m) {
			if p.Severity == manuscript.SeverityError {
				got = append(got, p.String())
			}
		}
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("css %q: problems %q, want none", tc.css, got)
		case tc.want != "" && !slices.Contains(got, tc.want):
			t.Errorf("css %q: problems %q, want %q", tc.css, got, tc.want)
		}
	}
}

// TestCheckUndefinedFootnotes: a reference to a footnote the chapter does
// not define is an error at its line (it would print as "[^b]"); defined,
// escaped and code ones are not reported.
func TestCheckUndefinedFootnotes(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":        "title: T\nauthor: A\nlanguage: en\n",
		"chapters/01-notes.md": "# Notes\n\nA defined note[^a] and an undefined one[^b].\n\nEscaped \\[^c] is text, and `[^d]` is code.\n\n- an item with *emphasis* and [^e]\n\n[^a]: The note.\n",
	})
	var got []string
	for _, p := range manuscript.Check(m) {
		got = append(got, p.String())
	}
	want := []string{
		`chapters/01-notes.md:3: footnote [^b] is not defined: add a line "[^b]: the note" to this chapter`,
		`chapters/01-notes.md:7: footnote [^e] is not defined: add a line "[^e]: the note" to this chapter`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Check:\n got %q\nwant %q", got, want)
	}
}

// TestCheckPixelLimits: a PNG over 16 megapixels is an error at its line,
// in the words of uploads (manuscript.PixelProblem).
func TestCheckPixelLimits(t *testing.T) {
	ihdr := []byte{0, 0, 0x13, 0x88, 0, 0, 0x13, 0x88, 8, 2, 0, 0, 0} // 5000 × 5000, 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"), chunk...)
	png = binary.BigEndian.AppendUint32(png, crc32.ChecksumIEEE(chunk))
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":         "title: T\nauthor: A\nlanguage: en\n",
		"assets/images/big.png": string(png),
		"chapters/01.md":        "# One\n\n![A big one](../assets/images/big.png)\n",
	})
	var got []string
	for _, p := range manuscript.Check(m) {
		got = append(got, p.String())
	}
	want := `chapters/01.md:3: image "../assets/images/big.png": the image is 5000 × 5000 pixels; at most 16 million pixels are accepted for PNG images`
	if !slices.Contains(got, want) {
		t.Errorf("Check = %q, want %q", got, want)
	}
}

// TestCheckWebPPixelLimit: a WebP is decoded in full for the PDF, so it
// has the PNG limit, read from its header (here a VP8X canvas).
func TestCheckWebPPixelLimit(t *testing.T) {
	vp8x := "VP8X\x0a\x00\x00\x00\x00\x00\x00\x00\x87\x13\x00\x87\x13\x00" // 5000 × 5000 canvas
	webp := "RIFF\x1e\x00\x00\x00WEBP" + vp8x + "VP8 \x00\x00\x00\x00"
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":          "title: T\nauthor: A\nlanguage: en\n",
		"assets/images/big.webp": webp,
		"chapters/01.md":         "# One\n\n![A big one](../assets/images/big.webp)\n",
	})
	var got []string
	for _, p := range manuscript.Check(m) {
		got = append(got, p.String())
	}
	want := `chapters/01.md:3: image "../assets/images/big.webp": the image is 5000 × 5000 pixels; at most 16 million pixels are accepted for WebP images`
	if !slices.Contains(got, want) {
		t.Errorf("Check = %q, want %q", got, want)
	}
}
