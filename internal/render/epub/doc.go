// Package epub writes a manuscript as an EPUB 3.3 file with archive/zip,
// without external tools: a stored "mimetype" entry first, the OPF package
// document with Dublin Core and EPUB Accessibility 1.1 discovery metadata,
// a navigation document (table of contents, landmarks and, given the
// print edition's pages, a page-list), an NCX for EPUB 2 readers, a cover
// page, a title page, one XHTML content document per chapter and a
// default stylesheet. The output passes W3C epubcheck with no errors and
// no warnings (see epubcheck_test.go).
//
// What reading systems and stores look for:
//   - notes pop up: a footnote reference is an epub:type="noteref" link
//     into its own document and each note an
//     <aside epub:type="footnote" role="doc-footnote">, with its back-link
//     (markdown.Fragment.PopUpNotes);
//   - the accessibility claim: dcterms:conformsTo
//     manuscript.AccessibilityConformance with a11y:certifiedBy, only
//     when the book meets it (manuscript.AccessibilityGaps, and alt text
//     on every image,
//     raw HTML ones included); schema:accessMode, accessModeSufficient
//     and accessibilityFeature say what the book actually holds;
//   - the print edition's pages (Options.PrintPages, from the PDF that
//     render/pdf typesets): an epub:type="pagebreak" marker where each
//     printed page starts, a page-list, the printPageNumbers and
//     pageNavigation features and a dc:source naming the print edition.
//
// Every chapter goes through package render/markdown, so the EPUB holds
// only sanitised content; the package's own documents are html/template
// executions, so metadata values are escaped by context.
//
// The output is reproducible: the same book and Options give the same
// bytes. Zip entries carry a fixed time (1980-01-01 00:00, the zip epoch)
// and no extra fields, entries are written in a fixed order, and
// dcterms:modified is Options.Modified, never read from the clock here:
// package build passes the build time, or SOURCE_DATE_EPOCH.
package epub
