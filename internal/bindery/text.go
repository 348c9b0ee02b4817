package bindery

import (
	"fmt"
	"unicode"
)

// Invisible characters. Unicode format characters (category Cf) change
// how the text around them is shown without showing themselves: the
// bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069) can make "report<U+202E>fdp.exe" display as "reportexe.pdf";
// the marks (U+200E, U+200F, U+061C), zero-width spaces and joiners
// (U+200B–U+200D, U+2060, U+FEFF) make two names that look the same
// differ. In a name someone reads to decide what it is — a file name, an
// account's display name, a token's name — they are refused.
//
// Prose (a book's title) is gentler: joiners and the direction marks are
// needed to spell some languages (the zero-width non-joiner in Persian,
// marks in mixed right-to-left titles), so only the characters that
// reorder or hide text are refused there (see TitleRune).

// NameRune returns the first character of s not allowed in a name — a
// control character or a format character (Cf) — and true, or 0 and
// false when s is clean.
func NameRune(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// TitleRune is NameRune for prose: it lets through the joiners
// (U+200C, U+200D), the direction marks (U+200E, U+200F, U+061C) and the
// soft hyphen (U+00AD), which spell words, and refuses every other
// control or format character: the bidirectional embeddings, overrides
// and isolates, zero-width spaces, U+FEFF, tags.
func TitleRune(s string) (rune, bool) {
	for _, r := range s {
		switch r {
		case '\u200c', '\u200d', '\u200e', '\u200f', '\u061c', '\u00ad':
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// DescribeRune names r for an error message: "U+202E", with what it is
// for the common cases, never the character itself (which would do to the
// message what it did to the name).
func DescribeRune(r rune) string {
	what := ""
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		what = " (a bidirectional text control)"
	case r == 0x200e || r == 0x200f || r == 0x061c:
		what = " (a direction mark)"
	case r == 0x200b || r == 0x200c || r == 0x200d || r == 0x2060 || r == 0xfeff:
		what = " (an invisible zero-width character)"
	case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
		what = " (a control character)"
	default:
		what = " (an invisible formatting character)"
	}
	return fmt.Sprintf("U+%04X%s", r, what)
}
