package ideogram_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"

	"github.com/bindery/bindery/internal/ideogram"
	"github.com/bindery/bindery/internal/manuscript"
)

func ExampleAltText() {
	fmt.Println(ideogram.AltText("Moby-Dick", "A white whale breaching a stormy sea at dawn. Woodcut style."))
	// Output: Cover illustration for “Moby-Dick”: A white whale breaching a stormy sea at dawn.
}

func ExampleRenderCover() {
	meta := manuscript.Metadata{Title: "Moby-Dick", Subtitle: "or, The Whale", Authors: []string{"Herman Melville"}}
	data, err := ideogram.RenderCover(meta, 400, 600)
	if err != nil {
		fmt.Println(err)
		return
	}
	img, _ := png.Decode(bytes.NewReader(data))
	again, _ := ideogram.RenderCover(meta, 400, 600)
	fmt.Println(img.Bounds().Dx(), img.Bounds().Dy(), bytes.Equal(data, again))
	// Output: 400 600 true
}

func ExampleKeySource_Status() {
	getenv := map[string]string{
		"IDEOGRAM_API_KEY_V1":              "old-secret-value",
		"IDEOGRAM_API_KEY_V2":              "new-secret-value",
		"IDEOGRAM_API_KEY_CURRENT_VERSION": "v2",
	}
	ks, err := ideogram.NewKeySource(func(k string) string { return getenv[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	st := ks.Status()
	fmt.Println(st.Configured, st.Version, st.Versions)
	k, _ := ks.Key()
	fmt.Println(k) // a Key prints without its value
	// Output:
	// true v2 [v1 v2]
	// ideogram key v2 [REDACTED]
}

func ExampleGenerator_Cover() {
	dir, _ := os.MkdirTemp("", "covers")
	defer os.RemoveAll(dir)
	// No key configured: the cover is drawn locally and the run goes on.
	g, err := ideogram.NewGenerator(ideogram.GeneratorOptions{CacheDir: dir, CoverWidth: 400, CoverHeight: 600})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()
	im, err := g.Cover(context.Background(), manuscript.Metadata{Title: "Walden", Authors: []string{"Henry David Thoreau"}})
	fmt.Println(im.Source, im.MIME, err)
	fmt.Println(im.AltText)
	// Output:
	// local image/png <nil>
	// Cover of “Walden”, by Henry David Thoreau: the title set in serif type on a plain background
}

func ExampleRequest_CacheKey() {
	a := ideogram.Request{Prompt: "A lighthouse at dusk", AspectRatio: "2:3"}
	b := ideogram.Request{Prompt: "A lighthouse at dusk", AspectRatio: "2x3", RenderingSpeed: "turbo"}
	fmt.Println(a.CacheKey() == b.CacheKey(), len(a.CacheKey()))
	// Output: true 64
}
