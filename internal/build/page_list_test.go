package build_test

import (
	"archive/zip"
	"bytes"
	"context"
	"html"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/build"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
	"github.com/bindery/bindery/internal/testkit"
)

var (
	pageListEntry = regexp.MustCompile(`<li><a href="([^"#]+)#([^"]+)">(\d+)</a></li>`)
	tag           = regexp.MustCompile(`<[^>]*>`)
)

func zipEntry(t *testing.T, zr *zip.Reader, name string) string {
	t.Helper()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstWords returns the first n words of text, XHTML tags and the word
// joiner (U+2060, which the PDF does not keep in its text) taken out.
func firstWords(s string, n int) string {
	s = strings.ReplaceAll(html.UnescapeString(tag.ReplaceAllString(s, " ")), "\u2060", "")
	w := strings.Fields(s)
	return strings.Join(w[:min(n, len(w))], " ")
}

// TestPageListMatchesThePDF: the EPUB built with the PDF carries a
// page-list, and the marker of page N sits just before the first words
// that pdftotext extracts from page N of the PDF (after the running
// head), for every page with text, of the example and of Frankenstein.
// An EPUB built alone has the same page-list, from the same typesetting.
func TestPageListMatchesThePDF(t *testing.T) {
	tool(t, "pdftotext")
	books := map[string]string{"lighthouse": exampleDir, "frankenstein": testkit.Corpus(t), "mixed": mixedBook(t)}
	for name, dir := range books {
		t.Run(name, func(t *testing.T) {
			stamp := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
			out := t.TempDir()
			res, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: out, Formats: []build.Format{build.EPUB, build.PDF}, Modified: stamp})
			if err != nil {
				t.Fatal(err)
			}
			epubPath, pdfPath := res.Artifacts[0].Path, res.Artifacts[1].Path
			data, err := os.ReadFile(epubPath)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			nav := zipEntry(t, zr, "EPUB/nav.xhtml")
			entries := pageListEntry.FindAllStringSubmatch(nav, -1)
			if !strings.Contains(nav, `<nav epub:type="page-list"`) || len(entries) == 0 {
				t.Fatalf("no page-list in the navigation document:\n%s", nav)
			}
			opf := zipEntry(t, zr, "EPUB/package.opf")
			for _, want := range []string{"printPageNumbers", "pageNavigation", "<dc:source id=\"print-source\">"} {
				if !strings.Contains(opf, want) {
					t.Errorf("package document lacks %s", want)
				}
			}

			pages := strings.Split(output(t, "pdftotext", pdfPath, "-"), "\f")
			pages = pages[:len(pages)-1] // after the last form feed
			last, _ := strconv.Atoi(entries[len(entries)-1][3])
			front := len(pages) - last // the body's pages end the PDF
			checked := 0
			for i, e := range entries {
				file, id, label := e[1], e[2], e[3]
				n, _ := strconv.Atoi(label)
				if n != i+1 || id != "page-"+label {
					t.Fatalf("page-list entry %d is %q#%q, page %s", i, file, id, label)
				}
				doc := zipEntry(t, zr, "EPUB/"+file)
				marker := `<span epub:type="pagebreak" role="doc-pagebreak" id="` + id + `" aria-label="` + label + `"></span>`
				at := strings.Index(doc, marker)
				if at < 0 {
					t.Fatalf("%s lacks %s", file, marker)
				}
				// Words after the marker, up to the next one.
				after := doc[at+len(marker):]
				if k := strings.Index(after, `epub:type="pagebreak"`); k >= 0 {
					after = after[:strings.LastIndex(after[:k], "<")]
				}
				want := firstWords(after, 3)
				text := strings.Join(strings.Fields(strings.ReplaceAll(pages[front+n-1], "\u2060", "")), " ")
				if text == "" {
					continue // a blank page: its marker is where the next page starts
				}
				checked++
				if k := strings.Index(text, want); want == "" || k < 0 || k > 60 {
					t.Errorf("page %d: the EPUB's marker precedes %q; the PDF's page starts %.80q", n, want, text)
				}
			}
			if checked < len(entries)*3/4 || checked < 7 {
				t.Errorf("only %d of %d pages have text", checked, len(entries))
			}
			t.Logf("%d pages, %d with text checked", len(entries), checked)

			// A few pages the way a person checks them: pdftotext -f N -l N.
			for _, n := range []int{1, last / 2, last} {
				p := strconv.Itoa(front + n)
				if got := strings.Join(strings.Fields(output(t, "pdftotext", "-f", p, "-l", p, pdfPath, "-")), " "); got != strings.Join(strings.Fields(pages[front+n-1]), " ") {
					t.Errorf("pdftotext -f %s -l %s differs from page %d of the whole text", p, p, n)
				}
			}

			alone := t.TempDir()
			if _, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: alone, Formats: []build.Format{build.EPUB}, Modified: stamp}); err != nil {
				t.Fatal(err)
			}
			// Without a print edition in the build there are no printed
			// pages to point at: no page-list, no markers.
			data2, err := os.ReadFile(filepath.Join(alone, filepath.Base(epubPath)))
			if err != nil {
				t.Fatal(err)
			}
			zr2, err := zip.NewReader(bytes.NewReader(data2), int64(len(data2)))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr2.File {
				if !strings.HasSuffix(f.Name, "html") {
					continue // the stylesheet styles page breaks whether or not there are any
				}
				if body := zipEntry(t, zr2, f.Name); strings.Contains(body, "page-list") || strings.Contains(body, "doc-pagebreak") {
					t.Errorf("the EPUB built without the PDF has a page-list or page breaks (%s)", f.Name)
				}
			}
		})
	}
}

