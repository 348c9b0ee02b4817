package ideogram

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/manuscript"
)

func TestRenderCoverIsDeterministic(t *testing.T) {
	a, err := RenderCover(frankenstein, DefaultCoverWidth, DefaultCoverHeight)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RenderCover(frankenstein, DefaultCoverWidth, DefaultCoverHeight)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same cover differ")
	}
	img, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != image.Pt(DefaultCoverWidth, DefaultCoverHeight) {
		t.Errorf("size = %v", got)
	}
	other, _ := RenderCover(manuscript.Metadata{Title: "Dracula"}, 400, 600)
	small, _ := RenderCover(frankenstein, 400, 600)
	if bytes.Equal(other, small) {
		t.Error("different titles give the same cover")
	}
}

// TestRenderCoverFitsOddTitles renders hostile and awkward metadata and
// checks that nothing panics, the result is a PNG of the right size, and no
// ink falls outside the frame's margin (the text was fitted, not clipped).
func TestRenderCoverFitsOddTitles(t *testing.T) {
	long := strings.Repeat("Supercalifragilisticexpialidocious ", 400)
	for name, md := range map[string]manuscript.Metadata{
		"empty":       {},
		"very long":   {Title: long, Subtitle: long, Authors: []string{long, long, long, long, long, long}},
		"one word":    {Title: strings.Repeat("W", 500)},
		"rtl":         {Title: "ספר הזוהר", Subtitle: "كتاب ألف ليلة وليلة", Authors: []string{"אנונימי"}},
		"mixed rtl":   {Title: "The שלום Book", Authors: []string{"Ἀριστοτέλης"}},
		"emoji":       {Title: "Cats 🐈‍⬛ & Dogs 🐕‍🦺 👩🏽‍🚀", Authors: []string{"🙂"}},
		"zalgo":       {Title: "Z" + strings.Repeat("\u0301\u0302\u0303", 300) + "algo"},
		"controls":    {Title: "Tab\tNew\nline\x00\u202eevil\u2066", Subtitle: "\xff\xfe invalid utf8"},
		"cjk":         {Title: "吾輩は猫である", Authors: []string{"夏目漱石"}},
		"spaces only": {Title: "   \u00a0\u3000  ", Authors: []string{"", "  "}},
	} {
		t.Run(name, func(t *testing.T) {
			const w, h = 300, 450
			data, err := RenderCover(md, w, h)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
				t.Fatalf("size = %v", img.Bounds())
			}
			p := img.(*image.Paletted)
			// The outer margin, up to just before the frame, must be bare.
			m := int(0.04 * w)
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					if (x < m || x >= w-m || y < m || y >= h-m) && p.ColorIndexAt(x, y) != 0 {
						t.Fatalf("ink at (%d,%d), in the margin", x, y)
					}
				}
			}
		})
	}
}

func TestRenderCoverRefusesBadSizes(t *testing.T) {
	for _, s := range [][2]int{{0, 0}, {-1, 600}, {MinCoverSide - 1, 600}, {600, MaxCoverSide + 1}, {math.MaxInt32, 10}} {
		if _, err := RenderCover(frankenstein, s[0], s[1]); bindery.ErrorCode(err) != bindery.EINVALID {
			t.Errorf("RenderCover(%d×%d) err = %v", s[0], s[1], err)
		}
	}
}

// TestCoverColoursAreReadable checks the contrast of the ink on the
// background for many titles against WCAG's 7:1 (AAA).
func TestCoverColoursAreReadable(t *testing.T) {
	for i := range 2000 {
		bg := coverColour(strings.Repeat("x", i))
		if ratio := contrast(ink, bg); ratio < 7 {
			t.Fatalf("title %d: background %v gives contrast %.2f", i, bg, ratio)
		}
	}
	if coverColour("Dracula") != coverColour(" Dracula ") {
		t.Error("the colour depends on surrounding spaces")
	}
}

func TestAltText(t *testing.T) {
	for _, tc := range []struct{ title, summary, want string }{
		{"Dune", "A desert planet. Spice.", "Cover illustration for “Dune”: A desert planet."},
		{"Dune", "", "Cover illustration for “Dune”"},
		{"", "A desert planet", "Cover illustration: A desert planet"},
		{"", "", "Cover illustration"},
		{"Evil\u202e\x00Title", "x", "Cover illustration for “Evil Title”: x"},
	} {
		if got := AltText(tc.title, tc.summary); got != tc.want {
			t.Errorf("AltText(%q, %q) = %q, want %q", tc.title, tc.summary, got, tc.want)
		}
	}
	long := AltText(strings.Repeat("title ", 100), strings.Repeat("summary ", 100))
	if n := utf8.RuneCountInString(long); n > MaxAltTextRunes || !strings.HasSuffix(long, "…") {
		t.Errorf("long alt text has %d runes: %q", n, long)
	}
	if got := LocalCoverAltText(manuscript.Metadata{Authors: []string{"A", "B", "C", "D", "E"}}); got != "Cover of “Untitled”, by A, B, C, D et al.: the title set in serif type on a plain background" {
		t.Errorf("LocalCoverAltText = %q", got)
	}
}
