package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

func testKeyring(t *testing.T) *secretbox.Keyring {
	t.Helper()
	kr, err := secretbox.NewKeyring(secretbox.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestEveryEncryptedColumnIsRotated keeps encryptedColumns in step with the
// schema: a *_enc column that `keys rotate` does not walk would be left
// under a key the operator is about to drop.
func TestEveryEncryptedColumnIsRotated(t *testing.T) {
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "b.db"), testKeyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	inSchema, err := d.encryptedColumnNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range encryptedColumns {
		listed = append(listed, c.String())
	}
	for _, c := range inSchema {
		if !slices.Contains(listed, c) {
			t.Errorf("column %s is not in encryptedColumns", c)
		}
	}
	if len(inSchema) < 4 {
		t.Fatalf("schema lists only %v", inSchema)
	}
}

// TestUpgradeEncryptsExistingAccounts builds a database as version 4 left
// it (addresses in clear), opens it with the current code and checks that
// the addresses are now encrypted, found by their blind index, and gone
// from the file.
func TestUpgradeEncryptsExistingAccounts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := OpenPool(path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v, name := range map[int]string{1: "0001_accounts.sql", 2: "0002_books.sql", 3: "0003_runs.sql", 4: "0004_publications.sql"} {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := raw.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 0)`, v); err != nil {
			t.Fatal(err)
		}
	}
	const email = "old.timer@example.org"
	now := time.Now().UnixNano()
	for _, q := range []string{
		`INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (7, '` + email + `', 'author', 'x', 1, 1)`,
		`INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at) VALUES ('s1', 7, x'01', 1, 1, ` + strconv.FormatInt(now+int64(time.Hour), 10) + `)`,
		`INSERT INTO books (id, owner_id, title, created_at, updated_at) VALUES (3, 7, 'Old book', 1, 1)`,
		`INSERT INTO book_members (book_id, user_id, added_at) VALUES (3, 7, 1)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	d, err := Open(ctx, path, testKeyring(t))
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	u, err := d.UserByEmail(ctx, email)
	if err != nil || u.ID != 7 {
		t.Fatalf("UserByEmail after upgrade = %+v, %v", u, err)
	}
	// References into the rebuilt table survived (no cascade on the drop).
	if s, su, err := d.SessionByTokenHash(ctx, []byte{1}); err != nil || s.ID != "s1" || su.Email != email {
		t.Fatalf("session after upgrade: %v", err)
	}
	if b, err := d.BookByID(ctx, 3); err != nil || b.OwnerID != 7 {
		t.Fatalf("book after upgrade: %+v %v", b, err)
	}
	if ok, err := d.IsMember(ctx, 3, 7); err != nil || !ok {
		t.Fatalf("membership lost: %v", err)
	}
	if err := d.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(email)) {
		t.Fatal("the address is still in the database file in clear")
	}
}

// TestInvitationAddressEncrypted: an invitation's address is not in the
// database file in clear, and `keys rotate` moves it, with its blind
// index, to the new key (it is still found by address afterwards).
func TestInvitationAddressEncrypted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inv.db")
	oldKey := secretbox.GenerateKey()
	kr, _ := secretbox.NewKeyring(oldKey)
	d, err := Open(ctx, path, kr)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := &bindery.User{Email: "owner@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := d.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	b := &bindery.Book{OwnerID: u.ID, Title: "T", CreatedAt: now, UpdatedAt: now}
	if err := d.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	const email = "invited.person@example.org"
	if err := d.CreateInvitation(ctx, &bindery.Invitation{BookID: b.ID, InvitedBy: u.ID, Email: email, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := d.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	d.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(email)) {
		t.Fatal("the invitation's address is in the database file in clear")
	}
	newKey := secretbox.GenerateKey()
	rotated, _ := secretbox.NewKeyring(newKey, oldKey)
	d, err = Open(ctx, path, rotated)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.RotateKeys(ctx, nil); err != nil {
		t.Fatal(err)
	}
	only, _ := secretbox.NewKeyring(newKey)
	d.secrets = only
	if list, err := d.InvitationsFor(ctx, email, now); err != nil || len(list) != 1 {
		t.Fatalf("after rotation: %+v, %v", list, err)
	}
}
