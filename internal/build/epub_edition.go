package build

import (
	"slices"

	"github.com/bindery/bindery/internal/manuscript"
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
