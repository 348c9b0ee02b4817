package auth

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/secretbox"
)

// TestChallengeNeedsItsPurpose: a value the same keyring sealed for
// another use (data at rest) never passes for a sign-in challenge, even
// when it happens to have a challenge's fields.
func TestChallengeNeedsItsPurpose(t *testing.T) {
	kr, err := secretbox.NewKeyring(secretbox.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{secrets: kr, now: time.Now}
	b, _ := json.Marshal(map[string]any{"u": 1, "p": passwordPrint("x"), "t": time.Now().Unix()})
	forged, _ := kr.Encrypt(b)
	if _, _, err := s.openChallenge(context.Background(), forged); err != errBadChallenge {
		t.Fatalf("a sealed value without the purpose opened as a challenge: %v", err)
	}
	stored, _ := kr.Encrypt([]byte("someone@example.com"))
	if _, _, err := s.openChallenge(context.Background(), stored); err != errBadChallenge {
		t.Fatalf("an encrypted column value opened as a challenge: %v", err)
	}
}
