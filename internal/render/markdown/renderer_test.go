package markdown_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/markdown"
)

// A chapter link becomes a link to that chapter in the output, whether it
// was written relative to the chapter file or to the book folder; links
// that leave the book, name missing files or use other schemes lose their
// href and keep their text.
func TestRenderChapterLinks(t *testing.T) {
	m := newBook(t, map[string]string{
		"chapters/01-start.md": "# Start\n\n## Local\n",
		"chapters/02-next.md":  "# Next\n\n## The Storm\n",
		"notes.txt":            "not a chapter",
	})
	tests := []struct {
		link string
		want string // href, or "" for none
	}{
		{"02-next.md", `href="ch02-next.xhtml"`},
		{"02-next.md#the-storm", `href="ch02-next.xhtml#ch02-next-the-storm"`},
		{"chapters/02-next.md#the-storm", `href="ch02-next.xhtml#ch02-next-the-storm"`},
		{"./02-next.md", `href="ch02-next.xhtml"`},
		{"#local", `href="ch01-start.xhtml#ch01-start-local"`},
		{"https://example.com/a?b=c", `href="https://example.com/a?b=c"`},
		{"mailto:me@example.com", `href="mailto:me@example.com"`},
		{"../notes.txt", ""},
		{"../../etc/passwd", ""},
		{"/etc/passwd", ""},
		{"missing.md", ""},
		{"javascript:alert(1)", ""},
		{"file:///etc/passwd", ""},
		{"//evil.example/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.link, func(t *testing.T) {
			c := m.Chapters[0]
			c.Body = []byte("[text](" + tt.link + ")\n")
			c.Doc = parse(c.Body)
			got := renderXHTML(t, m, c)
			if !strings.Contains(got, "text") {
				t.Fatalf("link text lost: %s", got)
			}
			if tt.want == "" && strings.Contains(got, "href") {
				t.Errorf("got %s, want no href", got)
			}
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// Images resolve like links, but only to JPEG, PNG or GIF files of the
// book whose content matches their extension; anything else is replaced by
// its alt text, so no outside file, remote image or disguised file reaches
// an output.
func TestRenderChapterImages(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.png")
	if err := os.WriteFile(outside, tinyPNG(), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newBook(t, map[string]string{
		"chapters/01-start.md":     "# Start\n",
		"assets/images/map.png":    PNG,
		"assets/images/fake.png":   "<html><script>alert(1)</script></html>",
		"assets/images/draw.svg":   "<svg xmlns='http://www.w3.org/2000/svg'/>",
		"chapters/images/near.png": PNG,
		"assets/images/link.png":   Symlink(outside),
	})
	tests := []struct {
		src  string
		want string // src attribute, or "" for replaced by alt text
	}{
		{"../assets/images/map.png", `src="images/map.png"`},
		{"assets/images/map.png", `src="images/map.png"`},
		{"images/near.png", `src="images/near.png"`},
		{"../assets/images/link.png", ""}, // symlink out of the book
		{"../assets/images/fake.png", ""}, // HTML named .png
		{"../assets/images/draw.svg", ""}, // SVG can carry scripts
		{"../../secret.png", ""},
		{"https://example.com/pixel.png", ""},
		{"missing.png", ""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			c := m.Chapters[0]
			c.Body = []byte("![the alt](" + tt.src + ")\n")
			c.Doc = parse(c.Body)
			got := renderXHTML(t, m, c)
			switch {
			case tt.want == "" && (strings.Contains(got, "<img") || !strings.Contains(got, "the alt")):
				t.Errorf("got %s, want the alt text and no image", got)
			case tt.want != "" && !strings.Contains(got, `<img src="images/`) && !strings.Contains(got, tt.want):
				t.Errorf("got %s, want %s", got, tt.want)
			case tt.want != "" && !strings.Contains(got, `alt="the alt"`):
				t.Errorf("got %s, want alt kept", got)
			}
		})
	}
}

func TestRenderChapterStructure(t *testing.T) {
	m := newBook(t, map[string]string{
		"chapters/01-start.md": "---\ntitle: Start <here> & now\n---\n\nText[^n].\n\n## Part {#part}\n\n| a | b |\n|:-:|--:|\n| 1 | 2 |\n\n[^n]: Note.\n",
	})
	got := renderXHTML(t, m, m.Chapters[0])
	for _, want := range []string{
		"<h1>Start &lt;here&gt; &amp; now</h1>", // title in front, escaped
		`<h2 id="ch01-start-part">Part</h2>`,
		`<sup id="ch01-start-fnref-1"><a class="footnote-ref" href="ch01-start.xhtml#ch01-start-fn-1" role="doc-noteref">`,
		`<li id="ch01-start-fn-1">`,
		`<a class="footnote-backref" href="ch01-start.xhtml#ch01-start-fnref-1" role="doc-backlink">`,
		`<th class="align-center">a</th>`, `<td class="align-right">2</td>`,
		"<hr/>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %s\n%s", want, got)
		}
	}
	if strings.Contains(got, "align=") || strings.Contains(got, `id="fn`) {
		t.Errorf("unprefixed id or align attribute left:\n%s", got)
	}
}

func TestElementID(t *testing.T) {
	m := newBook(t, map[string]string{"chapters/07-end.md": "# End\n"})
	for id, want := range map[string]string{
		"fn:1":      "ch07-end-fn-1",
		"the-storm": "ch07-end-the-storm",
		"été":       "ch07-end-été",
		"a b\"<c>":  "ch07-end-a-b--c-",
		"__proto__": "ch07-end-__proto__",
	} {
		if got := markdown.ElementID(m.Chapters[0], id); got != want {
			t.Errorf("ElementID(%q) = %q, want %q", id, got, want)
		}
	}
}

// One Renderer serves concurrent requests (the server's previews, the EPUB
// writer's workers); run with -race.
func TestRendererIsSafeForConcurrentUse(t *testing.T) {
	m := newBook(t, map[string]string{
		"chapters/01-a.md": "# A\n\n\"Quote\" [b](02-b.md#x) ![m](../map.png)[^1]\n\n| a |\n|---|\n| 1 |\n\n[^1]: n\n",
		"chapters/02-b.md": "# B\n\n## X\n",
		"map.png":          PNG,
	})
	r := markdown.New()
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			out, _ := r.Render([]byte("*a* \"b\" [c](https://e.com)"))
			f, err := r.RenderChapter(context.Background(), m, m.Chapters[i%2], epubLinker{})
			var b strings.Builder
			if err == nil {
				err = f.WriteXHTML(&b)
			}
			if err != nil {
				done <- err.Error()
				return
			}
			done <- string(out) + b.String()
			_ = manuscript.ParseMarkdown([]byte("# x\n\n'y'"))
		}()
	}
	first := map[bool]string{}
	for i := 0; i < 8; i++ {
		got := <-done
		k := strings.Contains(got, "<h1 id=\"ch01-a-a\">")
		if first[k] == "" {
			first[k] = got
		} else if first[k] != got {
			t.Errorf("concurrent renders differ:\n%s\n%s", first[k], got)
		}
	}
}
