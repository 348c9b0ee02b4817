package build

import (
	"context"
	"slices"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/epub"
	"github.com/bindery/bindery/internal/render/pdf"
)

// epubWarnings are the warnings of an EPUB build beyond Check's (see
// manuscript.EPUBWarnings): a cover too small for stores, and what keeps
// the EPUB from its accessibility conformance claim. None when the EPUB
// is not among formats.
func epubWarnings(m *manuscript.Manuscript, formats []Format) []manuscript.Problem {
	if !slices.Contains(formats, EPUB) {
		return nil
	}
	return manuscript.EPUBWarnings(m)
}

// printPages starts laying the book out for the EPUB's page-list and
// returns the function that waits for the pages of the print edition:
// where each page of the PDF that pdfR typesets starts. The layout runs
// while the EPUB renders its chapters (epub.Options.PrintPages is called
// after them). Only the native typesetter (PDFRenderer) can say; with
// another Renderer, or when the book cannot be typeset (a pdf.font_family
// that is no usable font: the PDF build reports it), the EPUB has no
// page-list rather than a wrong one, and no error. Run writes the PDF
// before the EPUB, so the book is laid out once for both and the layout
// is not held while the EPUB is written (a 4 MiB book peaked at 379 MB
// with the two in memory at once, 190 MB without). Run asks for it only when the build writes the
// PDF: without a print edition there are no printed pages to point at,
// and laying the book out for nothing made an EPUB-only build of
// Frankenstein 5× slower (0.10 s → 0.51 s) and 2.5× larger in memory.
func printPages(ctx context.Context, m *manuscript.Manuscript, pdfR Renderer) func() ([]epub.PrintPage, error) {
	r, ok := pdfR.(*nativePDF)
	if !ok {
		return nil
	}
	done := make(chan []pdf.PageStart, 1)
	go func() {
		starts, err := r.pageStarts(ctx, m)
		if err != nil {
			starts = nil
		}
		done <- starts
	}()
	return func() ([]epub.PrintPage, error) {
		var starts []pdf.PageStart
		select {
		case starts = <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if starts == nil {
			return nil, ctx.Err()
		}
		pages := make([]epub.PrintPage, len(starts))
		for i, s := range starts {
			pages[i] = epub.PrintPage{Number: s.Page, Chapter: s.Chapter, Word: s.Word}
		}
		return pages, nil
	}
}
