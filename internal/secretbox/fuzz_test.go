package secretbox

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecrypt feeds garbage tokens to Decrypt: it must never panic, and
// anything it accepts must re-encrypt to a token that decrypts to the same
// plaintext. Seeds: testdata/fuzz/FuzzDecrypt and the ones below.
func FuzzDecrypt(f *testing.F) {
	kr := mustKeyring(f, keyA, keyB)
	valid := mustEncrypt(f, kr, "seed plaintext")
	for _, s := range []string{"", "gAAAAA", valid, valid[:len(valid)-1], valid + "=", "\x80\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		msg, err := kr.Decrypt(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
			if kr.NeedsRotation(token) {
				t.Fatal("NeedsRotation true for an undecryptable token")
			}
			return
		}
		again, err := kr.Decrypt(mustEncrypt(t, kr, string(msg)))
		if err != nil || !bytes.Equal(again, msg) {
			t.Fatalf("round trip of an accepted token's plaintext failed: %v", err)
		}
	})
}

// FuzzDecryptAuthentic signs arbitrary token bodies with the key, so the
// fuzzer reaches the parsing after the MAC check that garbage never passes
// (where fernet-go, unguarded, panics on short tokens).
func FuzzDecryptAuthentic(f *testing.F) {
	kr := mustKeyring(f, keyA)
	for _, n := range []int{0, 8, 24, 40, 56, 72} {
		f.Add(make([]byte, n))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		kr.Decrypt(sign(kr.keys[0], body)) // must not panic; any result is fine
	})
}
