package html_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
	bhtml "github.com/bindery/bindery/internal/render/html"
	"golang.org/x/net/html"
)

const exampleDir = "../../../examples/lighthouse"

func write(t *testing.T, m *manuscript.Manuscript, opts bhtml.Options) (string, []bhtml.File) {
	t.Helper()
	var b bytes.Buffer
	files, err := bhtml.Write(context.Background(), &b, m, opts)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String(), files
}

func parse(t *testing.T, doc string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

var cspHash = regexp.MustCompile(`style-src 'sha256-([A-Za-z0-9+/=]+)'`)

// The one stylesheet is allowed by the hash of its exact text, so the CSP
// needs neither 'unsafe-inline' nor any script source.
func TestCSPHashMatchesStylesheet(t *testing.T) {
	doc, _ := write(t, mt.LoadDir(t, exampleDir), bhtml.Options{})
	var csp, style string
	styles := 0
	walk(parse(t, doc), func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "meta" {
			if v, _ := attr(n, "http-equiv"); strings.EqualFold(v, "Content-Security-Policy") {
				csp, _ = attr(n, "content")
			}
		}
		if n.Data == "style" && n.FirstChild != nil {
			styles++
			style = n.FirstChild.Data
		}
	})
	if styles != 1 {
		t.Fatalf("%d style elements, want 1", styles)
	}
	m := cspHash.FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("CSP %q has no style hash", csp)
	}
	sum := sha256.Sum256([]byte(style))
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != m[1] {
		t.Errorf("style hash %s, CSP allows %s", got, m[1])
	}
	for _, want := range []string{"default-src 'none'", "img-src data:", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q is not strict", csp)
	}
}

// Nothing in the file could run or load from elsewhere: no script, no
// inline style, no handler, images only as data: URIs of raster types, and
// every internal link lands on an element of the page.
func TestFileIsSelfContainedAndInert(t *testing.T) {
	doc, files := write(t, mt.LoadDir(t, exampleDir), bhtml.Options{})
	if len(files) != 0 {
		t.Errorf("EmbedImages returned %d files", len(files))
	}
	ids := map[string]bool{}
	var hrefs []string
	imgs := 0
	walk(parse(t, doc), func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "iframe", "object", "embed", "base", "form", "link":
			t.Errorf("<%s> in output", n.Data)
		case "img":
			imgs++
			src, _ := attr(n, "src")
			if !regexp.MustCompile(`^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=]+$`).MatchString(src) {
				t.Errorf("img src %.60q is not an embedded raster image", src)
			}
		}
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
			if a.Key == "id" {
				if ids[a.Val] {
					t.Errorf("duplicate id %q", a.Val)
				}
				ids[a.Val] = true
			}
			if a.Key == "href" {
				hrefs = append(hrefs, a.Val)
			}
		}
	})
	if imgs != 3 {
		t.Errorf("%d images, want 3 (cover, chart, lamp)", imgs)
	}
	for _, h := range hrefs {
		if id, ok := strings.CutPrefix(h, "#"); ok && !ids[id] {
			t.Errorf("link %q has no target", h)
		}
	}
	for _, want := range []string{`href="#ch02-the-storm-south-west"`, `href="#ch01-the-lamp-first-watch"`, `href="#ch01-the-lamp"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("output lacks chapter link %s", want)
		}
	}
}

func TestCopyImages(t *testing.T) {
	doc, files := write(t, mt.LoadDir(t, exampleDir), bhtml.Options{Images: bhtml.CopyImages})
	if len(files) != 3 {
		t.Fatalf("%d files, want 3", len(files))
	}
	for _, f := range files {
		if !regexp.MustCompile(`^images/[0-9a-f]{8}-[A-Za-z0-9._-]+$`).MatchString(f.Name) || len(f.Data) == 0 {
			t.Errorf("file %q (%d bytes)", f.Name, len(f.Data))
		}
		if !strings.Contains(doc, `src="`+f.Name+`"`) {
			t.Errorf("%s not referenced", f.Name)
		}
	}
	if strings.Contains(doc, "data:image") || !strings.Contains(doc, "img-src &#39;self&#39;") {
		t.Error("CopyImages should link images and allow img-src 'self'")
	}
}

func TestMetadataIsEscaped(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":  "title: \"</title><script>alert(1)</script>\"\nauthor: '\"><img src=x onerror=alert(2)>'\ndescription: '\" http-equiv=\"refresh'\n",
		"chapters/01.md": "---\ntitle: \"<b>x</b>\"\n---\ntext\n",
	})
	doc, _ := write(t, m, bhtml.Options{})
	walk(parse(t, doc), func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "b" || n.Data == "img") {
			t.Errorf("metadata became a <%s> element", n.Data)
		}
		if n.Type == html.ElementNode && n.Data == "meta" {
			if v, ok := attr(n, "http-equiv"); ok && v == "refresh" {
				t.Error("metadata became an attribute")
			}
		}
	})
}

func TestStylesheetCannotCloseStyle(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":  "title: T\nepub:\n  stylesheet: x.css\n",
		"x.css":          "p{}</STYLE><script>alert(1)</script>",
		"chapters/01.md": "x",
	})
	_, err := bhtml.Write(context.Background(), &bytes.Buffer{}, m, bhtml.Options{})
	if err == nil || err.Error() != `x.css: stylesheet contains "</style"` {
		t.Errorf("Write = %v", err)
	}
}

func TestWriteStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := bhtml.Write(ctx, &bytes.Buffer{}, mt.LoadDir(t, exampleDir), bhtml.Options{}); err != context.Canceled {
		t.Errorf("Write = %v, want context.Canceled", err)
	}
}

// The EPUB's rewrites for reading systems (pop-up notes, page breaks)
// stay out of the HTML book: epub:type is no HTML5 attribute, and its
// notes stay a list with their ARIA roles.
func TestHTMLKeepsHTMLNotes(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"metadata.yaml":    "title: T\nlanguage: en\n",
		"chapters/01-a.md": "# A\n\nOne.[^a]\n\n[^a]: A note.\n",
	})
	doc, _ := write(t, m, bhtml.Options{})
	for _, gone := range []string{"epub:", "<aside", "pagebreak"} {
		if strings.Contains(doc, gone) {
			t.Errorf("HTML book has %q", gone)
		}
	}
	for _, want := range []string{`role="doc-noteref"`, `role="doc-endnotes"`, `role="doc-backlink"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("HTML book lacks %s", want)
		}
	}
}
