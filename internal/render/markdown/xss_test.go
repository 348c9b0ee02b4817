package markdown_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/markdown"
)

// TestXSSCorpus renders every file of testdata/xss three ways — the preview
// (Render), and a chapter of a book as HTML and as XHTML — and requires that
// nothing executable survives (checkSafe) and that the XHTML is well formed.
func TestXSSCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/xss/*.md")
	if err != nil || len(files) < 10 {
		t.Fatalf("xss corpus: %d files, %v", len(files), err)
	}
	r := markdown.New()
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := r.Render(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkSafe(out); err != nil {
				t.Errorf("Render: %v\n%s", err, out)
			}

			m := newBook(t, map[string]string{
				"chapters/01-xss.md":   string(src),
				"chapters/x.png":       PNG,
				"chapters/ok.png":      PNG,
				"assets/evil.svg":      `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`,
				"chapters/02-other.md": "# Other\n",
			})
			f, err := r.RenderChapter(context.Background(), m, m.Chapters[0], epubLinker{})
			if err != nil {
				t.Fatal(err)
			}
			var h, x bytes.Buffer
			if err := f.WriteHTML(&h); err != nil {
				t.Fatal(err)
			}
			if err := checkSafe(h.Bytes()); err != nil {
				t.Errorf("RenderChapter HTML: %v\n%s", err, h.Bytes())
			}
			if err := f.WriteXHTML(&x); err != nil {
				t.Fatal(err)
			}
			if err := checkSafe(x.Bytes()); err != nil {
				t.Errorf("RenderChapter XHTML: %v\n%s", err, x.Bytes())
			}
			if err := checkWellFormedXML(x.Bytes()); err != nil {
				t.Errorf("XHTML not well formed: %v\n%s", err, x.Bytes())
			}
			if strings.Contains(strings.ToLower(h.String()), "<script") {
				t.Errorf("script element survived:\n%s", h.String())
			}
		})
	}
}

// TestSanitiserKeepsBookContent guards against the opposite failure: a
// policy so strict that books lose their content.
func TestSanitiserKeepsBookContent(t *testing.T) {
	src := "# Title\n\n*em* **strong** ~~del~~ x<sup>2</sup> <sub>n</sub> <u>u</u>\n\n" +
		"> quote\n\n1. one\n2. two\n\npara\n\n3. three\n\n- item\n\n---\n\n`code`\n\n```go\nfmt.Println()\n```\n\n" +
		"| a | b |\n|:--|--:|\n| 1 | 2 |\n\n" +
		"[web](https://example.com \"Title\") [mail](mailto:a@example.com) [rel](02-next.md#x)\n\n" +
		"![alt](assets/images/map.png \"Map\")\n\nNote[^1].\n\n[^1]: The note.\n\n" +
		"<figure><img src=\"assets/a.png\" alt=\"A\"><figcaption>Caption</figcaption></figure>\n"
	out, err := markdown.New().Render([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<h1 id="title">Title</h1>`, "<em>em</em>", "<strong>strong</strong>", "<del>del</del>",
		"<sup>2</sup>", "<sub>n</sub>", "<u>u</u>", "<blockquote>", `<ol start="3">`, "<ul>", "<hr>",
		"<code>code</code>", `<code class="language-go">`, "<table>", `<th align="left">a</th>`,
		`<td align="right">2</td>`, `<a href="https://example.com" title="Title">web</a>`,
		`<a href="mailto:a@example.com">`, `<a href="02-next.md#x">`,
		`<img src="assets/images/map.png" alt="alt" title="Map">`,
		`<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref">1</a></sup>`,
		`<div class="footnotes" role="doc-endnotes">`, `<li id="fn:1">`, `class="footnote-backref" role="doc-backlink"`,
		"<figure>", "<figcaption>Caption</figcaption>",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %s\n%s", want, out)
		}
	}
	if err := checkSafe(out); err != nil {
		t.Error(err)
	}
}

// TestTypographer checks pandoc-style smart punctuation.
func TestTypographer(t *testing.T) {
	out, _ := markdown.New().Render([]byte(`"Quoted" -- and --- 'single' it's...`))
	want := "<p>“Quoted” – and — ‘single’ it’s…</p>\n"
	if string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

var _ = manuscript.Slug
