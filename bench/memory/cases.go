package main

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/bindery/bindery/internal/manuscript"
)

// Case is one worst-case book.
type Case struct {
	Name  string
	About string
	write func(dir string) error
}

// Write writes the case's book folder into parent/Name.
func (c Case) Write(parent string) error {
	dir := filepath.Join(parent, c.Name)
	if err := os.MkdirAll(filepath.Join(dir, "chapters"), 0o755); err != nil {
		return err
	}
	meta := "title: " + c.Name + "\nauthor: A. Writer\nlanguage: en\n"
	if err := os.WriteFile(filepath.Join(dir, "metadata.yaml"), []byte(meta), 0o644); err != nil {
		return err
	}
	return c.write(dir)
}

var lim = manuscript.DefaultLimits

// Cases are the inputs at the default limits.
var Cases = []Case{
	{"paragraph", "one paragraph of 512 KiB, the longest accepted", func(dir string) error {
		return chapter(dir, "01-long.md", "# Long\n\n"+prose(lim.MaxParagraphBytes-64, false))
	}},
	{"text", fmt.Sprintf("%d chapters holding %d MiB together, the most accepted", lim.MaxChapters, lim.MaxBookTextBytes>>20), func(dir string) error {
		per := int(lim.MaxBookTextBytes)/lim.MaxChapters - 64
		for i := range lim.MaxChapters {
			if err := chapter(dir, fmt.Sprintf("%04d-c.md", i), fmt.Sprintf("# Chapter %d\n\n", i+1)+prose(per, true)); err != nil {
				return err
			}
		}
		return nil
	}},
	{"chapter", fmt.Sprintf("one chapter of %d MiB, the largest accepted", lim.MaxChapterBytes>>20), func(dir string) error {
		return chapter(dir, "01-big.md", "# Big\n\n"+prose(int(lim.MaxChapterBytes)-64, true))
	}},
	{"png", "a 16-megapixel PNG, 16 bits a channel with alpha (8 bytes a pixel decoded)", func(dir string) error {
		return picture(dir, "big.png", func(f *os.File) error {
			return png.Encode(f, gradient64(4000, 4000))
		})
	}},
	{"jpeg", "a 50-megapixel JPEG", func(dir string) error {
		return picture(dir, "big.jpg", func(f *os.File) error {
			return jpeg.Encode(f, gradient(8660, 5773), &jpeg.Options{Quality: 60})
		})
	}},
}

func chapter(dir, name, body string) error {
	return os.WriteFile(filepath.Join(dir, "chapters", name), []byte(body), 0o644)
}

// prose returns n bytes of words, in paragraphs of some 600 bytes when
// paras is set, else in one paragraph.
func prose(n int, paras bool) string {
	words := strings.Fields("the keeper climbed the hundred and twelve steps of the light each evening and wound the clockwork that turned the great lens while the sea below broke white against the skerry and the gulls went quiet")
	var b strings.Builder
	for i := 0; b.Len() < n-16; i++ {
		b.WriteString(words[i%len(words)])
		if paras && i%100 == 99 {
			b.WriteString(".\n\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String() + "\n"
}

func picture(dir, name string, encode func(*os.File) error) error {
	p := filepath.Join(dir, "assets", "images", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if err := encode(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return chapter(dir, "01-picture.md", "# Picture\n\nA picture follows.\n\n![The picture](../assets/images/"+name+")\n")
}

func gradient(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	return img
}

func gradient64(w, h int) image.Image {
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 16), uint16(y * 16), uint16(x*y) | 1, 0xC000}) // #nosec G115 -- a test pattern: wrapping is wanted
		}
	}
	return img
}
