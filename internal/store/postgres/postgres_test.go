package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/store/storetest"
	"github.com/bindery/bindery/internal/testkit"
)

// MustOpen opens a store on a fresh schema of the test PostgreSQL.
func MustOpen(tb testing.TB) *postgres.DB {
	tb.Helper()
	return mustOpenURL(tb, testkit.PostgresURL(tb), testkit.Keyring(tb))
}

func mustOpenURL(tb testing.TB, url string, kr *secretbox.Keyring) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), url, kr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bindery.Store { return MustOpen(t) })
}

// TestSharedDatabase: two pools on one database, as two nodes have.
func TestSharedDatabase(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (bindery.Store, bindery.Store) {
		url, kr := testkit.PostgresURL(t), testkit.Keyring(t)
		return mustOpenURL(t, url, kr), mustOpenURL(t, url, kr)
	})
}

// TestMigrationsInStep: both stores number the same schema steps alike,
// so a version means one schema whichever database holds it.
func TestMigrationsInStep(t *testing.T) {
	pg, err := postgres.Versions()
	if err != nil {
		t.Fatal(err)
	}
	lite, err := sqlite.Versions()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pg, lite) {
		t.Fatalf("PostgreSQL migrations %v, SQLite migrations %v: add the missing step to the other store", pg, lite)
	}
}

// TestMigrationsAreIdempotent: opening again (another node, a restart)
// applies nothing twice; nodes opening together migrate once.
func TestMigrationsAreIdempotent(t *testing.T) {
	url, kr := testkit.PostgresURL(t), testkit.Keyring(t)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), url, kr)
			if err != nil {
				t.Error(err)
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	mustOpenURL(t, url, kr)
}

// TestOpenDoesNotRevealTheURL: a bad URL's error names the variable,
// never its value (it may hold a password).
func TestOpenDoesNotRevealTheURL(t *testing.T) {
	const url = "postgres://bindery:hunter2-secret@/db?host=/nonexistent&connect_timeout=x"
	_, err := postgres.Open(context.Background(), url, testkit.Keyring(t))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Open(bad URL) = %v", err)
	}
}

// TestKeyMismatch: a database encrypted under one key does not open with
// another (a node started with the wrong ENCRYPTION_KEY), and opens with
// it as a previous key.
func TestKeyMismatch(t *testing.T) {
	ctx := context.Background()
	url := testkit.PostgresURL(t)
	k1, k2 := secretbox.GenerateKey(), secretbox.GenerateKey()
	kr1, _ := secretbox.NewKeyring(k1)
	db := mustOpenURL(t, url, kr1)
	if err := db.CreateUser(ctx, &bindery.User{Email: "a@example.com", Role: bindery.RoleAdmin, PasswordHash: "x", CreatedAt: at0, UpdatedAt: at0}); err != nil {
		t.Fatal(err)
	}
	kr2, _ := secretbox.NewKeyring(k2)
	if _, err := postgres.Open(ctx, url, kr2); err == nil || !strings.Contains(err.Error(), "ENCRYPTION_KEY") {
		t.Fatalf("Open with another key: %v", err)
	}
	both, _ := secretbox.NewKeyring(k2, k1)
	mustOpenURL(t, url, both)
}

