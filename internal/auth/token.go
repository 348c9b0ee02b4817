package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// Token prefixes. A recognisable prefix lets the log redactor and secret
// scanners find a leaked token, and tells a user what a string is for.
const (
	SessionPrefix  = "bindery_ses_"
	APITokenPrefix = "bindery_pat_"
	SetupPrefix    = "bindery_setup_"
)

// tokenBytes is the randomness in every token: 256 bits.
const tokenBytes = 32

// NewToken returns prefix + 256 random bits in base64url, and the SHA-256
// of the whole string, which is all that is ever stored. A fast hash is
// right here (unlike for passwords): the input is uniformly random, so
// there is nothing to guess offline.
func NewToken(prefix string) (token string, hash []byte) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported systems
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the SHA-256 of token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newID returns a random public identifier (128 bits, hex) for sessions
// and tokens: what users see and revoke by, unrelated to the secret.
func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// wellFormed reports whether tok has the prefix and the length of a token
// we issued, so garbage is refused before it costs a database query.
func wellFormed(tok, prefix string) bool {
	return strings.HasPrefix(tok, prefix) && len(tok) == len(prefix)+base64.RawURLEncoding.EncodedLen(tokenBytes)
}
