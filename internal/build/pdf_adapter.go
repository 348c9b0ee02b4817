package build

import (
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/pdf"
)

// PDFRenderer returns the Renderer of package render/pdf, adapted to a
// loaded manuscript; pass it as Options.PDF. Images are resolved like
// links (relative to the chapter or to the book folder, never outside it)
// and must be JPEG or PNG files whose content matches their name.
func PDFRenderer() Renderer { return RendererFunc(renderPDF) }

func renderPDF(ctx context.Context, w io.Writer, m *manuscript.Manuscript) error {
	md := m.Metadata
	b := &pdf.Book{
		Title: md.Title, Subtitle: md.Subtitle, Authors: md.Authors, Language: md.Language,
		Publisher: md.Publisher, Date: md.Date, Rights: md.Rights, Description: md.Description,
		Identifier: firstNonEmpty(md.Identifier, md.ISBN), PageSize: md.PDF.PageSize,
	}
	var err error
	if b.FontSize, err = points(md.PDF.FontSize); err != nil {
		return &manuscript.Error{File: manuscript.MetadataFile, Msg: "pdf.font_size: " + err.Error()}
	}
	mg := md.PDF.Margins
	for _, side := range []struct {
		name string
		in   string
		out  *float64
	}{{"top", mg.Top, &b.Margins.Top}, {"bottom", mg.Bottom, &b.Margins.Bottom}, {"left", mg.Left, &b.Margins.Inner}, {"right", mg.Right, &b.Margins.Outer}} {
		if *side.out, err = points(side.in); err != nil {
			return &manuscript.Error{File: manuscript.MetadataFile, Msg: "pdf.margins." + side.name + ": " + err.Error()}
		}
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
		if typ, err := m.ImageType(ref.Path); err != nil || typ == "image/gif" {
			return nil, manuscript.ErrNotImage
		}
		return m.ReadFile(ref.Path)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return pdf.Render(w, b, pdf.Options{})
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
