// Package hyphen finds the places where a word may be hyphenated, with
// Frank Liang's pattern algorithm (the one TeX uses).
//
// A Hyphenator is built from a pattern file in the Hunspell/LibreOffice
// ".dic" format (the format of Debian's hyphen-* packages); English (US)
// patterns are embedded and returned by English. A Hyphenator is safe for
// concurrent use once built.
package hyphen

import (
	"bufio"
	"bytes"
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

//go:embed patterns/hyph_en_US.dic
var enUS []byte

// Hyphenator hyphenates words with one language's patterns.
type Hyphenator struct {
	// LeftMin and RightMin are the fewest letters kept before the first
	// and after the last hyphen (TeX's \lefthyphenmin and \righthyphenmin).
	LeftMin, RightMin int

	patterns   map[string][]uint8 // letters → inter-letter values (len(letters)+1)
	maxLen     int                // longest pattern, in runes
	exceptions map[string][]int
}

var (
	englishOnce sync.Once
	english     *Hyphenator
)

// English returns the Hyphenator for US English (Debian hyphen-en-us
// patterns, LeftMin 2, RightMin 3). It is built once and shared.
func English() *Hyphenator {
	englishOnce.Do(func() {
		h, err := Parse(enUS)
		if err != nil {
			panic("hyphen: embedded patterns: " + err.Error())
		}
		english = h
	})
	return english
}

// Parse reads patterns in the Hunspell ".dic" format: an optional charset
// line, optional LEFTHYPHENMIN/RIGHTHYPHENMIN lines, then one Liang pattern
// per line ("a1b", ".ex5am"). Lines starting with '%' or '#' are comments;
// non-standard patterns (with '/' replacements) are skipped. Parse never
// fails on content it does not understand; it returns an error only when
// no pattern was found.
func Parse(data []byte) (*Hyphenator, error) {
	h := &Hyphenator{LeftMin: 2, RightMin: 3, patterns: make(map[string][]uint8, 12000)}
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			first = false
			if !strings.ContainsAny(line, "0123456789.") || strings.HasPrefix(strings.ToUpper(line), "UTF") || strings.HasPrefix(strings.ToUpper(line), "ISO") {
				continue // charset line
			}
		}
		if line == "" || line[0] == '%' || line[0] == '#' {
			continue
		}
		if f := strings.Fields(line); len(f) == 2 {
			n, err := strconv.Atoi(f[1])
			switch {
			case err != nil:
			case f[0] == "LEFTHYPHENMIN":
				h.LeftMin = n
			case f[0] == "RIGHTHYPHENMIN":
				h.RightMin = n
			}
			continue
		}
		if strings.ContainsAny(line, "/= ") || strings.ToUpper(line) == line && !strings.ContainsAny(line, "0123456789") {
			continue // non-standard pattern or keyword
		}
		h.addPattern(line)
	}
	if len(h.patterns) == 0 {
		return nil, errNoPatterns
	}
	return h, nil
}

type parseError string

func (e parseError) Error() string { return string(e) }

const errNoPatterns = parseError("hyphen: no patterns found")

func (h *Hyphenator) addPattern(p string) {
	var letters []rune
	values := []uint8{0}
	for _, r := range p {
		if r >= '0' && r <= '9' {
			values[len(values)-1] = uint8(r - '0')
			continue
		}
		letters = append(letters, unicode.ToLower(r))
		values = append(values, 0)
	}
	if len(letters) == 0 {
		return
	}
	h.patterns[string(letters)] = values
	if len(letters) > h.maxLen {
		h.maxLen = len(letters)
	}
}

// AddException records the hyphenation of one word, written with hyphens
// ("ta-ble"), overriding the patterns.
func (h *Hyphenator) AddException(word string) {
	if h.exceptions == nil {
		h.exceptions = map[string][]int{}
	}
	var points []int
	n := 0
	for _, r := range word {
		if r == '-' {
			points = append(points, n)
			continue
		}
		n++
	}
	h.exceptions[strings.ToLower(strings.ReplaceAll(word, "-", ""))] = points
}

// Points returns the rune offsets in word where a hyphen may be inserted:
// offset i means "between rune i-1 and rune i". The word should be letters
// only (no punctuation); case does not matter. Offsets respect LeftMin and
// RightMin and are increasing. A word too short to hyphenate gives nil.
func (h *Hyphenator) Points(word string) []int {
	n := utf8.RuneCountInString(word)
	if n < h.LeftMin+h.RightMin {
		return nil
	}
	lower := strings.ToLower(word)
	if pts, ok := h.exceptions[lower]; ok {
		return append([]int(nil), pts...)
	}
	runes := make([]rune, 0, n+2)
	runes = append(runes, '.')
	runes = append(runes, []rune(lower)...)
	runes = append(runes, '.')
	values := make([]uint8, len(runes)+1)
	var key []byte
	for i := range runes {
		key = key[:0]
		for j := i; j < len(runes) && j-i < h.maxLen; j++ {
			key = utf8.AppendRune(key, runes[j])
			v, ok := h.patterns[string(key)]
			if !ok {
				continue
			}
			for k, x := range v {
				if x > values[i+k] {
					values[i+k] = x
				}
			}
		}
	}
	// values[k] sits before runes[k]; runes[1] is the word's first letter,
	// so a break before word rune i is values[i+1].
	var points []int
	for i := h.LeftMin; i <= n-h.RightMin; i++ {
		if values[i+1]%2 == 1 {
			points = append(points, i)
		}
	}
	return points
}

// Hyphenate returns word with sep inserted at every hyphenation point,
// e.g. Hyphenate("hyphenation", "-") == "hy-phen-ation".
func (h *Hyphenator) Hyphenate(word, sep string) string {
	pts := h.Points(word)
	if len(pts) == 0 {
		return word
	}
	var b strings.Builder
	i, p := 0, 0
	for _, r := range word {
		if p < len(pts) && pts[p] == i {
			b.WriteString(sep)
			p++
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
