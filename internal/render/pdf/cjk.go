package pdf

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// cjkStretch is how far the break opportunity between two CJK
// characters may stretch, in ems: a justified line of Chinese or
// Japanese, which has no word spaces, spreads its characters instead.
// A tenth of an em over some thirty characters leaves room for the
// punctuation rules to push a character to the next line.
const cjkStretch = 0.1

// isCJK reports whether r is a character of Chinese or Japanese text,
// which breaks between any two characters (UAX #14 classes ID, CJ and
// the CJK punctuation): Han ideographs, kana, Bopomofo, CJK symbols and
// punctuation, full-width forms. Korean, which is written with spaces
// between words, breaks at its spaces.
func isCJK(r rune) bool {
	if r < 0x2e80 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo) ||
		r >= 0x3000 && r <= 0x303f || // CJK symbols and punctuation
		r >= 0xff00 && r <= 0xffef || // half- and full-width forms
		r >= 0x30a0 && r <= 0x30ff || r >= 0x31f0 && r <= 0x31ff
}

// noBreakBefore are the characters a line may not begin with (UAX #14
// classes CL, CP, EX, IS, NS, and the small kana and prolonged sound mark
// of Japanese kinsoku shori): closing brackets and quotes, stops, commas,
// iteration marks.
const noBreakBefore = "、。，．：；？！）」』】〕〉》〙〗〛｝］〟ー々〻ゝゞヽヾぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ・‥…〜～゛゜％‰℃" +
	").,;:!?]}\u201d\u2019\u00bb\u203a"

// noBreakAfter are the characters a line may not end with (UAX #14 class
// OP): opening brackets and quotes.
const noBreakAfter = "（「『【〔〈《〘〖〚｛［〝([{\u201c\u2018\u00ab\u2039"

// cjkBreak reports whether a line may break between a and b: one of them
// is CJK, b may begin a line and a may end one.
func cjkBreak(a, b rune) bool {
	return (isCJK(a) || isCJK(b)) && !isSpace(a) && !isSpace(b) &&
		!strings.ContainsRune(noBreakBefore, b) && !strings.ContainsRune(noBreakAfter, a) &&
		!unicode.In(b, unicode.Mn, unicode.Me, unicode.Cf, unicode.Variation_Selector)
}

// hasCJK reports whether txt has a CJK character; text without one (all
// of a Latin book) pays only this scan for CJK line breaking.
func hasCJK(txt string) bool {
	for i := 0; i < len(txt); i++ {
		if txt[i] >= 0xe2 { // the lead byte of U+2000 and above
			for _, r := range txt[i:] {
				if isCJK(r) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// cjkBreakPoints returns where a line may break inside txt between CJK
// characters (see cjkBreak); nil when txt has none.
func cjkBreakPoints(txt string) []breakPoint {
	if !hasCJK(txt) {
		return nil
	}
	var pts []breakPoint
	prev, i := rune(-1), 0
	for _, r := range txt {
		if i > 0 && cjkBreak(prev, r) {
			pts = append(pts, breakPoint{rune: i, kind: breakCJK})
		}
		prev = r
		i++
	}
	return pts
}

// mergePoints merges two lists of break points sorted by rune; at a rune
// in both, a's wins.
func mergePoints(a, b []breakPoint) []breakPoint {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make([]breakPoint, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].rune < b[j].rune:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].rune < a[i].rune:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// lastRune and firstRune return the last and first rune of s, or -1.
func lastRune(s string) rune {
	if s == "" {
		return -1
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

func firstRune(s string) rune {
	if s == "" {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r
}
