package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"net/url"
	"strings"
)

// MinTokenBytes is the least randomness a shared token may carry.
const MinTokenBytes = 32

// CheckTokenStrength reports whether tok looks like at least MinTokenBytes
// random bytes, written as hex or base64 (standard or URL alphabet, padded
// or not). Decoding alone is not enough — "aaaa…" decodes fine — so the
// estimated entropy of the text (Shannon, per character, times length)
// must also reach 128 bits, which random tokens of that length exceed by
// far and human-chosen phrases do not. The error never contains tok.
func CheckTokenStrength(tok string) error {
	n, ok := decodedLen(tok)
	if !ok {
		return errors.New("must be hex or base64 (generate one with `bindery keys generate`)")
	}
	if n < MinTokenBytes {
		return errors.New("is too short: it must encode at least 32 random bytes (64 hex or 43 base64 characters)")
	}
	if shannonBits(tok) < 128 {
		return errors.New("does not look random enough; generate one with `bindery keys generate`")
	}
	return nil
}

func decodedLen(s string) (int, bool) {
	if b, err := hex.DecodeString(s); err == nil {
		return len(b), true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return len(b), true
		}
	}
	return 0, false
}

// shannonBits estimates the information in s from its character
// frequencies.
func shannonBits(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h * float64(n)
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " \t") {
		return nil, errors.New("not an http(s) URL")
	}
	return u, nil
}