// TestPersonalDataEncrypted: addresses, names, second-factor secrets and
// credentials are nowhere in the database in clear; after `keys rotate`
// they are found under the new key alone.
func TestPersonalDataEncrypted(t *testing.T) {
	ctx := context.Background()
	url := testkit.PostgresURL(t)
	k1 := secretbox.GenerateKey()
	kr1, _ := secretbox.NewKeyring(k1)
	db := mustOpenURL(t, url, kr1)
	const email, name, secret, cred, invited = "ada.lovelace@example.org", "Ada Lovelace", "JBSWY3DPEHPK3PXP", "ideogram-key-value", "invited.person@example.org"
	u := &bindery.User{Email: email, Name: name, Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: at0, UpdatedAt: at0}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTwoFactorSecret(ctx, u.ID, secret, at0); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCredential(ctx, "ideogram", cred, at0); err != nil {
		t.Fatal(err)
	}
	b := &bindery.Book{OwnerID: u.ID, Title: "T", CreatedAt: at0, UpdatedAt: at0}
	if err := db.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateInvitation(ctx, &bindery.Invitation{BookID: b.ID, InvitedBy: u.ID, Email: invited, CreatedAt: at0, ExpiresAt: at0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mustAudit(t, db, 1)
	raw, err := postgres.RawText(db, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw, "T") || !strings.Contains(raw, "gAAAA") {
		t.Fatal("RawText read nothing: the test proves nothing")
	}
	for _, clear := range []string{email, name, secret, cred, invited} {
		if strings.Contains(raw, clear) {
			t.Errorf("%q is in the database in clear", clear)
		}
	}
	// What an account deletion runs afterwards (privacy.Service).
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}

	k2 := secretbox.GenerateKey()
	rotating, _ := secretbox.NewKeyring(k2, k1)
	db2 := mustOpenURL(t, url, rotating)
	rotated := map[string]int{}
	if err := db2.RotateKeys(ctx, func(c string, n int) { rotated[c] = n }); err != nil {
		t.Fatal(err)
	}
	if rotated["users.email_enc"] != 1 || rotated["audit_chain.key_enc"] != 1 || rotated["book_invitations.email_enc"] != 1 {
		t.Fatalf("rotated %v", rotated)
	}
	only, _ := secretbox.NewKeyring(k2)
	db3 := mustOpenURL(t, url, only)
	if got, err := db3.UserByEmail(ctx, email); err != nil || got.Name != name {
		t.Fatalf("UserByEmail after rotation = %+v, %v", got, err)
	}
	if list, err := db3.InvitationsFor(ctx, invited, at0); err != nil || len(list) != 1 {
		t.Fatalf("InvitationsFor after rotation = %v, %v", list, err)
	}
	if v, err := db3.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 1 {
		t.Fatalf("VerifyAudit after rotation = %+v, %v", v, err)
	}
	if _, err := postgres.Open(ctx, url, kr1); err == nil {
		t.Fatal("the old key alone still opens the database after rotation")
	}
}

var at0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// mustAudit appends n entries, one a minute from at0.
func mustAudit(t *testing.T, db *postgres.DB, n int) []*bindery.AuditEvent {
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

func mustExec(t *testing.T, db *postgres.DB, q string) {
	t.Helper()
	if err := postgres.RawExec(db, context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

const dropTriggers = `DROP TRIGGER audit_log_no_update ON audit_log; DROP TRIGGER audit_log_no_delete ON audit_log; DROP TRIGGER audit_chain_no_delete ON audit_chain`

// TestAuditChainDetectsTampering: an intruder with a database login
// (dropping the triggers first) but without ENCRYPTION_KEY cannot edit,
// delete or cut entries without VerifyAudit naming the first broken one
// and why — the same attacks, and the same answers, as with SQLite.
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
		{"hash recomputed without the key", `UPDATE audit_log SET detail = 'x', hash = md5(random()::text) || md5(random()::text) WHERE id = 3`, 3, bindery.AuditBreakEdited},
		{"middle entry deleted", `DELETE FROM audit_log WHERE id = 3`, 4, bindery.AuditBreakMissing},
		{"ids renumbered after a delete", `DELETE FROM audit_log WHERE id = 3; UPDATE audit_log SET id = id - 1 WHERE id > 3`, 3, bindery.AuditBreakEdited},
		{"oldest entry deleted", `DELETE FROM audit_log WHERE id = 1`, 2, bindery.AuditBreakMissing},
		{"tail truncated", `DELETE FROM audit_log WHERE id >= 4`, 4, bindery.AuditBreakTruncated},
		{"tail truncated and the counter rewound", `DELETE FROM audit_log WHERE id = 5; UPDATE audit_log_seq SET seq = 4`, 5, bindery.AuditBreakTruncated},
		{"everything deleted", `DELETE FROM audit_log`, 1, bindery.AuditBreakTruncated},
		{"anchor moved past deleted entries", `DELETE FROM audit_log WHERE id = 1; UPDATE audit_chain SET anchor_id = 2, anchor_prev = (SELECT prev_hash FROM audit_log WHERE id = 2)`, 0, bindery.AuditBreakAnchor},
		{"head moved back over a truncation", `DELETE FROM audit_log WHERE id = 5; UPDATE audit_chain SET head_id = 4, head_hash = (SELECT hash FROM audit_log WHERE id = 4); UPDATE audit_log_seq SET seq = 4`, 0, bindery.AuditBreakAnchor},
		{"chain record deleted", `DELETE FROM audit_chain`, 0, bindery.AuditBreakAnchor},
		{"entry forged", `INSERT INTO audit_log (id, at, action, prev_hash, hash) VALUES (6, 0, 'login.succeeded', (SELECT hash FROM audit_log WHERE id = 5), md5('x'))`, 6, bindery.AuditBreakEdited},
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
		})
	}
}

