package secretbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestBlindIndexNormalisesEmail(t *testing.T) {
	kr := mustKeyring(t, keyA)
	want := kr.BlindIndex("ada@example.org")
	for _, typed := range []string{"ada@example.org", "  Ada@Example.ORG\n", "ADA@EXAMPLE.ORG"} {
		if got := kr.BlindIndex(typed); got != want {
			t.Errorf("BlindIndex(%q) = %s, want %s", typed, got, want)
		}
	}
	if kr.BlindIndex("bob@example.org") == want {
		t.Error("two addresses share an index")
	}
	if len(want) != 64 {
		t.Errorf("len = %d, want 64 hex digits", len(want))
	}
}

func TestBlindIndexDependsOnKey(t *testing.T) {
	a, b := mustKeyring(t, keyA), mustKeyring(t, keyB)
	if a.BlindIndex("ada@example.org") == b.BlindIndex("ada@example.org") {
		t.Error("two keys give the same index")
	}
}

// The index key is derived, not the Fernet signing key nor the whole key.
func TestBlindIndexKeyIsSeparated(t *testing.T) {
	kr := mustKeyring(t, keyA)
	k := kr.keys[0]
	for _, raw := range [][]byte{k[:16], k[16:], k[:]} {
		m := hmac.New(sha256.New, raw)
		m.Write([]byte("ada@example.org"))
		if hex.EncodeToString(m.Sum(nil)) == kr.BlindIndex("ada@example.org") {
			t.Fatal("blind index computed with Fernet key material directly")
		}
	}
}

func TestBlindIndexesDuringRotation(t *testing.T) {
	old := mustKeyring(t, keyB)
	kr := mustKeyring(t, keyA, keyB)
	got := kr.BlindIndexes("ada@example.org")
	want := []string{kr.BlindIndex("ada@example.org"), old.BlindIndex("ada@example.org")}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("BlindIndexes = %v, want %v (current first)", got, want)
	}
	if BlindIndex(kr.IndexKey(), "ada@example.org") != want[0] {
		t.Error("BlindIndex(kr.IndexKey(), v) != kr.BlindIndex(v)")
	}
}
