// Package secretbox encrypts sensitive values at rest (TOTP secrets,
// e-mail addresses, API credentials) with Fernet, the format of the
// original system's DataEncryptor, so that values its Python code wrote
// still decrypt and the reverse.
//
// A Keyring holds the current key, which encrypts, and any number of
// previous keys, which only decrypt: an operator rotates by moving the old
// ENCRYPTION_KEY into ENCRYPTION_KEY_PREVIOUS, setting a new one, and
// running `bindery keys rotate` (see Rotate) before dropping the old key
// (NOTES.md #12).
//
// Nothing in this package prints a key or a plaintext: errors name the
// variable at fault, and a Keyring formats as a count of keys.
package secretbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/fernet/fernet-go"
)

// Variable names used in error messages.
const (
	EnvKey         = "ENCRYPTION_KEY"
	EnvKeyPrevious = "ENCRYPTION_KEY_PREVIOUS"
)

// ErrInvalidToken is returned for any token that does not decrypt: not a
// Fernet token, made with a key the Keyring does not hold, or altered.
// The reasons are not told apart, so that the error is no oracle.
var ErrInvalidToken = errors.New("secretbox: token is malformed, altered, or made with a key not in ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS")

// ErrExpired is returned by DecryptMaxAge for an authentic token older than
// the allowed age, or stamped too far in the future.
var ErrExpired = errors.New("secretbox: token has expired")

// KeyError reports a missing or malformed key. Its text names the variable
// (and for ENCRYPTION_KEY_PREVIOUS the 1-based entry) and never contains
// the value.
type KeyError struct {
	Var    string // EnvKey, EnvKeyPrevious, or a key file path
	Entry  int    // 1-based position in ENCRYPTION_KEY_PREVIOUS; 0 otherwise
	Reason string
}

func (e *KeyError) Error() string {
	if e.Entry > 0 {
		return fmt.Sprintf("configuration: %s entry %d %s", e.Var, e.Entry, e.Reason)
	}
	return fmt.Sprintf("configuration: %s %s", e.Var, e.Reason)
}

const badKeyReason = "is not a Fernet key: it must be 32 random bytes in URL-safe base64 (44 characters); generate one with `bindery keys generate`"

// Keyring encrypts with its current key and decrypts with the current key
// and then each previous key, in order. It is immutable, and so safe for
// concurrent use. The zero value holds no key and is not usable: build one
// with NewKeyring or Open.
//
// Key material sits behind two pointers: fmt dereferences only the
// outermost one, even for a Keyring inside a struct printed with a wrong
// verb, so no formatting path prints key bytes (TestFormattingRedacts).
type Keyring struct{ *ring }

type ring struct {
	keys  []*fernet.Key // keys[0] is current; all decrypt
	index []IndexKey    // index[i] is derived from keys[i]
}

// NewKeyring parses the current key and the previous keys. Each key is 32
// bytes in base64, URL-safe (what Python's Fernet.generate_key and
// `bindery keys generate` print) or standard, padded or not: Python's
// Fernet accepts both alphabets too, so a key works on either side.
// Empty previous entries and previous keys equal to the current key or to
// an earlier entry are dropped.
//
// A malformed key is a *KeyError naming ENCRYPTION_KEY, or
// ENCRYPTION_KEY_PREVIOUS and the entry number, without the value.
func NewKeyring(current string, previous ...string) (*Keyring, error) {
	if current == "" {
		return nil, &KeyError{Var: EnvKey, Reason: "is not set; generate one with `bindery keys generate`"}
	}
	k, err := parseKey(current)
	if err != nil {
		return nil, &KeyError{Var: EnvKey, Reason: badKeyReason}
	}
	kr := &Keyring{&ring{}}
	kr.add(k)
	for i, s := range previous {
		if s == "" {
			continue
		}
		k, err := parseKey(s)
		if err != nil {
			return nil, &KeyError{Var: EnvKeyPrevious, Entry: i + 1, Reason: badKeyReason}
		}
		kr.add(k)
	}
	return kr, nil
}

func (r *ring) add(k *fernet.Key) {
	for _, have := range r.keys {
		if *have == *k {
			return
		}
	}
	r.keys = append(r.keys, k)
	r.index = append(r.index, deriveIndexKey(k))
}

// parseKey decodes 32 bytes from any of the four base64 forms.
func parseKey(s string) (*fernet.Key, error) {
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil && len(b) == len(fernet.Key{}) {
			k := new(fernet.Key)
			copy(k[:], b)
			return k, nil
		}
	}
	return nil, errors.New("not a key")
}

