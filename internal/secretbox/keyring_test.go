package secretbox

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fernet/fernet-go"
)

// Fixed test keys (never used outside tests).
const (
	keyA = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	keyB = "Wk5MFcJ0PE7HvOMpDBxBFRdFUC-6O-TQnaBj1dVdVSk="
	keyC = "4mZyPq0n8JzV0bF9y6sZqJ8L2aQdKk3rWm3Vt1cHqXA="
)

func mustKeyring(tb testing.TB, current string, previous ...string) *Keyring {
	tb.Helper()
	kr, err := NewKeyring(current, previous...)
	if err != nil {
		tb.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func mustEncrypt(tb testing.TB, kr *Keyring, plaintext string) string {
	tb.Helper()
	tok, err := kr.Encrypt([]byte(plaintext))
	if err != nil {
		tb.Fatalf("Encrypt: %v", err)
	}
	return tok
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	kr := mustKeyring(t, keyA)
	for _, n := range []int{0, 1, 15, 16, 17, 100, 4096} {
		plain := bytes.Repeat([]byte{'x'}, n)
		tok, err := kr.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains([]byte(tok), []byte("xxxx")) && n > 0 {
			t.Errorf("token %q shows the plaintext", tok)
		}
		got, err := kr.Decrypt(tok)
		if err != nil {
			t.Fatalf("Decrypt(%d bytes): %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("Decrypt = %q, want %q", got, plain)
		}
	}
}

func TestEncryptIsRandomised(t *testing.T) {
	kr := mustKeyring(t, keyA)
	if a, b := mustEncrypt(t, kr, "same"), mustEncrypt(t, kr, "same"); a == b {
		t.Error("two encryptions of the same plaintext gave the same token")
	}
}

func TestDecryptWithPreviousKeys(t *testing.T) {
	old := mustKeyring(t, keyB)
	older := mustKeyring(t, keyC)
	kr := mustKeyring(t, keyA, keyB, keyC)
	for name, tok := range map[string]string{
		"current":  mustEncrypt(t, kr, "secret"),
		"previous": mustEncrypt(t, old, "secret"),
		"older":    mustEncrypt(t, older, "secret"),
	} {
		got, err := kr.Decrypt(tok)
		if err != nil || string(got) != "secret" {
			t.Errorf("%s: Decrypt = %q, %v; want secret", name, got, err)
		}
		if got, want := kr.NeedsRotation(tok), name != "current"; got != want {
			t.Errorf("%s: NeedsRotation = %v, want %v", name, got, want)
		}
	}
	// A keyring that lost the previous key no longer decrypts its tokens.
	if _, err := mustKeyring(t, keyA).Decrypt(mustEncrypt(t, old, "secret")); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Decrypt with dropped key: err = %v, want ErrInvalidToken", err)
	}
	if mustKeyring(t, keyA).NeedsRotation("garbage") {
		t.Error("NeedsRotation(garbage) = true, want false")
	}
}

func TestDecryptRefusesAlteredTokens(t *testing.T) {
	kr := mustKeyring(t, keyA)
	tok := mustEncrypt(t, kr, "attack at dawn")
	raw, _ := base64.URLEncoding.DecodeString(tok)
	for i := range raw {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		if _, err := kr.Decrypt(base64.URLEncoding.EncodeToString(b)); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("byte %d flipped: err = %v, want ErrInvalidToken", i, err)
		}
	}
	for _, bad := range []string{"", "gAAAAA", tok[:len(tok)-4], tok + "AAAA", strings.TrimRight(tok, "="), " " + tok} {
		if _, err := kr.Decrypt(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Decrypt(%q): err = %v, want ErrInvalidToken", bad, err)
		}
	}
}

// sign builds a token with a valid MAC under k around an arbitrary body
// (timestamp, IV and ciphertext), as only a key holder could.
func sign(k *fernet.Key, body []byte) string {
	tok := append([]byte{tokenVersion}, body...)
	m := hmac.New(sha256.New, k[:16])
	m.Write(tok)
	return base64.URLEncoding.EncodeToString(m.Sum(tok))
}

// fernet-go panics on authentic tokens that are too short; Decrypt must not.
func TestDecryptShortAuthenticTokens(t *testing.T) {
	kr := mustKeyring(t, keyA)
	for _, n := range []int{0, 7, 8, 10, 23, 24, 30, 40, 41} {
		tok := sign(kr.keys[0], make([]byte, n))
		if _, err := kr.Decrypt(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("authentic %d-byte body: err = %v, want ErrInvalidToken", n, err)
		}
	}
}

func TestDecryptMaxAge(t *testing.T) {
	kr := mustKeyring(t, keyA)
	made := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	raw, err := fernet.EncryptAndSignAtTime([]byte("state"), kr.keys[0], made)
	if err != nil {
		t.Fatal(err)
	}
	tok := string(raw)
	tests := []struct {
		now  time.Time
		want error
	}{
		{made, nil},
		{made.Add(10 * time.Minute), nil},
		{made.Add(10*time.Minute + time.Second), ErrExpired},
		{made.Add(-time.Minute), nil},
		{made.Add(-time.Minute - time.Second), ErrExpired},
	}
	for _, tt := range tests {
		_, err := kr.DecryptMaxAge(tok, 10*time.Minute, tt.now)
		if !errors.Is(err, tt.want) {
			t.Errorf("DecryptMaxAge at %v: err = %v, want %v", tt.now.Sub(made), err, tt.want)
		}
	}
	// Decrypt itself has no TTL: data at rest does not expire.
	if _, err := kr.Decrypt(tok); err != nil {
		t.Errorf("Decrypt of an old token: %v", err)
	}
	if got := tokenTime(tok); !got.Equal(made) {
		t.Errorf("tokenTime = %v, want %v", got, made)
	}
}

func TestNewKeyringErrors(t *testing.T) {
	short := base64.URLEncoding.EncodeToString(make([]byte, 31))
	secretish := "not-a-key-but-a-secret-value-0123456789"
	tests := []struct {
		name     string
		current  string
		previous []string
		want     string
	}{
		{"unset", "", nil, "ENCRYPTION_KEY is not set"},
		{"not base64", secretish, nil, "ENCRYPTION_KEY is not a Fernet key"},
		{"short", short, nil, "ENCRYPTION_KEY is not a Fernet key"},
		{"hex", strings.Repeat("ab", 32), nil, "ENCRYPTION_KEY is not a Fernet key"},
		{"bad previous", keyA, []string{keyB, secretish}, "ENCRYPTION_KEY_PREVIOUS entry 2 is not a Fernet key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewKeyring(tt.current, tt.previous...)
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("err = %v, want a *KeyError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("err = %q, want it to contain %q", msg, tt.want)
			}
			for _, v := range append([]string{tt.current}, tt.previous...) {
				if v != "" && strings.Contains(msg, v) {
					t.Errorf("err = %q shows a key value", msg)
				}
			}
		})
	}
}

