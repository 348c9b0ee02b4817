package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// Recovery codes.
//
// A code is 16 characters of lower-case base32 in four groups,
// "abcd-efgh-ijkl-mnop": 80 random bits. They are stored as SHA-256
// hashes, not with a slow password hash, and that is enough because they
// are random, not chosen by people:
//
//   - Online, 10 valid codes among 2^80 make a guess succeed with
//     probability 2^-76, under the sign-in rate limit.
//   - Offline, after a database leak, recovering any of a user's 10 codes
//     takes about 2^76 SHA-256 evaluations: a GPU doing 10^10 per second
//     needs some 240 000 years. (At the 50 bits of a 10-character code it
//     would be hours, which is why codes are 16 characters.)
//   - With 2^80 possible codes no precomputed table helps, so no salt is
//     needed, and verification stays one hash per attempt.
const (
	RecoveryCodeCount = 10
	recoveryCodeLen   = 16 // characters, without dashes
	recoveryGroup     = 4
	// recoveryDomain separates these hashes from any other SHA-256 use.
	recoveryDomain = "bindery totp recovery code v1\x00"
)

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewRecoveryCodes returns RecoveryCodeCount new codes, to show the user
// once, and their hashes, to store (same order). The codes themselves must
// not be stored or logged.
func NewRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodeCount {
		b := make([]byte, recoveryCodeLen*5/8)
		rand.Read(b) // never fails: crypto/rand crashes the program rather than return weak bytes
		raw := strings.ToLower(recoveryEncoding.EncodeToString(b))
		var g []string
		for i := 0; i < len(raw); i += recoveryGroup {
			g = append(g, raw[i:i+recoveryGroup])
		}
		codes = append(codes, strings.Join(g, "-"))
		hashes = append(hashes, hashRecovery(raw))
	}
	return codes, hashes
}

// HashRecoveryCode returns the hash to store for code, or false if code is
// not a well-formed recovery code. NewRecoveryCodes already returns the
// hashes; this is for tests and imports.
func HashRecoveryCode(code string) (string, bool) {
	raw, ok := normaliseRecoveryCode(code)
	if !ok {
		return "", false
	}
	return hashRecovery(raw), true
}

func hashRecovery(raw string) string {
	sum := sha256.Sum256([]byte(recoveryDomain + raw))
	return hex.EncodeToString(sum[:])
}

// normaliseRecoveryCode lower-cases input and drops dashes and spaces. It
// reads the digits 0, 1 and 8, which base32 lacks, as the letters o, l and
// b they are mistaken for. It returns false unless 16 base32 characters
// remain.
func normaliseRecoveryCode(input string) (string, bool) {
	if len(input) > 4*recoveryCodeLen {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToLower(input) {
		switch {
		case r == '-' || r == ' ':
		case r == '0':
			b.WriteByte('o')
		case r == '1':
			b.WriteByte('l')
		case r == '8':
			b.WriteByte('b')
		case r >= 'a' && r <= 'z', r >= '2' && r <= '7':
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != recoveryCodeLen {
		return "", false
	}
	return b.String(), true
}

// MatchRecoveryCode returns the index in hashes of the code the user typed,
// and true, or -1 and false. Input is case-, dash- and space-insensitive.
// Every hash is compared, in constant time, whatever matches, so timing
// does not tell which (or whether an early) code matched. Empty hashes
// (used codes a caller blanked) never match.
//
// A code is single-use only if the caller removes hashes[index] in the
// same update that signs the user in; RedeemRecoveryCode returns the list
// to store.
func MatchRecoveryCode(hashes []string, input string) (index int, ok bool) {
	raw, valid := normaliseRecoveryCode(input)
	if !valid {
		return -1, false
	}
	want := []byte(hashRecovery(raw))
	index = -1
	for i, h := range hashes {
		eq := subtle.ConstantTimeCompare([]byte(h), want)
		index = subtle.ConstantTimeSelect(eq, i, index)
	}
	return index, index >= 0
}

// RedeemRecoveryCode is MatchRecoveryCode for sign-in: on a match it
// returns the hashes without the one used, which the caller must store
// (with a compare-and-swap on the old list, so that two concurrent uses of
// one code cannot both succeed) before signing the user in. On no match it
// returns hashes unchanged and false.
func RedeemRecoveryCode(hashes []string, input string) (remaining []string, ok bool) {
	i, ok := MatchRecoveryCode(hashes, input)
	if !ok {
		return hashes, false
	}
	remaining = make([]string, 0, len(hashes)-1)
	remaining = append(remaining, hashes[:i]...)
	return append(remaining, hashes[i+1:]...), true
}
