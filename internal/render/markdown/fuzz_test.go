package markdown_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/markdown"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// FuzzRender asserts, for any input, the promise of the package: the
// preview and the chapter pipeline emit nothing executable (checkSafe), the
// XHTML is well-formed XML, and nothing panics. Seeds: the XSS corpus and
// testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob("testdata/xss/*.md")
	for _, file := range files {
		if src, err := os.ReadFile(file); err == nil {
			f.Add(src)
		}
	}
	m := newBook(f, map[string]string{
		"chapters/01-a.md":         "# A\n",
		"chapters/02-b.md":         "# B\n\n## Sub\n",
		"assets/images/map.png":    PNG,
		"assets/images/fake.png":   "<script>alert(1)</script>",
		"chapters/images/near.png": PNG,
	})
	r := markdown.New()
	f.Fuzz(func(t *testing.T, src []byte) {
		doc, err := manuscript.ParseBody(context.Background(), "chapters/01-a.md", src, 1)
		var me *manuscript.Error
		if errors.As(err, &me) {
			return // beyond the shape limits: refused with a message, as Load does
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkSafe(out); err != nil {
			t.Fatalf("Render: %v\ninput: %q\noutput: %s", err, src, out)
		}
		c := &manuscript.Chapter{Path: "chapters/01-a.md", ID: "ch01-a", Title: "A <b>&", Body: src, BodyLine: 1, Doc: doc}
		frag, err := r.RenderChapter(context.Background(), m, c, epubLinker{})
		if err != nil {
			t.Fatal(err)
		}
		var x bytes.Buffer
		if err := frag.WriteXHTML(&x); err != nil {
			t.Fatal(err)
		}
		if err := checkSafe(x.Bytes()); err != nil {
			t.Fatalf("RenderChapter: %v\ninput: %q\noutput: %s", err, src, x.Bytes())
		}
		if err := checkWellFormedXML(x.Bytes()); err != nil {
			t.Fatalf("XHTML: %v\ninput: %q\noutput: %s", err, src, x.Bytes())
		}

		// The EPUB's rewrites keep it so, and add only their own.
		frag.PopUpNotes()
		frag.PageBreaks([]markdown.PageBreak{{Word: 0, Number: 1}, {Word: 3, Number: 2}, {Word: 40, Number: 3}, {Word: 1 << 30, Number: 4}})
		x.Reset()
		if err := frag.WriteXHTML(&x); err != nil {
			t.Fatal(err)
		}
		if err := checkEPUBRewrite(x.Bytes()); err != nil {
			t.Fatalf("EPUB rewrite: %v\ninput: %q\noutput: %s", err, src, x.Bytes())
		}
		if err := checkWellFormedXML(x.Bytes()); err != nil {
			t.Fatalf("EPUB rewrite XHTML: %v\ninput: %q\noutput: %s", err, src, x.Bytes())
		}
	})
}

// checkEPUBRewrite is checkSafe for the EPUB's chapters: the elements and
// attributes of allowedEPUB, epub:type only "noteref", "footnote" or
// "pagebreak", four page-break markers, whose IDs no other element has.
func checkEPUBRewrite(out []byte) error {
	nodes, err := html.ParseFragment(bytes.NewReader(out), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return err
	}
	ids := map[string]bool{}
	breaks := 0
	var values func(*html.Node) error
	values = func(n *html.Node) error {
		for _, a := range n.Attr {
			switch a.Key {
			case "epub:type":
				if a.Val != "noteref" && a.Val != "footnote" && a.Val != "pagebreak" {
					return fmt.Errorf("<%s epub:type=%q>", n.Data, a.Val)
				}
				if a.Val == "pagebreak" {
					breaks++
				}
			case "id":
				if ids[a.Val] && (strings.HasPrefix(a.Val, "page-") || strings.HasPrefix(a.Val, "pagebreak-")) {
					return fmt.Errorf("id %q twice", a.Val)
				}
				ids[a.Val] = true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if err := values(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range nodes {
		if err := checkNode(n, allowedEPUB); err != nil {
			return err
		}
		if err := values(n); err != nil {
			return err
		}
	}
	if breaks != 4 {
		return fmt.Errorf("%d page-break markers, want 4", breaks)
	}
	return nil
}

// TestCheckSafeRejects proves that the checker used by the XSS and fuzz
// tests would notice each kind of escape: a checker that accepts everything
// would make those tests pass for nothing.
func TestCheckSafeRejects(t *testing.T) {
	for _, bad := range []string{
		`<script>alert(1)</script>`,
		`<img src="x.png" onerror="alert(1)">`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href=" JaVaScRiPt:alert(1)">x</a>`,
		`<a href="jav&#x09;ascript:alert(1)">x</a>`,
		`<a href="data:text/html,x">x</a>`,
		`<img src="https://evil.example/p.png">`,
		`<img src="//evil.example/p.png">`,
		`<img src="data:image/png;base64,AAAA">`,
		`<svg onload="alert(1)"></svg>`,
		`<iframe srcdoc="x"></iframe>`,
		`<p style="color:red">x</p>`,
		`<base href="https://evil.example/">`,
		`<!-- comment -->`,
		`<div class="footnotes" data-x="1"></div>`,
	} {
		if checkSafe([]byte(bad)) == nil {
			t.Errorf("checkSafe accepted %s", bad)
		}
	}
}