// An EPUB build warns of a cover too small for stores and of what keeps
// the accessibility claim away, as file:line lines; a build without the
// EPUB does not.
func TestEPUBWarnings(t *testing.T) {
	var cover bytes.Buffer
	if err := jpeg.Encode(&cover, image.NewGray(image.Rect(0, 0, 600, 900)), nil); err != nil {
		t.Fatal(err)
	}
	dir := mt.WriteBook(t, map[string]string{
		"metadata.yaml":  "title: T\nauthor: A\nlanguage: en\ncover: cover.jpg\n",
		"cover.jpg":      cover.String(),
		"chapters/01.md": "# One\n\n![](../cover.jpg)\n",
	})
	want := []string{
		`metadata.yaml: warning: cover "cover.jpg" is 600×900 px: stores ask for at least 1,600 px on the long side`,
		"metadata.yaml: warning: the EPUB claims no accessibility conformance (EPUB Accessibility 1.1 - WCAG 2.2 Level AA): chapters/01.md:3: an image has no alt text",
	}
	var progress bytes.Buffer
	show, finish := build.Display(&progress, false)
	res, err := build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir(), Formats: []build.Format{build.EPUB}, Progress: show})
	finish()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Problems {
		got = append(got, p.String())
	}
	for _, w := range want {
		if !slices.Contains(got, w) || !strings.Contains(progress.String(), w) {
			t.Errorf("EPUB build lacks warning %s\nproblems %q\nprogress:\n%s", w, got, progress.String())
		}
	}
	res, err = build.Run(context.Background(), build.Options{Dir: dir, OutDir: t.TempDir(), Formats: []build.Format{build.HTML}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		if strings.Contains(p.Message, "px") || strings.Contains(p.Message, "conformance") {
			t.Errorf("HTML build warns %s", p)
		}
	}
}

// mixedBook is a book of every kind of block the word count must agree
// on, over a dozen pages: headings, lists (task lists too), block
// quotes, tables, notes, inline and lone images, hard line breaks.
func mixedBook(t *testing.T) string {
	var png bytes.Buffer
	if err := jpeg.Encode(&png, image.NewGray(image.Rect(0, 0, 300, 200)), nil); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"metadata.yaml":         "title: Mixed\nauthor: A\nlanguage: en\nisbn: 978-3-16-148410-0\n",
		"assets/images/pic.jpg": png.String(),
	}
	for c := 1; c <= 3; c++ {
		var b strings.Builder
		if c != 2 {
			b.WriteString("# Chapter " + strconv.Itoa(c) + "\n\n")
		}
		for s := 1; s <= 6; s++ {
			n := strconv.Itoa(c*100 + s)
			b.WriteString("## Section " + n + "\n\n")
			b.WriteString("A paragraph " + n + " with *emphasis across* words, a note[^n" + n + "] and a long tail of ordinary words to fill the measure of the line many times over, so that pages turn inside paragraphs as well as between them, again and again and again.\n\n")
			b.WriteString("- item one " + n + "\n- item two with more words " + n + "\n  1. nested first\n  2. nested second\n\n")
			b.WriteString("- [ ] task open " + n + "\n- [x] task done " + n + "\n\n")
			b.WriteString("> A quoted paragraph " + n + " that runs on for a while, to take a few lines of its own in the narrower measure of the quote.\n\n")
			b.WriteString("| Left " + n + " | Right side |\n|---|---|\n| cell a | cell b |\n| cell c | cell d |\n\n")
			b.WriteString("![a grey picture](../assets/images/pic.jpg)\n\n")
			b.WriteString("Text with a ![tiny inline](../assets/images/pic.jpg) image, and a line  \nbroken by hand, then the end of section " + n + ".\n\n")
			b.WriteString("[^n" + n + "]: The note of section " + n + ", long enough to take a line or two at the foot of the page.\n\n")
		}
		files["chapters/0"+strconv.Itoa(c)+"-c.md"] = b.String()
	}
	return mt.WriteBook(t, files)
}
