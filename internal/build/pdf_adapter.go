package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/pdf"
)

// PDFRenderer returns the Renderer of package render/pdf, adapted to a
// loaded manuscript; pass it as Options.PDF. Images are resolved like
// links (relative to the chapter or to the book folder, never outside it)
// and must be JPEG or PNG files whose content matches their name. The
// text is set in the family metadata.yaml names in pdf.font_family, read
// from the book folder (see fontFamily), or in Noto Serif.
//
// The Renderer remembers where the pages of the last book it typeset
// start (not the layout itself, which is large): the EPUB of the same
// build takes its page-list from them (see printPages), so a build of
// both lays the book out once when the PDF is written first, which Run
// arranges. Use one Renderer per build.
//
// Characters the book's fonts lack are set in fallback fonts (see
// FontDirs); those no font has are warnings of the build (see Warnings).
func PDFRenderer() Renderer { return &nativePDF{dirs: FontDirs(os.Getenv(FontDirsEnv))} }

// FontDirsEnv names the environment variable of extra fallback font
// folders (see FontDirs).
const FontDirsEnv = "BINDERY_FONT_DIRS"

// systemFontDirs are where Debian (and most Unix systems) install fonts:
// fonts-noto-core puts Noto's script families in /usr/share/fonts.
var systemFontDirs = []string{"/usr/share/fonts", "/usr/local/share/fonts"}

