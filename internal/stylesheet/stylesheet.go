// Package stylesheet checks a book's own CSS (metadata.yaml's
// epub.stylesheet) before it is stored or built into an output.
//
// The stylesheet travels into the EPUB (a file of its own) and into the
// standalone HTML page (inside a <style> element allowed by its hash), and
// is read by e-readers and browsers of people other than its author. So it
// may style the book and nothing else:
//
//   - no remote references: url(), image-set() and the like may only name
//     a file by a relative path (no scheme, no "//host", no "/absolute"),
//     and @import is refused outright (an imported file would never reach
//     the outputs, and a remote one would let a reader's device call home);
//   - no legacy script hooks: expression() (old Internet Explorer),
//     behavior and -moz-binding (HTC and XBL bindings), and "javascript:"
//     anywhere;
//   - nothing that ends the HTML page's <style> element early ("</style")
//     or hides markup in it ("<!--");
//   - well-formed: no unclosed strings or comments, and at most MaxBytes.
//
// The same Check runs at upload (bookfs), in bindery check and before a
// build, so what a build would refuse is refused at upload with the same
// message. The tokens come from gorilla/css's CSS3 scanner (already used
// through bluemonday); escapes are decoded before names are compared, so
// "expr\65 ssion(" is caught too.
package stylesheet

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/css/scanner"
)

// MaxBytes is the largest stylesheet accepted: a book's CSS is a few
// kilobytes; a megabyte is generous and keeps the scan cheap.
const MaxBytes = 1 << 20

// Problem is a reason to refuse a stylesheet, at a 1-based line (0 when
// the whole file is at fault).
type Problem struct {
	Line int
	Msg  string
}

func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
	}
	return p.Msg
}

// Check returns nil when css is acceptable, else a *Problem naming the
// first reason to refuse it.
func Check(css []byte) error {
	if len(css) > MaxBytes {
		return &Problem{Msg: fmt.Sprintf("the stylesheet is larger than %d KiB", MaxBytes>>10)}
	}
	if !utf8.Valid(css) {
		return &Problem{Msg: "the stylesheet is not valid UTF-8 text"}
	}
	low := strings.ToLower(string(css))
	for _, bad := range []struct{ needle, why string }{
		{"</style", `"</style" would end the HTML page's style element`},
		{"<!--", `"<!--" has no place in a stylesheet`},
		{"javascript:", `"javascript:" is refused`},
	} {
		if i := strings.Index(low, bad.needle); i >= 0 {
			return &Problem{Line: 1 + strings.Count(low[:i], "\n"), Msg: bad.why}
		}
	}
	s := scanner.New(string(css))
	for {
		t := s.Next()
		switch t.Type {
		case scanner.TokenEOF:
			return nil
		case scanner.TokenError:
			return &Problem{Line: t.Line, Msg: "the stylesheet is malformed: " + t.Value}
		case scanner.TokenS, scanner.TokenComment:
			continue
		case scanner.TokenURI:
			if err := checkRef(t.Line, uriValue(t.Value)); err != nil {
				return err
			}
		case scanner.TokenFunction:
			name := fold(t.Value)
			if name == "expression(" {
				return &Problem{Line: t.Line, Msg: "expression() is refused (a legacy script hook)"}
			}
			if refFunctions[name] {
				// url("x") scans as a function and a string, and an
				// escaped u\72l(x) as a function and loose tokens: read
				// the argument up to the closing parenthesis either way.
				arg, err := argument(s, t.Line)
				if err != nil {
					return err
				}
				if err := checkRef(t.Line, arg); err != nil {
					return err
				}
			}
		case scanner.TokenAtKeyword:
			if fold(t.Value) == "@import" {
				return &Problem{Line: t.Line, Msg: "@import is not supported: put every rule in this one stylesheet"}
			}
		case scanner.TokenIdent:
			if name := fold(t.Value); name == "behavior" || name == "-moz-binding" {
				return &Problem{Line: t.Line, Msg: name + " is refused (a legacy script hook)"}
			}
		}
	}
}

// refFunctions take a URL: url("x") scans as the function url( and a
// string, unlike url(x), which is one URI token.
var refFunctions = map[string]bool{"url(": true, "src(": true, "image(": true, "image-set(": true, "-webkit-image-set(": true}

