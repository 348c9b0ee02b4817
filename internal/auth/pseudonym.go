package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// randomPseudonymizer returns the default Config.Pseudonymize:
// HMAC-SHA-256 of the normalised address under a key drawn at random for
// this process, in the audit log's form ("acct:" and 16 hex digits).
//
// Why a default at all: a Service configured without a pseudonymizer
// must still never write an address into the audit log. Its pseudonyms
// match only within one process (enough to see a burst of failures
// against one account); the server passes the keyring's pseudonym
// (auditchain.Pseudonym), stable across restarts and over migrated entries.
func randomPseudonymizer() func(string) string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic("auth: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return func(email string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(strings.ToLower(strings.TrimSpace(email))))
		return "acct:" + hex.EncodeToString(m.Sum(nil))[:16]
	}
}

// pseudonym is the audit subject for an anonymous actor who claimed email
// ("" when they claimed nothing).
func (s *Service) pseudonym(email string) string {
	if strings.TrimSpace(email) == "" {
		return ""
	}
	return s.pseudonymize(email)
}
