package secretbox

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

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

// KeyMismatchError is a store's refusal of a keyring that does not hold
// the key its data was encrypted with. It names the variable and both
// keys by fingerprint (Fingerprint), never by value.
type KeyMismatchError struct {
	Have string // fingerprint of ENCRYPTION_KEY
	Want string // fingerprint of the store's key; "" if unrecorded
	Of   string // what was encrypted: "data folder", "database"
}

func (e *KeyMismatchError) Error() string {
	want := "another key"
	if e.Want != "" {
		want = "key " + e.Want
	}
	return fmt.Sprintf("configuration: ENCRYPTION_KEY (key %s) is not the key this %s was encrypted with (%s): "+
		"set ENCRYPTION_KEY to the server's key; to change keys, put the old one in ENCRYPTION_KEY_PREVIOUS and run `bindery keys rotate`",
		e.Have, e.Of, want)
}

// KeyRecord is a store's side of CheckStore: where it records the check
// value of its key, and samples of what it encrypted.
type KeyRecord interface {
	// RecordedCheck returns the recorded check value, "" if none.
	RecordedCheck(ctx context.Context) (string, error)
	// SampleTokens returns one encrypted value of each encrypted column
	// that holds any (the first by id).
	SampleTokens(ctx context.Context) ([]string, error)
	// RecordCheckIfAbsent records check unless a value is recorded
	// already (another process may have recorded first).
	RecordCheckIfAbsent(ctx context.Context, check string) error
}

// CheckStore makes sure kr holds the key a store was encrypted with,
// recording it on first use; of names the store in the error ("data
// folder", "database").
//
// A store with a recorded check value opens only with a keyring that
// holds that key, as current or previous (a rotation in progress). One
// without (new, or written before check values existed) gets the check
// value of the key that decrypts its encrypted values — the oldest one
// needed, so that rotation moves the record on — if the keyring decrypts
// a sample of each encrypted column; of the current key if it holds none.
// Without this, a command run with another key would write accounts no
// other process could find, and the server would answer "wrong password":
// one store, two keys, no error.
func (kr *Keyring) CheckStore(ctx context.Context, st KeyRecord, of string) error {
	recorded, err := st.RecordedCheck(ctx)
	if err != nil {
		return err
	}
	if recorded == "" {
		samples, err := st.SampleTokens(ctx)
		if err != nil {
			return err
		}
		idx := 0
		for _, tok := range samples {
			i, ok := kr.KeyIndex(tok)
			if !ok {
				return &KeyMismatchError{Have: Fingerprint(kr.CheckValue()), Of: of}
			}
			idx = max(idx, i)
		}
		if err := st.RecordCheckIfAbsent(ctx, kr.CheckValues()[idx]); err != nil {
			return err
		}
		if recorded, err = st.RecordedCheck(ctx); err != nil {
			return err
		}
	}
	if _, ok := kr.Holds(recorded); !ok {
		return &KeyMismatchError{Have: Fingerprint(kr.CheckValue()), Want: Fingerprint(recorded), Of: of}
	}
	return nil
}
