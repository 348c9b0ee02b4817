package pdf

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
)

const allBlocks = `---
title: Every Block
---

A paragraph with *emphasis*, **strong**, ~~struck~~, ` + "`code span`" + `, a [link](https://example.com/x)
and a footnote.[^1] Raw <span>inline</span> HTML is dropped.

<script>alert("never")</script>

## A Section

> A quotation that runs long enough to wrap onto a second line in the
> narrower measure of a block quote.

- first item
- second item with enough words to wrap around to a second line of the list item
  1. nested ordered

1. one
2. two

` + "```go\nfunc main() {\n\tfmt.Println(\"hello, world\") // a comment long enough to need wrapping in a narrow text block\n}\n```" + `

| Name | Value | Note |
| ---- | ----: | ---- |
| cellalpha | 42 | short |
| cellbeta | 7 | a longer note that wraps inside its cell |

![A caption under the picture](images/dot.png)

![Photo caption](images/photo.jpg)

![Missing image alt text](images/missing.png)

---

Back to [the section](#a-section) and to [chapter two](two.md).

[^1]: The footnote text, with *style*.
`

func testImages() func(string) ([]byte, error) {
	var pngBuf, jpgBuf bytes.Buffer
	img := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			img.Set(x, y, color.NRGBA{uint8(x * 2), uint8(y * 3), 200, uint8(128 + x)})
		}
	}
	png.Encode(&pngBuf, img)
	jpeg.Encode(&jpgBuf, img, nil)
	return func(p string) ([]byte, error) {
		switch p {
		case "images/dot.png":
			return pngBuf.Bytes(), nil
		case "images/photo.jpg":
			return jpgBuf.Bytes(), nil
		}
		return nil, errors.New("no such image")
	}
}

// TestAllBlocks renders every kind of block and checks the PDF is valid,
// carries the text of each, embeds the monospace font and both images,
// and never shows raw HTML.
func TestAllBlocks(t *testing.T) {
	b := &Book{Title: "Blocks", Authors: []string{"Tester"}, Images: testImages(), Chapters: []Chapter{
		{Markdown: []byte(allBlocks), ID: "one"},
		{Title: "Two", Markdown: []byte("Chapter two text."), ID: "two"},
	}}
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkGeometry(t, d)
	if got := d.chapters[0].title; got != "Every Block" {
		t.Errorf("title from front matter = %q", got)
	}
	dir := artifacts(t)
	path := renderFile(t, b, dir, "blocks.pdf")
	if out := runTool(t, "qpdf", "--check", path); !strings.Contains(out, "No syntax or stream encoding errors") {
		t.Errorf("qpdf:\n%s", out)
	}
	fonts := runTool(t, "pdffonts", path)
	if !strings.Contains(fonts, "LiberationMono") {
		t.Errorf("monospace font not embedded:\n%s", fonts)
	}
	if imgs := runTool(t, "pdfimages", "-list", path); strings.Count(imgs, "\n") < 2+2 {
		t.Errorf("want 2 images (+1 soft mask):\n%s", imgs)
	}
	txt := strings.Join(strings.Fields(runTool(t, "pdftotext", path, "-")), " ")
	for _, want := range []string{"emphasis", "strong", "struck", "code span", "A Section", "quotation",
		"first item", "nested ordered", "fmt.Println", "cellalpha", "cellbeta", "42", "A caption under the picture",
		"Missing image alt text", "The footnote text", "Chapter two text."} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	for _, never := range []string{"alert", "<span>", "script"} {
		if strings.Contains(txt, never) {
			t.Errorf("raw HTML %q reached the PDF", never)
		}
	}
	// Internal links resolve: the section, chapter two, the footnote.
	for _, dst := range []string{anchorDest(0, "a-section"), chapterDest(1), noteDest(0, 1), noteRefDest(0, 1)} {
		if _, ok := d.dests[dst]; !ok {
			t.Errorf("destination %q missing", dst)
		}
	}
	runTool(t, "pdftoppm", "-r", "72", "-png", "-f", "7", "-l", "8", path, dir+"/blocks")
}

func TestLinkResolve(t *testing.T) {
	l := linker{ci: 2, chapter: map[string]int{"01-intro": 0, "two": 1}}
	tests := []struct{ in, want string }{
		{"https://example.com", "https://example.com"},
		{"mailto:a@b.c", "mailto:a@b.c"},
		{"#here", "#c2-here"},
		{"01-intro.md", "#c0"},
		{"../chapters/01-intro.md#sec", "#c0-sec"},
		{"two.xhtml#x", "#c1-x"},
		{"nowhere.md", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := l.resolve(tt.in); got != tt.want {
			t.Errorf("resolve(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
