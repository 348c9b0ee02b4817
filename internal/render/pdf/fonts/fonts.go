// Package fonts holds the font programs the PDF renderer embeds: Noto Serif
// (regular, italic, bold, bold italic) and Liberation Mono, all under the
// SIL Open Font License (see README.md and the *-LICENSE.txt files).
//
// The files are stored gzip-compressed and decompressed once, on first use.
package fonts

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"sync"
)

//go:embed *.ttf.gz
var files embed.FS

// Style names one of the embedded fonts.
type Style int

// The embedded fonts.
const (
	Regular Style = iota
	Italic
	Bold
	BoldItalic
	Mono
	numStyles
)

var fileNames = [numStyles]string{
	Regular:    "NotoSerif-Regular.ttf.gz",
	Italic:     "NotoSerif-Italic.ttf.gz",
	Bold:       "NotoSerif-Bold.ttf.gz",
	BoldItalic: "NotoSerif-BoldItalic.ttf.gz",
	Mono:       "LiberationMono-Regular.ttf.gz",
}

var (
	once  [numStyles]sync.Once
	cache [numStyles][]byte
)

// TTF returns the TrueType font program of style s. The slice is shared:
// callers must not modify it. It panics for an unknown style or if the
// embedded data is corrupt, which the package tests rule out.
func TTF(s Style) []byte {
	once[s].Do(func() {
		gz, err := files.ReadFile(fileNames[s])
		if err != nil {
			panic("fonts: " + err.Error())
		}
		r, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			panic("fonts: " + err.Error())
		}
		data, err := io.ReadAll(r)
		if err != nil {
			panic("fonts: " + err.Error())
		}
		cache[s] = data
	})
	return cache[s]
}