// TestAuditAppendRefusesATamperedAnchor: appending would MAC the
// intruder's anchor and hide the deletion; it fails instead.
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
}

// TestAuditLogTriggers: through the application's own login, with the
// triggers in place, no entry can be changed, truncated, or deleted at or
// after the anchor — which only PurgeAudit moves.
func TestAuditLogTriggers(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	mustAudit(t, db, 3)
	for _, q := range []string{
		`UPDATE audit_log SET action = 'x' WHERE id = 2`,
		`DELETE FROM audit_log`,
		`DELETE FROM audit_log WHERE id = 1`,
		`DELETE FROM audit_log WHERE id = 3`,
		`TRUNCATE audit_log`,
		`DELETE FROM audit_chain`,
		`TRUNCATE audit_chain`,
	} {
		if err := postgres.RawExec(db, ctx, q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
	if v, err := db.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 3 {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}

// TestAuditAppendsFromTwoNodes: two pools (two nodes) append at once,
// several goroutines each; the chain verifies, ids run without a gap.
func TestAuditAppendsFromTwoNodes(t *testing.T) {
	url, kr := testkit.PostgresURL(t), testkit.Keyring(t)
	nodes := []*postgres.DB{mustOpenURL(t, url, kr), mustOpenURL(t, url, kr)}
	ctx := context.Background()
	var wg sync.WaitGroup
	for n, db := range nodes {
		for g := range 4 {
			wg.Go(func() {
				for i := range 20 {
					if err := db.AppendAudit(ctx, &bindery.AuditEvent{At: at0, Action: bindery.AuditLogout, Detail: fmt.Sprintf("node %d %d/%d", n, g, i)}); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	v, err := nodes[1].VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Entries != 160 || v.HeadID != 160 {
		t.Fatalf("VerifyAudit = %+v (%+v), %v; want 160 entries", v, v.Broken, err)
	}
}

func BenchmarkSessionLookup(b *testing.B) { storetest.BenchSessionLookup(b, MustOpen(b)) }

func BenchmarkAppendAudit(b *testing.B) { storetest.BenchAppendAudit(b, MustOpen(b)) }

// TestLeadOncePerCluster: of two nodes on one database, one leads the
// periodic work at a time; when the leader goes away (its session ends),
// the other leads at its next try.
func TestLeadOncePerCluster(t *testing.T) {
	url, kr := testkit.PostgresURL(t), testkit.Keyring(t)
	ctx := context.Background()
	a, b := mustOpenURL(t, url, kr), mustOpenURL(t, url, kr)
	if ok, err := a.TryLead(ctx); !ok || err != nil {
		t.Fatalf("A.TryLead = %v, %v", ok, err)
	}
	if ok, err := a.TryLead(ctx); !ok || err != nil {
		t.Fatalf("A.TryLead again = %v, %v: the leader must keep leading", ok, err)
	}
	if ok, err := b.TryLead(ctx); ok || err != nil {
		t.Fatalf("B.TryLead while A leads = %v, %v", ok, err)
	}
	a.Close()
	if ok, err := b.TryLead(ctx); !ok || err != nil {
		t.Fatalf("B.TryLead after A left = %v, %v", ok, err)
	}

	// A leader that dies without a word: its session is ended by the
	// server (as when its node is killed), and the lock goes with it a
	// moment later; C leads at one of its next tries.
	c := mustOpenURL(t, url, kr)
	var killed bool
	if err := c.Pool().QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objid = 6 AND classid::int = hashtext('bindery:' || current_schema())`).Scan(&killed); err != nil || !killed {
		t.Fatalf("ending B's session = %v, %v", killed, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := c.TryLead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("C never led after B's session ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ok, err := b.TryLead(ctx); ok || err != nil {
		t.Fatalf("B.TryLead after losing its session while C leads = %v, %v", ok, err)
	}
}