// FontDirs returns the folders the PDF renderer takes fallback fonts
// from: those of env, a colon-separated list (BINDERY_FONT_DIRS; only
// absolute paths count, as a relative one would depend on where the
// server was started), then the system's font folders.
func FontDirs(env string) []string {
	var dirs []string
	for _, d := range filepath.SplitList(env) {
		if filepath.IsAbs(d) && !slices.Contains(dirs, filepath.Clean(d)) {
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	for _, d := range systemFontDirs {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// nativePDF is PDFRenderer's Renderer. mu guards m, starts and missing:
// the manuscript last typeset, where its pages start and the characters
// no font had.
type nativePDF struct {
	dirs    []string
	mu      sync.Mutex
	m       *manuscript.Manuscript
	starts  []pdf.PageStart
	missing []rune
}

// maxGlyphWarnings bounds the missing-glyph warnings of one build; the
// last one says how many more characters are missing.
const maxGlyphWarnings = 20

// Warnings returns the problems of the last book typeset: a warning for
// each character no font had (drawn as a box), at the first line of the
// chapter that has it, or on metadata.yaml when only the metadata (a
// title, an author) has it.
func (r *nativePDF) Warnings() []manuscript.Problem {
	r.mu.Lock()
	m, missing := r.m, r.missing
	r.mu.Unlock()
	var out []manuscript.Problem
	for i, c := range missing {
		if i == maxGlyphWarnings {
			out = append(out, manuscript.Problem{File: manuscript.MetadataFile, Severity: manuscript.SeverityWarning,
				Message: fmt.Sprintf("PDF: %d more characters no font has", len(missing)-i)})
			break
		}
		hint := "Debian: fonts-noto-core; fonts-droid-fallback for CJK"
		if c >= 0x1f000 || c >= 0x2600 && c < 0x2800 {
			// Colour emoji fonts (Noto Color Emoji) are bitmaps, which
			// the PDF cannot embed as outlines: a monochrome one can be.
			hint = "colour emoji fonts are bitmaps the PDF cannot embed; Debian: fonts-symbola, monochrome"
		}
		pr := manuscript.Problem{File: manuscript.MetadataFile, Severity: manuscript.SeverityWarning,
			Message: fmt.Sprintf("PDF: no font has a glyph for %q (U+%04X); it prints as a box. Install a font that has it (%s) or name its folder in %s", c, c, hint, FontDirsEnv)}
		for _, ch := range m.Chapters {
			if off := bytes.IndexRune(ch.Body, c); off >= 0 {
				pr.File, pr.Line = ch.Path, ch.Line(off)
				break
			}
		}
		out = append(out, pr)
	}
	return out
}

func (r *nativePDF) Render(ctx context.Context, w io.Writer, m *manuscript.Manuscript) error {
	defer leanGC()()
	t, err := r.layout(ctx, m)
	if err != nil {
		return err
	}
	return pdfError(t.Write(ctx, w))
}

// pageStarts returns where the pages of m start: remembered when m was the
// last book typeset, else from a layout of its own.
func (r *nativePDF) pageStarts(ctx context.Context, m *manuscript.Manuscript) ([]pdf.PageStart, error) {
	r.mu.Lock()
	if r.m == m && r.starts != nil {
		defer r.mu.Unlock()
		return r.starts, nil
	}
	r.mu.Unlock()
	defer leanGC()()
	t, err := r.layout(ctx, m)
	if err != nil {
		return nil, err
	}
	return t.PageStarts(), nil
}

// layout lays m out and remembers where its pages start.
func (r *nativePDF) layout(ctx context.Context, m *manuscript.Manuscript) (*pdf.Typeset, error) {
	b, err := pdfBook(m)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := pdf.Layout(ctx, b, pdf.Options{FontDirs: r.dirs})
	if err != nil {
		return nil, pdfError(err)
	}
	r.mu.Lock()
	r.m, r.starts, r.missing = m, t.PageStarts(), t.MissingGlyphs()
	r.mu.Unlock()
	return t, nil
}

// pdfError reports a font of the book that render/pdf cannot use as a
// problem of metadata.yaml.
func pdfError(err error) error {
	var fe *pdf.FontError
	if errors.As(err, &fe) {
		return fontError("%s", fe)
	}
	return err
}

// pdfBook is m as render/pdf reads it.
func pdfBook(m *manuscript.Manuscript) (*pdf.Book, error) {
	md := m.Metadata
	b := &pdf.Book{
		Title: md.Title, Subtitle: md.Subtitle, Authors: md.Authors, Language: md.Language,
		Publisher: md.Publisher, Date: md.Date, Rights: md.Rights, Description: md.Description,
		Identifier: firstNonEmpty(md.Identifier, md.ISBN), PageSize: md.PDF.PageSize,
	}
	var err error
	if b.FontSize, err = points(md.PDF.FontSize); err != nil {
		return nil, &manuscript.Error{File: manuscript.MetadataFile, Msg: "pdf.font_size: " + err.Error()}
	}
	mg := md.PDF.Margins
	for _, side := range []struct {
		name string
		in   string
		out  *float64
	}{{"top", mg.Top, &b.Margins.Top}, {"bottom", mg.Bottom, &b.Margins.Bottom}, {"left", mg.Left, &b.Margins.Inner}, {"right", mg.Right, &b.Margins.Outer}} {
		if *side.out, err = points(side.in); err != nil {
			return nil, &manuscript.Error{File: manuscript.MetadataFile, Msg: "pdf.margins." + side.name + ": " + err.Error()}
		}
	}
	if b.Fonts, err = fontFamily(m, md.PDF.FontFamily); err != nil {
		return nil, err
	}
	for _, c := range m.Chapters {
		// The ID is the file name without extension: render/pdf matches
		// links such as "02-storm.md#dawn" by it.
		b.Chapters = append(b.Chapters, pdf.Chapter{Title: c.Title, Markdown: c.Body, ID: strings.TrimSuffix(path.Base(c.Path), path.Ext(c.Path))})
	}
	from := m.Chapters[0].Path // every chapter is in chapters/, so any one resolves the same
	b.Images = func(p string) ([]byte, error) {
		ref, err := m.Resolve(from, p)
		if err != nil {
			return nil, err
		}
		if ref.Kind != manuscript.RefFile {
			return nil, manuscript.ErrNotImage
		}
		if _, err := m.ImageType(ref.Path); err != nil {
			return nil, manuscript.ErrNotImage
		}
		return m.ReadFile(ref.Path)
	}
	return b, nil
}

// fontsDir is where pdf.font_family looks for a family given by name.
const fontsDir = "assets/fonts"

// fontFamily reads the text fonts named by metadata.yaml's
// pdf.font_family. "", "Noto Serif" and generic CSS names such as "serif",
// which books made for other tools carry, are nil: the renderer's own
// Noto Serif. Any other value is either a family name, looked for under
// fontsDir ("EB Garamond" or "EBGaramond":
// assets/fonts/EBGaramond/EBGaramond-Regular.ttf or
// assets/fonts/EBGaramond-Regular.ttf), or a path in the book folder: a
// folder of the family ("assets/fonts/EBGaramond"), the common start of
// its file names ("assets/fonts/EBGaramond"), or the regular font's file
// ("assets/fonts/EBGaramond-Regular.ttf").
//
// The four styles are files named STEM-Regular (or -Roman, -Book, or STEM
// alone), STEM-Italic (-Oblique), STEM-Bold and STEM-BoldItalic
// (-BoldOblique), each .ttf or .otf; only the regular one is required
// (render/pdf makes up the others). Files are read through the manuscript,
// so never from outside the book folder, and each is refused above
// pdf.MaxFontBytes. Every failure is a *manuscript.Error on metadata.yaml
// naming pdf.font_family.
func fontFamily(m *manuscript.Manuscript, spec string) (*pdf.Fonts, error) {
	spec = strings.TrimSpace(spec)
	if builtinFamily[strings.ToLower(spec)] {
		return nil, nil
	}
	var stems []string
	regular := ""
	switch {
	case fontExt(spec) != "":
		regular = spec
		stem := strings.TrimSuffix(spec, path.Ext(spec))
		for _, suf := range styleSuffixes[0] {
			if suf != "" && strings.HasSuffix(stem, suf) {
				stem = strings.TrimSuffix(stem, suf)
				break
			}
		}
		stems = []string{stem}
	case strings.Contains(spec, "/"):
		p := path.Clean(spec)
		stems = []string{p + "/" + path.Base(p), p}
	default:
		seen := map[string]bool{}
		for _, d := range []string{spec, strings.ReplaceAll(spec, " ", "")} {
			for _, st := range []string{fontsDir + "/" + d + "/" + strings.ReplaceAll(d, " ", ""), fontsDir + "/" + d} {
				if !seen[st] {
					seen[st] = true
					stems = append(stems, st)
				}
			}
		}
	}
	var fam pdf.Fonts
	for i, f := range []*pdf.Font{&fam.Regular, &fam.Italic, &fam.Bold, &fam.BoldItalic} {
		var cands []string
		if i == 0 && regular != "" {
			cands = []string{regular}
		} else {
			for _, st := range stems {
				for _, suf := range styleSuffixes[i] {
					for _, ext := range []string{".ttf", ".otf", ".TTF", ".OTF"} {
						cands = append(cands, st+suf+ext)
					}
				}
			}
		}
		name, err := findFont(m, cands)
		if err != nil {
			return nil, err
		}
		if name == "" {
			if i == 0 {
				return nil, fontError("no regular font for %q: looked for %s (or -Roman, -Book; .ttf or .otf)", spec, strings.Join(regularExamples(stems, regular), ", "))
			}
			continue
		}
		data, err := m.ReadFile(name)
		if err != nil {
			return nil, fontError("%s: %v", name, err)
		}
		if len(data) > pdf.MaxFontBytes {
			return nil, fontError("%s: font file too large: %d bytes (limit %d)", name, len(data), pdf.MaxFontBytes)
		}
		*f = pdf.Font{Name: name, Data: data}
	}
	return &fam, nil
}

// builtinFamily are the font_family values that mean the renderer's own
// font. Generic CSS names are among them because books written for other
// tools use them; Noto Serif is the closest there is to each.
var builtinFamily = map[string]bool{
	"": true, "noto serif": true, "default": true,
	"serif": true, "sans-serif": true, "system-ui": true, "ui-serif": true,
}

// styleSuffixes are the file name endings of the Regular, Italic, Bold and
// BoldItalic styles, in order of preference.
var styleSuffixes = [4][]string{
	{"-Regular", "-Roman", "-Book", ""},
	{"-Italic", "-Oblique"},
	{"-Bold"},
	{"-BoldItalic", "-BoldOblique"},
}

func fontExt(p string) string {
	switch ext := strings.ToLower(path.Ext(p)); ext {
	case ".ttf", ".otf":
		return ext
	}
	return ""
}

// findFont returns the first candidate that is a file of the book folder,
// or "" for none. A candidate outside the book folder is an error.
func findFont(m *manuscript.Manuscript, cands []string) (string, error) {
	for _, c := range cands {
		ref, err := m.Resolve(manuscript.MetadataFile, c)
		switch {
		case errors.Is(err, manuscript.ErrOutside), errors.Is(err, manuscript.ErrScheme):
			return "", fontError("%s: %v", c, err)
		case err == nil && ref.Kind == manuscript.RefFile:
			return ref.Path, nil
		}
	}
	return "", nil
}

func regularExamples(stems []string, regular string) []string {
	if regular != "" {
		return []string{regular}
	}
	var out []string
	for _, s := range stems {
		out = append(out, s+"-Regular.ttf")
	}
	return out
}

func fontError(format string, args ...any) error {
	return &manuscript.Error{File: manuscript.MetadataFile, Msg: "pdf.font_family: " + fmt.Sprintf(format, args...)}
}

// points converts a length as written in metadata.yaml ("0.75in", "2cm",
// "20mm", "11pt", or a bare number of points) to points; "" is 0, which
// render/pdf reads as its default.
func points(s string) (float64, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, nil
	}
	unit := 1.0
	for suffix, k := range map[string]float64{"in": 72, "cm": 72 / 2.54, "mm": 72 / 25.4, "pt": 1} {
		if strings.HasSuffix(s, suffix) {
			s, unit = strings.TrimSpace(strings.TrimSuffix(s, suffix)), k
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1000 {
		return 0, fmt.Errorf("%q is not a length (e.g. 0.75in, 2cm, 11pt)", s)
	}
	return v * unit, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
