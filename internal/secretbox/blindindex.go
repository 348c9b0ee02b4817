package secretbox

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"

	"github.com/fernet/fernet-go"
)

// indexInfo labels the HKDF derivation of blind-index keys. Changing it
// changes every index: bump the version and re-index instead.
const indexInfo = "bindery secretbox: blind index of e-mail addresses, v1"

// IndexKey is the key of a blind index, derived from one Fernet key. Its
// bytes live only inside a closure, which fmt prints as an address: no
// formatting of an IndexKey, or of a struct holding one, reveals them.
type IndexKey struct{ mac func() hash.Hash }

// deriveIndexKey derives the blind-index key from a Fernet key with HKDF
// (RFC 5869) under its own label.
//
// Why not the Fernet key itself: its first half is the HMAC-SHA-256 key
// that authenticates tokens. An index computed with it would be that MAC
// over a value an attacker chooses (the e-mail address they sign up with),
// stored where a database reader sees it: a signing oracle for forged
// tokens. One key, one purpose; and the label keeps any future index (of
// another column) unlinkable to this one.
func deriveIndexKey(k *fernet.Key) IndexKey {
	b, err := hkdf.Key(sha256.New, k[:], nil, indexInfo, 32)
	if err != nil {
		panic("secretbox: hkdf: " + err.Error()) // only for lengths over 255*32
	}
	return IndexKey{mac: func() hash.Hash { return hmac.New(sha256.New, b) }}
}

// Format prints a placeholder for every verb.
func (IndexKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, "secretbox.IndexKey(redacted)") }

// BlindIndex returns the blind index of an e-mail address: hex
// HMAC-SHA-256, under key, of the address trimmed and lower-cased (the
// normalisation of bindery.NormalizeEmail, so that what a user types at
// sign-in finds what was stored at sign-up). It lets the store keep the
// address encrypted and still find a user by equality on the index column.
//
// The index is deterministic, so equal addresses have equal indexes: it
// reveals which rows share an address, and nothing else without the key.
// It is full length (64 hex digits) so that it can carry a unique
// constraint.
func BlindIndex(key IndexKey, value string) string {
	m := key.mac()
	m.Write([]byte(strings.ToLower(strings.TrimSpace(value))))
	return hex.EncodeToString(m.Sum(nil))
}

// IndexKey returns the blind-index key derived from the current key: the
// one to use when writing an index.
func (kr *Keyring) IndexKey() IndexKey { return kr.index[0] }

// BlindIndex is BlindIndex(kr.IndexKey(), value): the index to store.
func (kr *Keyring) BlindIndex(value string) string { return BlindIndex(kr.index[0], value) }

// BlindIndexes returns the index of value under the current key first, then
// under each previous key: the values to look up with
// `WHERE email_index IN (…)`. Indexes change with the key, so until
// `bindery keys rotate` has re-indexed every row some are still under a
// previous key; looking up only the current index would lock those users
// out.
func (kr *Keyring) BlindIndexes(value string) []string {
	out := make([]string, len(kr.index))
	for i, k := range kr.index {
		out[i] = BlindIndex(k, value)
	}
	return out
}
