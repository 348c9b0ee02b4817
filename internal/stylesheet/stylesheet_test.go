package stylesheet_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/stylesheet"
)

func TestCheckAccepts(t *testing.T) {
	for _, css := range []string{
		"",
		"body { font-family: serif; line-height: 1.4 }\np + p { text-indent: 1em }",
		"@charset \"utf-8\";\n@namespace epub \"http://www.idpf.org/2007/ops\";\nh1 { page-break-before: always }",
		"@font-face { font-family: Book; src: url(../fonts/Book-Regular.otf) format(\"opentype\"), local(\"Book\") }",
		".cover { background: url('images/paper.png') no-repeat; }",
		".x { background-image: image-set(\"a.png\" 1x, \"b.png\" 2x) }",
		".x { filter: url(#soft) }",
		".x::before { content: \"see http://example.org — text, not a reference\" }",
		"/* a comment with url(http://example.org) in it is not a reference */ p{}",
		"@media print { p { orphans: 2 } }",
	} {
		if err := stylesheet.Check([]byte(css)); err != nil {
			t.Errorf("Check(%q) = %v, want nil", css, err)
		}
	}
}

func TestCheckRefuses(t *testing.T) {
	for _, tc := range []struct{ css, want string }{
		{"p { background: url(http://tracker.example/p.gif) }", "not a file of the book"},
		{"p { background: url( 'HTTPS://tracker.example/p.gif' ) }", "not a file of the book"},
		{`p { background: url("//tracker.example/p.gif") }`, "names another host"},
		{`p { background: url(/etc/passwd) }`, "absolute path"},
		{`p { background: url(data:image/png;base64,AAAA) }`, "data: URLs are refused"},
		{`p { background: url(file:///etc/passwd) }`, "not a file of the book"},
		{`p { background: u\72l(http://x.example/a) }`, "not a file of the book"},
		{`p { background: \75 rl("http://x.example/a") }`, "not a file of the book"},
		{`p { background: url(\68ttp://x.example/a) }`, "not a file of the book"},
		{`p { background: image-set("a.png" 1x, "https://x.example/b.png" 2x) }`, "not a file of the book"},
		{`@font-face { src: url(fonts/a.otf), url(https://fonts.example/b.woff2) }`, "not a file of the book"},
		{"@import 'other.css';", "@import is not supported"},
		{"@IMPORT url(other.css);", "@import is not supported"},
		{`@\69mport "x.css";`, "@import is not supported"},
		{"p { width: expression(alert(1)) }", "expression()"},
		{`p { width: expr\65 ssion(alert(1)) }`, "expression()"},
		{"p { behavior: url(x.htc) }", "behavior is refused"},
		{"p { -moz-binding: url(x.xml#b) }", "-moz-binding is refused"},
		{"p { color: red }\n</style><script>alert(1)</script>", `"</style"`},
		{"p::after { content: \"</STYLE>\" }", `"</style"`},
		{"<!-- p {} -->", `"<!--"`},
		{"p { background: url(javascript:alert(1)) }", `"javascript:"`},
		{"p { content: \"unclosed }", "malformed"},
		{"p { /* unclosed }", "malformed"},
		{"p { background: url(x.png }", "malformed"},
		{"p{}\xff", "not valid UTF-8"},
		{strings.Repeat("p{}", stylesheet.MaxBytes/3+1), "larger than"},
	} {
		err := stylesheet.Check([]byte(tc.css))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%.60q) = %v, want an error containing %q", tc.css, err, tc.want)
		}
	}
}

func TestCheckNamesTheLine(t *testing.T) {
	err := stylesheet.Check([]byte("body {}\n\np {\n  background: url(https://x.example/a.png)\n}\n"))
	var p *stylesheet.Problem
	if !errors.As(err, &p) || p.Line != 4 {
		t.Fatalf("Check = %#v, want a problem on line 4", err)
	}
	if got := err.Error(); !strings.HasPrefix(got, "line 4: ") {
		t.Errorf("Error() = %q", got)
	}
}

// FuzzCheck: Check never panics, never accepts what would break out of
// the HTML page's <style> element, and — where no string, comment or
// escape could hide or excuse it — never accepts a remote url() or an
// @import.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"p{background:url(a.png)}", "@import 'x';", `u\72l(http://x)`, "url(", "\"", "/*", `\`, `\0`, `\110000`,
		"p{background:image-set(\"a\" 1x,\"b\" 2x)}", "@font-face{src:url(a.otf)}", "@import0",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, css []byte) {
		if stylesheet.Check(css) != nil {
			return
		}
		low := strings.ToLower(string(css))
		for _, bad := range []string{"</style", "<!--", "javascript:"} {
			if strings.Contains(low, bad) {
				t.Fatalf("accepted %q, which contains %q", css, bad)
			}
		}
		if strings.ContainsAny(low, "\"'\\") || strings.Contains(low, "/*") {
			return
		}
		for _, bad := range []string{"url(http:", "url(https:", "url(//", "@import ", "@import;", "expression("} {
			if strings.Contains(low, bad) {
				t.Fatalf("accepted %q, which contains %q", css, bad)
			}
		}
	})
}
