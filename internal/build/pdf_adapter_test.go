package build

import (
	"context"
	"encoding/binary"
	"github.com/bindery/bindery/internal/testkit"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
)

func TestPoints(t *testing.T) {
	for in, want := range map[string]float64{"": 0, "0.75in": 54, "2.54cm": 72, "25.4 mm": 72, "11pt": 11, "11": 11, " 1IN ": 72} {
		if got, err := points(in); err != nil || got < want-1e-9 || got > want+1e-9 {
			t.Errorf("points(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"wide", "-1in", "1e9pt", "in"} {
		if _, err := points(bad); err == nil {
			t.Errorf("points(%q) succeeded", bad)
		}
	}
}

// testFont returns a Liberation Serif style from render/pdf's test fonts.
func testFont(tb testing.TB, style string) []byte {
	return testkit.Gunzip(tb, "../render/pdf/testdata/fonts/LiberationSerif-"+style+".ttf.gz")
}

// fontBook writes a one-chapter book folder whose metadata.yaml names
// font_family, with files (slash paths) in it and the symbolic link
// link[0] to link[1] if set, and loads it.
func fontBook(tb testing.TB, family string, files map[string][]byte, link ...string) *manuscript.Manuscript {
	tb.Helper()
	dir := tb.TempDir()
	files["metadata.yaml"] = []byte("title: Fonts\npdf:\n  font_family: \"" + family + "\"\n")
	files["chapters/01-one.md"] = []byte("# One\n\nSome *italic* and **bold** text.\n")
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	if len(link) == 2 {
		p := filepath.Join(dir, filepath.FromSlash(link[0]))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.Symlink(link[1], p); err != nil {
			tb.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { root.Close() })
	m, err := manuscript.Load(root)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestFontFamily: pdf.font_family finds a family by name under
// assets/fonts, by folder, by the start of its file names or by its
// regular file, with the styles it has.
func TestFontFamily(t *testing.T) {
	reg, it := testFont(t, "Regular"), testFont(t, "Italic")
	inFolder := map[string][]byte{"assets/fonts/LiberationSerif/LiberationSerif-Regular.ttf": reg, "assets/fonts/LiberationSerif/LiberationSerif-Italic.ttf": it}
	tests := []struct {
		name   string
		family string
		files  map[string][]byte
		want   [4]string // regular, italic, bold, bold italic
	}{
		{"name", "Liberation Serif", inFolder, [4]string{"assets/fonts/LiberationSerif/LiberationSerif-Regular.ttf", "assets/fonts/LiberationSerif/LiberationSerif-Italic.ttf"}},
		{"folder", "assets/fonts/LiberationSerif", inFolder, [4]string{"assets/fonts/LiberationSerif/LiberationSerif-Regular.ttf", "assets/fonts/LiberationSerif/LiberationSerif-Italic.ttf"}},
		{"name, flat", "LiberationSerif", map[string][]byte{"assets/fonts/LiberationSerif-Regular.ttf": reg, "assets/fonts/LiberationSerif-BoldItalic.otf": it},
			[4]string{"assets/fonts/LiberationSerif-Regular.ttf", "", "", "assets/fonts/LiberationSerif-BoldItalic.otf"}},
		{"prefix", "type/Tinos", map[string][]byte{"type/Tinos-Roman.TTF": reg, "type/Tinos-Bold.ttf": reg},
			[4]string{"type/Tinos-Roman.TTF", "", "type/Tinos-Bold.ttf"}},
		{"regular file", "type/Serif.ttf", map[string][]byte{"type/Serif.ttf": reg, "type/Serif-Italic.ttf": it},
			[4]string{"type/Serif.ttf", "type/Serif-Italic.ttf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fontBook(t, tt.family, tt.files)
			fam, err := fontFamily(m, m.Metadata.PDF.FontFamily)
			if err != nil {
				t.Fatal(err)
			}
			got := [4]string{fam.Regular.Name, fam.Italic.Name, fam.Bold.Name, fam.BoldItalic.Name}
			if got != tt.want {
				t.Errorf("styles = %q, want %q", got, tt.want)
			}
			if err := PDFRenderer().Render(context.Background(), io.Discard, m); err != nil {
				t.Errorf("renderPDF: %v", err)
			}
		})
	}
}

// cffFont is the start of an OpenType font with PostScript outlines.
func cffFont() []byte {
	b := []byte("OTTO\x00\x01\x00\x10\x00\x00\x00\x00")
	rec := make([]byte, 16)
	copy(rec, "CFF ")
	binary.BigEndian.PutUint32(rec[8:], 28)
	binary.BigEndian.PutUint32(rec[12:], 4)
	return append(append(b, rec...), 1, 0, 4, 2)
}

// TestFontFamilyErrors: every font problem is an error on metadata.yaml
// naming pdf.font_family and the file, and nothing outside the book
// folder is read.
func TestFontFamilyErrors(t *testing.T) {
	reg := testFont(t, "Regular")
	outside := filepath.Join(t.TempDir(), "Outside-Regular.ttf")
	if err := os.WriteFile(outside, reg, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		family string
		files  map[string][]byte
		link   [2]string // a symbolic link: name in the book, target
		want   string
	}{
		{"missing", "EB Garamond", map[string][]byte{}, [2]string{},
			`metadata.yaml: pdf.font_family: no regular font for "EB Garamond": looked for assets/fonts/EB Garamond/EBGaramond-Regular.ttf`},
		{"CFF", "Garamond", map[string][]byte{"assets/fonts/Garamond-Regular.otf": cffFont()}, [2]string{},
			"metadata.yaml: pdf.font_family: assets/fonts/Garamond-Regular.otf: the font has PostScript (CFF) outlines; only TrueType-outline fonts"},
		{"not a font", "x/Bad.ttf", map[string][]byte{"x/Bad.ttf": []byte("<html>")}, [2]string{},
			"metadata.yaml: pdf.font_family: x/Bad.ttf: not a TrueType or OpenType font"},
		{"bad italic", "Tinos", map[string][]byte{"assets/fonts/Tinos-Regular.ttf": reg, "assets/fonts/Tinos-Italic.ttf": reg[:300]}, [2]string{},
			"metadata.yaml: pdf.font_family: assets/fonts/Tinos-Italic.ttf: "},
		{"climbs out", "../../Outside-Regular.ttf", map[string][]byte{}, [2]string{},
			"metadata.yaml: pdf.font_family: ../../Outside-Regular.ttf: points outside the book folder"},
		{"symbolic link out", "Evil", map[string][]byte{}, [2]string{"assets/fonts/Evil-Regular.ttf", outside},
			"metadata.yaml: pdf.font_family: assets/fonts/Evil-Regular.ttf: points outside the book folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var link []string
			if tt.link[0] != "" {
				link = tt.link[:]
			}
			m := fontBook(t, tt.family, tt.files, link...)
			err := PDFRenderer().Render(context.Background(), io.Discard, m)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("renderPDF = %v\nwant an error starting %q", err, tt.want)
			}
		})
	}
}
