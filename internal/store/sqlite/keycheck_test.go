package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

func ring(t *testing.T, keys ...string) *secretbox.Keyring {
	t.Helper()
	kr, err := secretbox.NewKeyring(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// wantMismatch checks that opening path with kr is refused with a message
// naming ENCRYPTION_KEY and both fingerprints.
func wantMismatch(t *testing.T, path string, kr *secretbox.Keyring, folderKey string) {
	t.Helper()
	d, err := Open(context.Background(), path, kr)
	if err == nil {
		d.Close()
		t.Fatal("a database opened with a key that did not encrypt it")
	}
	var km *KeyMismatchError
	msg := err.Error()
	if !errors.As(err, &km) || !strings.Contains(msg, "ENCRYPTION_KEY ") || !strings.Contains(msg, secretbox.Fingerprint(kr.CheckValue())) {
		t.Fatalf("refusal: %v", err)
	}
	if folderKey != "" && !strings.Contains(msg, secretbox.Fingerprint(ring(t, folderKey).CheckValue())) {
		t.Fatalf("the refusal does not name the folder's key: %v", err)
	}
}

// TestOneDataFolderOneKey: the database records the check value of its
// key; another key is refused (naming both fingerprints), a rotation in
// progress (old key in ENCRYPTION_KEY_PREVIOUS) is accepted, and a
// completed rotation moves the record to the new key.
func TestOneDataFolderOneKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "b.db")
	a, b := secretbox.GenerateKey(), secretbox.GenerateKey()
	d, err := Open(ctx, path, ring(t, a))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := d.CreateUser(ctx, &bindery.User{Email: "ann@example.com", Role: bindery.RoleAdmin, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fp, err := RecordedKeyFingerprint(ctx, path); err != nil || fp != secretbox.Fingerprint(ring(t, a).CheckValue()) {
		t.Fatalf("recorded fingerprint %q, %v", fp, err)
	}

	wantMismatch(t, path, ring(t, b), a)

	// Rotation: B with A as previous opens; rotating moves the record.
	d, err = Open(ctx, path, ring(t, b, a))
	if err != nil {
		t.Fatalf("rotation in progress refused: %v", err)
	}
	if err := d.RotateKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
	d.Close()
	wantMismatch(t, path, ring(t, a), b)
	d, err = Open(ctx, path, ring(t, b))
	if err != nil {
		t.Fatalf("the new key alone after rotation: %v", err)
	}
	if u, err := d.UserByEmail(ctx, "ann@example.com"); err != nil || u.Email != "ann@example.com" {
		t.Fatalf("after rotation: %+v, %v", u, err)
	}
	d.Close()
}

// TestKeyCheckOfAnOlderDatabase: a database from before key checks gets
// the record of the key that decrypts its values, and one that no key of
// the keyring decrypts is refused.
func TestKeyCheckOfAnOlderDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "b.db")
	a, b := secretbox.GenerateKey(), secretbox.GenerateKey()
	d, err := open(ctx, path, ring(t, a), keyCheckVersion-1)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := d.CreateUser(ctx, &bindery.User{Email: "ann@example.com", Role: bindery.RoleAdmin, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	wantMismatch(t, path, ring(t, b), "")
	// Under rotation (B current, A previous), the record is A's: the
	// rotation has yet to run.
	d, err = Open(ctx, path, ring(t, b, a))
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fp, _ := RecordedKeyFingerprint(ctx, path); fp != secretbox.Fingerprint(ring(t, a).CheckValue()) {
		t.Fatalf("recorded %q, want A's", fp)
	}
}
