package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

var at0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// mustAudit appends n entries, one a minute from at0.
func mustAudit(t *testing.T, db *sqlite.DB, n int) []*bindery.AuditEvent {
	t.Helper()
	var out []*bindery.AuditEvent
	for i := range n {
		id := int64(i + 1)
		e := &bindery.AuditEvent{At: at0.Add(time.Duration(i) * time.Minute), Action: bindery.AuditLoginSucceeded, ActorID: &id, ClientAddr: "192.0.2.7"}
		if err := db.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// mustExec runs raw SQL, as an intruder with write access to the file
// would.
func mustExec(t *testing.T, db *sqlite.DB, q string) {
	t.Helper()
	if _, err := sqlite.RawExec(db, context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

const dropTriggers = `DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_chain_no_delete`

// TestAuditChainDetectsTampering: an intruder who can write the database
// file (dropping the triggers first) but does not hold ENCRYPTION_KEY
// cannot edit, delete or cut entries without VerifyAudit naming the first
// broken one and why.
func TestAuditChainDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		attack string
		wantID int64
		reason string
	}{
		{"edited field", `UPDATE audit_log SET detail = 'nothing happened' WHERE id = 3`, 3, bindery.AuditBreakEdited},
		{"edited actor", `UPDATE audit_log SET actor_id = NULL WHERE id = 2`, 2, bindery.AuditBreakEdited},
		{"edited time", `UPDATE audit_log SET at = at + 1 WHERE id = 4`, 4, bindery.AuditBreakEdited},
		{"hash recomputed without the key", `UPDATE audit_log SET detail = 'x', hash = lower(hex(randomblob(32))) WHERE id = 3`, 3, bindery.AuditBreakEdited},
		{"middle entry deleted", `DELETE FROM audit_log WHERE id = 3`, 4, bindery.AuditBreakMissing},
		{"ids renumbered after a delete", `DELETE FROM audit_log WHERE id = 3; UPDATE audit_log SET id = id - 1 WHERE id > 3`, 3, bindery.AuditBreakEdited},
		{"oldest entry deleted", `DELETE FROM audit_log WHERE id = 1`, 2, bindery.AuditBreakMissing},
		{"tail truncated", `DELETE FROM audit_log WHERE id >= 4`, 4, bindery.AuditBreakTruncated},
		{"tail truncated and the counter rewound", `DELETE FROM audit_log WHERE id = 5; UPDATE sqlite_sequence SET seq = 4 WHERE name = 'audit_log'`, 5, bindery.AuditBreakTruncated},
		{"everything deleted", `DELETE FROM audit_log`, 1, bindery.AuditBreakTruncated},
		{"anchor moved past deleted entries", `DELETE FROM audit_log WHERE id = 1; UPDATE audit_chain SET anchor_id = 2, anchor_prev = (SELECT prev_hash FROM audit_log WHERE id = 2)`, 0, bindery.AuditBreakAnchor},
		{"head moved back over a truncation", `DELETE FROM audit_log WHERE id = 5; UPDATE audit_chain SET head_id = 4, head_hash = (SELECT hash FROM audit_log WHERE id = 4); UPDATE sqlite_sequence SET seq = 4 WHERE name = 'audit_log'`, 0, bindery.AuditBreakAnchor},
		{"chain record deleted", `DELETE FROM audit_chain`, 0, bindery.AuditBreakAnchor},
		{"entry forged", `INSERT INTO audit_log (id, at, action, prev_hash, hash) VALUES (6, 0, 'login.succeeded', (SELECT hash FROM audit_log WHERE id = 5), lower(hex(randomblob(32))))`, 6, bindery.AuditBreakEdited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpen(t)
			ctx := context.Background()
			mustAudit(t, db, 5)
			if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 5 {
				t.Fatalf("before the attack: %+v, %v", v, err)
			}
			mustExec(t, db, dropTriggers)
			mustExec(t, db, tc.attack)
			v, err := db.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if v.OK() || v.Broken.ID != tc.wantID || v.Broken.Reason != tc.reason {
				t.Fatalf("VerifyAudit = %+v (broken %+v); want entry %d %q", v, v.Broken, tc.wantID, tc.reason)
			}
			if v.Broken.Detail == "" {
				t.Error("a break without a detail for people")
			}
		})
	}
}

// TestAuditAppendRefusesATamperedAnchor: appending would MAC the
// intruder's anchor and hide the deletion; it fails instead, and the
// chain stays broken.
func TestAuditAppendRefusesATamperedAnchor(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	mustAudit(t, db, 3)
	mustExec(t, db, dropTriggers)
	mustExec(t, db, `DELETE FROM audit_log WHERE id = 1; UPDATE audit_chain SET anchor_id = 2, anchor_prev = (SELECT prev_hash FROM audit_log WHERE id = 2)`)
	if err := db.AppendAudit(ctx, &bindery.AuditEvent{At: at0, Action: bindery.AuditLogout}); err == nil {
		t.Fatal("AppendAudit accepted a tampered anchor")
	}
	if _, err := db.PurgeAudit(ctx, at0.Add(time.Hour), at0.Add(time.Hour)); err == nil {
		t.Fatal("PurgeAudit accepted a tampered anchor")
	}
	if v, _ := db.VerifyAudit(ctx); v.OK() {
		t.Fatal("the chain verifies after the attack")
	}
}

// TestAuditPurgeKeepsEvidence: retention does not erase the proof of an
// edit: a purge over a broken prefix fails and deletes nothing.
func TestAuditPurgeKeepsEvidence(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	mustAudit(t, db, 4)
	mustExec(t, db, `DROP TRIGGER audit_log_no_update`)
	mustExec(t, db, `UPDATE audit_log SET detail = 'x' WHERE id = 2`)
	if n, err := db.PurgeAudit(ctx, at0.Add(3*time.Minute), at0.Add(time.Hour)); err == nil || n != 0 || !strings.Contains(err.Error(), "entry 2") {
		t.Fatalf("PurgeAudit over an edited entry = %d, %v; want an error naming entry 2", n, err)
	}
	if v, _ := db.VerifyAudit(ctx); v.OK() || v.Broken.ID != 2 {
		t.Fatalf("evidence lost: %+v", v)
	}
}

// TestAuditLogTriggers: through the application's own connection, with
// the triggers in place, no entry can be changed, and only the oldest
// entries before the anchor — which only PurgeAudit moves — can go.
func TestAuditLogTriggers(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	mustAudit(t, db, 3)
	for _, q := range []string{
		`UPDATE audit_log SET action = 'x' WHERE id = 2`,
		`DELETE FROM audit_log`,
		`DELETE FROM audit_log WHERE id = 1`,
		`DELETE FROM audit_log WHERE id = 3`,
		`DELETE FROM audit_chain`,
	} {
		if _, err := sqlite.RawExec(db, ctx, q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 3 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}

// TestAuditConcurrentAppends: appends from many goroutines each link to
// the one before (the head is read and moved in one transaction).
func TestAuditConcurrentAppends(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 15 {
				if err := db.AppendAudit(ctx, &bindery.AuditEvent{At: at0, Action: bindery.AuditLogout, Detail: fmt.Sprintf("%d/%d", g, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 90 {
		t.Fatalf("VerifyAudit = %+v, %v; want 90 entries", v, err)
	}
}

// TestAuditChainKeyRotates: the chain key is encrypted with
// ENCRYPTION_KEY and `keys rotate` re-encrypts it: after rotating, the old
// key can be dropped and the chain still verifies; without rotating it
// cannot be read at all.
func TestAuditChainKeyRotates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bindery.db")
	k1, k2 := secretbox.GenerateKey(), secretbox.GenerateKey()
	kr := func(keys ...string) *secretbox.Keyring {
		r, err := secretbox.NewKeyring(keys[0], keys[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	db, err := sqlite.Open(ctx, path, kr(k1))
	if err != nil {
		t.Fatal(err)
	}
	mustAudit(t, db, 3)
	db.Close()

	// A key that never encrypted the folder does not even open it (the
	// key check); the chain itself is checked under rotation below.
	if _, err := sqlite.Open(ctx, path, kr(k2)); err == nil || !strings.Contains(err.Error(), "ENCRYPTION_KEY") {
		t.Fatalf("Open with a key that never encrypted the folder: %v", err)
	}

	db, err = sqlite.Open(ctx, path, kr(k2, k1))
	if err != nil {
		t.Fatal(err)
	}
	rotated := map[string]int{}
	if err := db.RotateKeys(ctx, func(c string, n int) { rotated[c] = n }); err != nil {
		t.Fatal(err)
	}
	if rotated["audit_chain.key_enc"] != 1 {
		t.Fatalf("rotation did not re-encrypt the chain key: %v", rotated)
	}
	db.Close()

	db, err = sqlite.Open(ctx, path, kr(k2))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 3 {
		t.Fatalf("VerifyAudit after rotation = %+v, %v", v, err)
	}
}

// rawFiles returns the bytes of every file in dir: the database, and its
// WAL and shared-memory files when present.
func rawFiles(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		all = append(all, b...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestAuditMigrationFromVersion5: a database of version 5, whose audit
// entries hold addresses (as actor_email, target and detail), migrates to
// a verifying chain in which no address is left — not even in the file's
// free pages; anonymous actors keep the pseudonym the auth service would
// compute today.
func TestAuditMigrationFromVersion5(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "bindery.db")
	kr := testkit.Keyring(t)
	db, err := sqlite.OpenAtVersion(ctx, path, kr, 5)
	if err != nil {
		t.Fatal(err)
	}
	kept := &bindery.User{Email: "kept.person@example.com", Role: bindery.RoleAdmin, PasswordHash: "$argon2id$x", CreatedAt: at0, UpdatedAt: at0}
	if err := db.CreateUser(ctx, kept); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, fmt.Sprintf(`INSERT INTO audit_log (at, action, actor_id, actor_email, client_addr, target, detail) VALUES
		(1, 'login.failed', NULL, 'gone.person@example.com', '192.0.2.1', '', ''),
		(2, 'login.succeeded', %[1]d, 'kept.person@example.com', '192.0.2.1', '', ''),
		(3, 'user.created', NULL, '', '', 'kept.person@example.com', 'role admin'),
		(4, 'book.member_added', %[1]d, 'kept.person@example.com', '', 'book 1', 'gone.person@example.com'),
		(5, 'login.failed', NULL, 'Kept.Person@Example.com', '192.0.2.2', '', 'malformed')`, kept.ID))
	db.Close()
	for _, addr := range []string{"gone.person@example.com", "kept.person@example.com"} {
		if !bytes.Contains(rawFiles(t, dir), []byte(addr)) {
			t.Fatalf("the version-5 file does not hold %s: the test proves nothing", addr)
		}
	}

	db, err = sqlite.Open(ctx, path, kr)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Entries != 5 {
		t.Fatalf("VerifyAudit after migration = %+v (%+v), %v", v, v.Broken, err)
	}
	var got []*bindery.AuditEvent
	if err := db.EachAudit(ctx, bindery.AuditFilter{}, func(e *bindery.AuditEvent) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	gone, keptP := auditchain.Pseudonym(kr, "gone.person@example.com"), auditchain.Pseudonym(kr, "kept.person@example.com")
	want := []struct{ subject, target, detail string }{
		{gone, "", ""},
		{"", "", ""},
		{"", bindery.UserTarget(kept.ID), "role admin"},
		{"", "book 1", gone},
		{keptP, "", "malformed"},
	}
	for i, w := range want {
		if e := got[i]; e.Subject != w.subject || e.Target != w.target || e.Detail != w.detail {
			t.Errorf("entry %d = subject %q target %q detail %q; want %q %q %q", e.ID, e.Subject, e.Target, e.Detail, w.subject, w.target, w.detail)
		}
	}
	if !strings.HasPrefix(gone, "acct:") || len(gone) != len("acct:")+16 {
		t.Errorf("pseudonym %q is not acct: and 16 hex digits", gone)
	}
	// The chain goes on after the migrated entries.
	if err := db.AppendAudit(ctx, &bindery.AuditEvent{At: at0, Action: bindery.AuditLogout, ActorID: &kept.ID}); err != nil {
		t.Fatal(err)
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 6 || v.HeadID != 6 {
		t.Fatalf("VerifyAudit after an append = %+v, %v", v, err)
	}
	db.Close()
	raw := rawFiles(t, dir)
	for _, addr := range []string{"gone.person@example.com", "kept.person@example.com", "Kept.Person@Example.com"} {
		if bytes.Contains(raw, []byte(addr)) {
			t.Errorf("%s is still in the database files after the migration", addr)
		}
	}
}

// TestAuditMigrationOfAnEmptyLog: a version-5 database without audit
// entries gets an empty chain that verifies and grows.
func TestAuditMigrationOfAnEmptyLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bindery.db")
	kr := testkit.Keyring(t)
	db, err := sqlite.OpenAtVersion(ctx, path, kr, 5)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path, kr)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustAudit(t, db, 2)
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 2 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}
