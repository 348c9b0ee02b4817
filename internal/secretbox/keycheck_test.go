package secretbox

import (
	"strings"
	"testing"
)

func TestCheckValues(t *testing.T) {
	a, b := GenerateKey(), GenerateKey()
	ka, _ := NewKeyring(a)
	kb, _ := NewKeyring(b, a)
	if ka.CheckValue() == kb.CheckValue() {
		t.Fatal("two keys share a check value")
	}
	if again, _ := NewKeyring(a); again.CheckValue() != ka.CheckValue() {
		t.Fatal("check value not deterministic")
	}
	if i, ok := kb.Holds(ka.CheckValue()); !ok || i != 1 {
		t.Fatalf("Holds(previous) = %d, %v", i, ok)
	}
	if _, ok := ka.Holds(kb.CheckValue()); ok {
		t.Fatal("a keyring holds a key it lacks")
	}
	fp := Fingerprint(ka.CheckValue())
	if len(fp) != FingerprintLen || strings.Contains(ka.CheckValue(), a) || strings.Contains(a, fp) {
		t.Fatalf("fingerprint %q", fp)
	}
	tok, _ := ka.Encrypt([]byte("x"))
	if i, ok := kb.KeyIndex(tok); !ok || i != 1 {
		t.Fatalf("KeyIndex = %d, %v", i, ok)
	}
}
