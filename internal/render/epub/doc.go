// Package epub writes a manuscript as an EPUB 3.3 file with archive/zip,
// without external tools: a stored "mimetype" entry first, the OPF package
// document with Dublin Core and EPUB Accessibility 1.1 discovery metadata,
// a navigation document (table of contents and landmarks), an NCX for
// EPUB 2 readers, a cover page, one XHTML content document per chapter and
// a default stylesheet. The output passes W3C epubcheck with no errors and
// no warnings (see epubcheck_test.go).
//
// Every chapter goes through package render/markdown, so the EPUB holds
// only sanitised content; the package's own documents are html/template
// executions, so metadata values are escaped by context.
//
// The output is reproducible: the same book and Options give the same
// bytes. Zip entries carry a fixed time (1980-01-01 00:00, the zip epoch)
// and no extra fields, entries are written in a fixed order, and
// dcterms:modified is taken from Options or the metadata date, never from
// the clock (see Options.Modified).
package epub