// GenerateKey returns a new random key in the form Python's
// Fernet.generate_key prints: 32 bytes, URL-safe base64, padded.
func GenerateKey() string {
	var k fernet.Key
	rand.Read(k[:]) // never fails: crypto/rand crashes the program rather than return weak bytes
	return k.Encode()
}

// Encrypt returns a Fernet token of plaintext made with the current key.
// The token is URL-safe base64 text, 73 bytes plus about 1.33 times the
// plaintext. It records, unencrypted, the second at which it was made.
func (kr *Keyring) Encrypt(plaintext []byte) (string, error) {
	tok, err := fernet.EncryptAndSign(plaintext, kr.keys[0])
	if err != nil {
		return "", errors.New("secretbox: encrypt: no randomness available")
	}
	return string(tok), nil
}

// Decrypt returns the plaintext of a token made with any key of the
// keyring, or ErrInvalidToken. Tokens never expire here: data at rest stays
// readable however old it is (see DecryptMaxAge for tokens that should).
func (kr *Keyring) Decrypt(token string) ([]byte, error) {
	msg, _, err := kr.open(token)
	return msg, err
}

// DecryptMaxAge is Decrypt for short-lived tokens: it also refuses, with
// ErrExpired, a token made more than maxAge before now or more than a
// minute after it (the clock skew Python's Fernet allows).
func (kr *Keyring) DecryptMaxAge(token string, maxAge time.Duration, now time.Time) ([]byte, error) {
	msg, _, err := kr.open(token)
	if err != nil {
		return nil, err
	}
	made := tokenTime(token)
	if now.Sub(made) > maxAge || made.Sub(now) > time.Minute {
		return nil, ErrExpired
	}
	return msg, nil
}

// NeedsRotation reports whether token decrypts only with a previous key,
// that is, whether Rotate would re-encrypt it. It is false for tokens made
// with the current key and for tokens no key decrypts.
func (kr *Keyring) NeedsRotation(token string) bool {
	_, i, err := kr.open(token)
	return err == nil && i > 0
}

// open decrypts token and reports which key did it (0 is current).
//
// The token's structure is checked before fernet-go sees it: that library
// slices a token it has authenticated without checking its length, and so
// would panic on a short token whose MAC is valid.
func (kr *Keyring) open(token string) ([]byte, int, error) {
	if !wellFormed(token) {
		return nil, -1, ErrInvalidToken
	}
	for i, k := range kr.keys {
		// ttl 0: fernet-go checks no timestamp, like Python's decrypt without ttl.
		if msg := fernet.VerifyAndDecrypt([]byte(token), 0, []*fernet.Key{k}); msg != nil {
			return msg, i, nil
		}
	}
	return nil, -1, ErrInvalidToken
}

// Fernet token layout: version (1), timestamp (8), IV (16), ciphertext
// (a positive multiple of 16), HMAC-SHA-256 (32).
const (
	tokenVersion  = 0x80
	tokenOverhead = 1 + 8 + 16 + 32
)

// wellFormed reports whether token is padded URL-safe base64 of a version
// 0x80 token of possible length. It does not check the MAC.
func wellFormed(token string) bool {
	b, err := base64.URLEncoding.DecodeString(token)
	if err != nil || len(b) < tokenOverhead+16 || (len(b)-tokenOverhead)%16 != 0 {
		return false
	}
	return b[0] == tokenVersion
}

// tokenTime returns the timestamp of a well-formed token.
func tokenTime(token string) time.Time {
	b, _ := base64.URLEncoding.DecodeString(token)
	// A timestamp past 2^63 (only a key holder can make one) is clamped,
	// not wrapped to a negative time: such a token lies in the far future,
	// which DecryptMaxAge refuses.
	return time.Unix(int64(min(binary.BigEndian.Uint64(b[1:9]), math.MaxInt64)), 0)
}

// String describes the keyring without revealing a key.
func (kr Keyring) String() string {
	if kr.ring == nil || len(kr.keys) == 0 {
		return "secretbox.Keyring(empty)"
	}
	return fmt.Sprintf("secretbox.Keyring(1 current key, %d previous)", len(kr.keys)-1)
}

// Format prints String for every verb, so no %v, %+v, %#v or %x of a
// Keyring (in a log line, a panic, a test failure) can print key bytes.
func (kr Keyring) Format(f fmt.State, verb rune) { fmt.Fprint(f, kr.String()) }
