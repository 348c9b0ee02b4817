package secretbox

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/fernet/fernet-go"
)

// checkInfo labels the HKDF derivation of key check values. Changing it
// changes every recorded check value: bump the version and migrate.
const checkInfo = "bindery secretbox: key check value, v1"

// FingerprintLen is the length of a key fingerprint, in hex digits.
const FingerprintLen = 12

// keyCheck derives the check value of a Fernet key: HKDF-SHA-256 of the
// key under its own label, in hex. It identifies a key without revealing
// it (HKDF is one-way), so that a data folder can record which key
// encrypted it and refuse another; it is not the key, not a MAC key, and
// unlinkable to the blind-index keys (another label).
func keyCheck(k *fernet.Key) string {
	b, err := hkdf.Key(sha256.New, k[:], nil, checkInfo, 32)
	if err != nil {
		panic("secretbox: hkdf: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// CheckValue returns the check value of the current key: what a data
// folder records as "encrypted under this key".
func (kr *Keyring) CheckValue() string { return keyCheck(kr.keys[0]) }

// CheckValues returns the check values of every key, the current first.
func (kr *Keyring) CheckValues() []string {
	out := make([]string, len(kr.keys))
	for i, k := range kr.keys {
		out[i] = keyCheck(k)
	}
	return out
}

// Holds reports whether check is the check value of one of the keyring's
// keys, and of which (0 is current).
func (kr *Keyring) Holds(check string) (int, bool) {
	for i, have := range kr.CheckValues() {
		if hmac.Equal([]byte(have), []byte(check)) {
			return i, true
		}
	}
	return -1, false
}

// Fingerprint shortens a check value for messages: its first
// FingerprintLen hex digits. It names a key without revealing it, so that
// an operator can tell two keys apart ("ENCRYPTION_KEY is 3f9a…, the data
// folder's is 81c2…").
func Fingerprint(check string) string {
	if len(check) > FingerprintLen {
		return check[:FingerprintLen]
	}
	return check
}

// KeyIndex reports which key of the keyring decrypts token (0 is current),
// or false if none does.
func (kr *Keyring) KeyIndex(token string) (int, bool) {
	_, i, err := kr.open(token)
	return i, err == nil
}
