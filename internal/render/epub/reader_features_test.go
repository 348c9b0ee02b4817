package epub_test

import (
	"strings"
	"testing"

	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
	"github.com/bindery/bindery/internal/render/epub"
)

// Notes pop up in Apple Books, Kobo and Kindle only when the reference is
// an epub:type="noteref" link into the same document and the note an
// <aside epub:type="footnote">; the ARIA roles and back-links stay.
func TestFootnotesPopUp(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":    "title: T\nlanguage: en\n",
		"chapters/01-a.md": "# A\n\nOne.[^a] Two.[^b]\n\n[^a]: First note.\n\n[^b]: Second *note*.\n\n    Its second paragraph.\n",
	})
	doc := readEntry(t, openZip(t, writeEPUB(t, m, epub.Options{})), "EPUB/ch01-a.xhtml")
	for _, want := range []string{
		`<a class="footnote-ref" href="#ch01-a-fn-1" role="doc-noteref" epub:type="noteref">1</a>`,
		`<aside id="ch01-a-fn-1" class="footnote" epub:type="footnote" role="doc-footnote">` + "\n" +
			`<p><span class="footnote-number">1.</span> First note. <a class="footnote-backref" href="#ch01-a-fnref-1" role="doc-backlink">`,
		`<aside id="ch01-a-fn-2" class="footnote" epub:type="footnote" role="doc-footnote">`,
		`<p>Its second paragraph. <a class="footnote-backref" href="#ch01-a-fnref-2" role="doc-backlink">`,
		`xmlns:epub="http://www.idpf.org/2007/ops"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("chapter lacks %s\n%s", want, doc)
		}
	}
	if n := strings.Count(doc, "<aside "); n != 2 {
		t.Errorf("%d asides, want one per note (2)", n)
	}
	for _, gone := range []string{"<ol>", "<li ", `role="doc-endnotes"`} {
		if strings.Contains(doc, gone) {
			t.Errorf("chapter still has %s\n%s", gone, doc)
		}
	}
	if err := wellFormed(doc); err != nil {
		t.Error(err)
	}
}

// Raw HTML may carry the footnote classes, but only real notes of the
// chapter become noterefs: a "footnote-ref" link elsewhere is left as a
// link, and no author-written epub:type reaches the output.
func TestFootnoteClassInRawHTMLIsNoNoteref(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":    "title: T\nlanguage: en\n",
		"chapters/01-a.md": "# A\n\nSee <a class=\"footnote-ref\" href=\"02-b.md#x\" epub:type=\"noteref\">there</a>.\n",
		"chapters/02-b.md": "# B {#x}\n\nText.\n",
	})
	doc := readEntry(t, openZip(t, writeEPUB(t, m, epub.Options{})), "EPUB/ch01-a.xhtml")
	if strings.Contains(doc, "noteref") || !strings.Contains(doc, `href="ch02-b.xhtml#ch02-b-x"`) {
		t.Errorf("raw footnote-ref link rewritten:\n%s", doc)
	}
}

// The title page follows the cover in the spine and is a landmark.
func TestTitlePage(t *testing.T) {
	zr := openZip(t, writeEPUB(t, exampleBook(t), epub.Options{}))
	page := readEntry(t, zr, "EPUB/titlepage.xhtml")
	for _, want := range []string{
		`<section class="titlepage" epub:type="titlepage">`,
		`<h1>The Keeper of Skerry Light</h1>`,
		`<p class="subtitle">A Short Tale in Four Watches</p>`,
		`<p class="author">Ada Quill</p>`,
		`<p class="publisher">Bindery Examples</p>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("title page lacks %s\n%s", want, page)
		}
	}
	opf := readEntry(t, zr, "EPUB/package.opf")
	cover, title, nav := strings.Index(opf, `<itemref idref="cover-page"/>`), strings.Index(opf, `<itemref idref="titlepage"/>`), strings.Index(opf, `<itemref idref="nav"/>`)
	if cover < 0 || title < cover || nav < title {
		t.Errorf("spine order cover %d, title page %d, nav %d; want cover, title page, nav\n%s", cover, title, nav, opf)
	}
	if nav := readEntry(t, zr, "EPUB/nav.xhtml"); !strings.Contains(nav, `<a epub:type="titlepage" href="titlepage.xhtml">`) {
		t.Errorf("landmarks lack the title page\n%s", nav)
	}
}

// dcterms:conformsTo is claimed only for a book that meets it, with the
// evaluator; a gap (here an image without alt text) withdraws the claim.
func TestConformsTo(t *testing.T) {
	const claim = `<meta property="dcterms:conformsTo">EPUB Accessibility 1.1 - WCAG 2.2 Level AA</meta>`
	opf := readEntry(t, openZip(t, writeEPUB(t, exampleBook(t), epub.Options{})), "EPUB/package.opf")
	if !strings.Contains(opf, claim) || !strings.Contains(opf, `<meta property="a11y:certifiedBy">Bindery Examples</meta>`) {
		t.Errorf("example book: no conformance claim\n%s", opf)
	}
	for name, files := range map[string]map[string]string{
		"markdown image": {"chapters/01-a.md": "# A\n\n![](../i.png)\n"},
		"raw HTML image": {"chapters/01-a.md": "# A\n\n<p><img src=\"../i.png\"></p>\n"},
		"no language":    {"metadata.yaml": "title: T\nauthor: A\n"},
	} {
		book := map[string]string{"metadata.yaml": "title: T\nauthor: A\nlanguage: en\n", "i.png": mt.PNG, "chapters/01-a.md": "# A\n\nText.\n"}
		for k, v := range files {
			book[k] = v
		}
		opf := readEntry(t, openZip(t, writeEPUB(t, mt.MustLoad(t, book), epub.Options{})), "EPUB/package.opf")
		if strings.Contains(opf, "conformsTo") || strings.Contains(opf, "certifiedBy") {
			t.Errorf("%s: claims conformance\n%s", name, opf)
		}
	}
}