func TestNewKeyringAcceptsKeyForms(t *testing.T) {
	raw, _ := base64.URLEncoding.DecodeString(keyA)
	want := mustEncrypt(t, mustKeyring(t, keyA), "x")
	for _, form := range []string{
		keyA,
		base64.RawURLEncoding.EncodeToString(raw),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
	} {
		kr, err := NewKeyring(form)
		if err != nil {
			t.Errorf("NewKeyring(%s form): %v", form, err)
			continue
		}
		if _, err := kr.Decrypt(want); err != nil {
			t.Errorf("key form %q decodes to another key", form)
		}
	}
}

func TestNewKeyringDropsDuplicates(t *testing.T) {
	kr := mustKeyring(t, keyA, "", keyA, keyB, keyB)
	if got := len(kr.keys); got != 2 {
		t.Errorf("len(keys) = %d, want 2", got)
	}
	if got := kr.String(); got != "secretbox.Keyring(1 current key, 1 previous)" {
		t.Errorf("String = %q", got)
	}
}

func TestGenerateKey(t *testing.T) {
	k := GenerateKey()
	if len(k) != 44 || !strings.HasSuffix(k, "=") {
		t.Errorf("GenerateKey = %d chars, want 44 of padded URL-safe base64", len(k))
	}
	if _, err := NewKeyring(k); err != nil {
		t.Errorf("NewKeyring(GenerateKey()): %v", err)
	}
	if GenerateKey() == k {
		t.Error("GenerateKey returned the same key twice")
	}
}

// No way of printing a Keyring or an IndexKey, alone or inside a struct,
// with any verb, shows key material.
func TestFormattingRedacts(t *testing.T) {
	kr := mustKeyring(t, keyA, keyB)
	var secrets [][]byte
	for _, k := range kr.keys {
		ik, _ := hkdf.Key(sha256.New, k[:], nil, indexInfo, 32)
		secrets = append(secrets, k[:], ik)
	}
	var leaks []string
	for _, b := range secrets {
		leaks = append(leaks, base64.URLEncoding.EncodeToString(b)[:8], fmt.Sprint(b[:4])[1:8], fmt.Sprintf("%x", b[:4]), string(b[:4]))
	}
	type holder struct {
		Exported   *Keyring
		unexported *Keyring
		value      Keyring
		index      IndexKey
		indexes    []IndexKey
	}
	h := holder{kr, kr, *kr, kr.IndexKey(), kr.index}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q", "%T"} {
		for _, v := range []any{kr, *kr, kr.IndexKey(), kr.index, h, &h} {
			out := fmt.Sprintf(verb, v)
			for _, l := range leaks {
				if strings.Contains(out, l) {
					t.Errorf("Sprintf(%s, %T) = %q contains key material %q", verb, v, out, l)
				}
			}
		}
	}
}

func TestWellFormed(t *testing.T) {
	body := make([]byte, 8+16+16+32)
	good := base64.URLEncoding.EncodeToString(append([]byte{0x80}, body...))
	if !wellFormed(good) {
		t.Error("minimal token refused")
	}
	for name, b := range map[string][]byte{
		"version":   append([]byte{0x81}, body...),
		"one short": append([]byte{0x80}, body[1:]...),
		"not block": append([]byte{0x80}, append(body, 1)...),
	} {
		if wellFormed(base64.URLEncoding.EncodeToString(b)) {
			t.Errorf("%s: wellFormed = true", name)
		}
	}
}
