package ideogram

import (
	"strings"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/manuscript"
)

// MaxAltTextRunes bounds alt text: screen readers read all of it, and
// EPUB accessibility checkers flag long alt text.
const MaxAltTextRunes = 250

// maxAltTitleRunes bounds the title inside alt text, leaving room for the
// description.
const maxAltTitleRunes = 120

// AltText returns the alt text of an image generated for the book titled
// title from a prompt whose gist is summary: "Cover illustration for
// “Title”: summary", cut at a word to at most MaxAltTextRunes runes.
// Control and bidirectional-override characters are removed, so untrusted
// metadata cannot reorder what a screen reader announces.
func AltText(title, summary string) string {
	title = clipRunes(printable(title), maxAltTitleRunes)
	summary = firstSentence(printable(summary))
	var s string
	switch {
	case title != "" && summary != "":
		s = "Cover illustration for “" + title + "”: " + summary
	case title != "":
		s = "Cover illustration for “" + title + "”"
	case summary != "":
		s = "Cover illustration: " + summary
	default:
		s = "Cover illustration"
	}
	return clipWords(s, MaxAltTextRunes)
}

// LocalCoverAltText is the alt text of the cover RenderCover draws for
// meta: it says what is on it.
func LocalCoverAltText(meta manuscript.Metadata) string {
	title := clipRunes(printable(meta.Title), maxAltTitleRunes)
	if title == "" {
		title = "Untitled"
	}
	s := "Cover of “" + title + "”"
	if sub := printable(meta.Subtitle); sub != "" {
		s += ", " + clipRunes(sub, 80)
	}
	if a := joinAuthors(meta.Authors); a != "" {
		s += ", by " + a
	}
	return clipWords(s+": the title set in serif type on a plain background", MaxAltTextRunes)
}

// firstSentence returns s up to the end of its first sentence, or all of
// s when it has none.
func firstSentence(s string) string {
	for i, r := range s {
		if (r == '.' || r == '!' || r == '?' || r == '。') && (i+utf8.RuneLen(r) == len(s) || s[i+utf8.RuneLen(r)] == ' ') {
			return strings.TrimSpace(s[:i+utf8.RuneLen(r)])
		}
	}
	return s
}

// clipWords cuts s to at most n runes, at a space when there is one in the
// last fifth, ending with an ellipsis when cut.
func clipWords(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	for i := len(r) - 1; i > len(r)*4/5; i-- {
		if r[i] == ' ' {
			r = r[:i]
			break
		}
	}
	return strings.TrimRight(string(r), " ,;:") + "…"
}

// maxAuthorsShown bounds the names drawn on a cover and put in alt text.
const maxAuthorsShown = 4

// joinAuthors returns "A", "A & B" or "A, B & C" (with "et al." beyond
// maxAuthorsShown), each name cleaned and cut to 60 runes.
func joinAuthors(authors []string) string {
	return joinNames(authors, func(a string) string { return clipRunes(printable(a), 60) })
}

// joinNames joins the non-empty results of clean over names as
// joinAuthors describes.
func joinNames(names []string, clean func(string) string) string {
	var out []string
	more := false
	for _, a := range names {
		if a = clean(a); a == "" {
			continue
		}
		if len(out) == maxAuthorsShown {
			more = true
			break
		}
		out = append(out, a)
	}
	switch {
	case len(out) == 0:
		return ""
	case more:
		return strings.Join(out, ", ") + " et al."
	case len(out) == 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " & " + out[len(out)-1]
}
