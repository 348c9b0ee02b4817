package auditchain

import (
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

// TestHashesAreStable pins the encoding: these values were computed by
// the code before it moved out of the SQLite store, so every chain written
// since version 6, in either store, still verifies. A change here is a new
// version of the chain (new labels), never an edit of this one.
func TestHashesAreStable(t *testing.T) {
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	actor := int64(42)
	e := &bindery.AuditEvent{ID: 7, At: time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC), Action: "login.failed", ActorID: &actor,
		Subject: "acct:0123456789abcdef", ClientAddr: "192.0.2.1", Target: "user:3", Detail: "d", PrevHash: "ab"}
	if got, want := EntryHash(key, e), "9d8c14b6e61022d6a67fb87fbe7fd5f011a7772accc4d37d2562748c41fbf84b"; got != want {
		t.Errorf("EntryHash = %s, want %s", got, want)
	}
	e.ActorID = nil
	if got, want := EntryHash(key, e), "e5be43c4cb6c53b4eb5cf7768801799cc32a1a6b5fff3f3234519ef4156bfc12"; got != want {
		t.Errorf("EntryHash without an actor = %s, want %s", got, want)
	}
	st := &State{Key: key, AnchorID: 3, AnchorPrev: "p", HeadID: 9, HeadHash: "h"}
	if got, want := st.stateMAC(), "99749f4e4618e982725c3ee9bee15abd18604221b7948adf3579956e680397c4"; got != want {
		t.Errorf("state MAC = %s, want %s", got, want)
	}
}

// TestEncodingIsUnambiguous: moving bytes between adjacent fields changes
// the hash (length prefixes), as does an absent versus a zero actor.
func TestEncodingIsUnambiguous(t *testing.T) {
	key := make([]byte, KeySize)
	zero := int64(0)
	a := &bindery.AuditEvent{ID: 1, Action: "ab", Subject: "c"}
	b := &bindery.AuditEvent{ID: 1, Action: "a", Subject: "bc"}
	c := &bindery.AuditEvent{ID: 1, Action: "ab", Subject: "c", ActorID: &zero}
	if EntryHash(key, a) == EntryHash(key, b) || EntryHash(key, a) == EntryHash(key, c) {
		t.Fatal("two different entries hash alike")
	}
}

// TestPseudonym: "acct:" and 16 hex digits of the blind index, equal for
// equal (normalised) addresses, one per key of the keyring.
func TestPseudonym(t *testing.T) {
	k1, k2 := secretbox.GenerateKey(), secretbox.GenerateKey()
	kr, err := secretbox.NewKeyring(k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	p := Pseudonym(kr, "ada@example.com")
	if len(p) != len("acct:")+16 || p[:5] != "acct:" || p != "acct:"+kr.BlindIndex("ada@example.com")[:16] {
		t.Fatalf("Pseudonym = %q", p)
	}
	all := Pseudonyms(kr, "ada@example.com")
	if len(all) != 2 || all[0] != p || all[1] == p {
		t.Fatalf("Pseudonyms = %v (current first, then the previous key's)", all)
	}
}