// argument reads the tokens after a function's "(" up to its ")" and
// returns the first argument's text: a string's content, or the loose
// tokens' text, unescaped.
func argument(s *scanner.Scanner, line int) (string, error) {
	var b strings.Builder
	for depth := 1; ; {
		t := s.Next()
		switch t.Type {
		case scanner.TokenEOF:
			return "", &Problem{Line: line, Msg: "the stylesheet is malformed: a function is not closed"}
		case scanner.TokenError:
			return "", &Problem{Line: t.Line, Msg: "the stylesheet is malformed: " + t.Value}
		case scanner.TokenS, scanner.TokenComment:
			continue
		case scanner.TokenString:
			if b.Len() == 0 {
				b.WriteString(unquote(t.Value))
				continue
			}
		case scanner.TokenFunction:
			depth++
		case scanner.TokenChar:
			switch t.Value {
			case "(":
				depth++
			case ")":
				if depth--; depth == 0 {
					return unescape(b.String()), nil
				}
			case ",":
				if depth == 1 {
					// Further arguments (image-set's resolutions) are not
					// references; the next url()/string is checked on
					// its own when it comes.
					rest, err := argument(s, line)
					if err != nil {
						return "", err
					}
					if err := checkRef(line, rest); err != nil {
						return "", err
					}
					return unescape(b.String()), nil
				}
			}
		case scanner.TokenURI:
			if err := checkRef(t.Line, uriValue(t.Value)); err != nil {
				return "", err
			}
			continue
		}
		if b.Len() < 4096 {
			b.WriteString(t.Value)
		}
	}
}

// checkRef accepts a reference to a file of the book: a relative path, or
// a fragment (#id, as in SVG filters). Anything with a scheme (http:,
// data:, file:), a host (//…) or an absolute path is refused.
func checkRef(line int, ref string) error {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "" || strings.HasPrefix(ref, "#"):
		return nil
	case strings.HasPrefix(ref, "//") || strings.HasPrefix(ref, `\\`):
		return &Problem{Line: line, Msg: fmt.Sprintf("url(%s) names another host; only files of the book may be referenced", clip(ref))}
	case strings.HasPrefix(ref, "/"):
		return &Problem{Line: line, Msg: fmt.Sprintf("url(%s) is an absolute path; reference files of the book by relative paths", clip(ref))}
	case hasScheme(ref):
		return &Problem{Line: line, Msg: fmt.Sprintf("url(%s) is not a file of the book; remote and data: URLs are refused", clip(ref))}
	}
	return nil
}

// hasScheme reports whether ref starts with a URL scheme ("x:" before any
// "/", "?" or "#").
func hasScheme(ref string) bool {
	i := strings.IndexAny(ref, ":/?#")
	if i <= 0 || ref[i] != ':' {
		return false
	}
	for j, r := range ref[:i] {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')
		if !ok {
			return false
		}
	}
	return true
}

// uriValue returns the reference inside a url(…) token, unquoted and
// unescaped.
func uriValue(tok string) string {
	v := tok[strings.IndexByte(tok, '(')+1:]
	v = strings.TrimSuffix(v, ")")
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		v = unquote(v)
	}
	return unescape(v)
}

// unquote drops the quotes around a CSS string token.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// fold unescapes and lower-cases a name, so that escapes and case cannot
// disguise it.
func fold(s string) string { return strings.ToLower(unescape(s)) }

// unescape decodes CSS escapes: a backslash and 1–6 hex digits (and one
// optional white space after them) is that code point; a backslash and a
// newline is nothing; a backslash and any other character is the
// character.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(s) && j < i+7 && isHex(s[j]) {
			j++
		}
		if j > i+1 {
			n, _ := strconv.ParseUint(s[i+1:j], 16, 32)
			r := rune(n) // #nosec G115 -- at most 6 hex digits: below 2^24
			if n == 0 || n > utf8.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
				r = utf8.RuneError
			}
			b.WriteRune(r)
			if j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n') {
				j++
			}
			i = j - 1
			continue
		}
		if s[j] == '\n' {
			i = j
			continue
		}
		b.WriteByte(s[j])
		i = j
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
