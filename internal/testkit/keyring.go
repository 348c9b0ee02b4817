package testkit

import (
	"testing"

	"github.com/bindery/bindery/internal/secretbox"
)

// Keyring returns a keyring with a fresh random key, for stores opened in
// tests.
func Keyring(tb testing.TB) *secretbox.Keyring {
	tb.Helper()
	kr, err := secretbox.NewKeyring(secretbox.GenerateKey())
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// EncryptionKey returns a new random ENCRYPTION_KEY value, for servers
// started in production mode by tests (made at run time, so no key-shaped
// string sits in the repository).
func EncryptionKey() string { return secretbox.GenerateKey() }
