// Package storetest is the behaviour suite every bindery.Store adapter
// must pass: store/sqlite and store/postgres. Adapters call Run from
// their own tests with a constructor of fresh, empty stores, and RunShared
// with a constructor of two handles on one fresh database.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// Run runs the suite. open must return a new empty store each call.
func Run(t *testing.T, open func(t *testing.T) bindery.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open(t)) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, open(t)) })
	t.Run("SetupToken", func(t *testing.T) { testSetupToken(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("AuditPaging", func(t *testing.T) { testAuditPaging(t, open(t)) })
	t.Run("CascadeOnUserDelete", func(t *testing.T) { testCascade(t, open(t)) })
	t.Run("Books", func(t *testing.T) { testBooks(t, open(t)) })
	t.Run("BookFiles", func(t *testing.T) { testBookFiles(t, open(t)) })
	t.Run("Runs", func(t *testing.T) { testRuns(t, open(t)) })
	t.Run("QueueRun", func(t *testing.T) { testQueueRun(t, open(t)) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open(t)) })
	t.Run("Publications", func(t *testing.T) { testPublications(t, open(t)) })
	t.Run("TwoFactor", func(t *testing.T) { testTwoFactor(t, open(t)) })
	t.Run("Credentials", func(t *testing.T) { testCredentials(t, open(t)) })
	t.Run("Challenges", func(t *testing.T) { testChallenges(t, open(t)) })
	t.Run("Invitations", func(t *testing.T) { testInvitations(t, open(t)) })
	t.Run("TransferBook", func(t *testing.T) { testTransferBook(t, open(t)) })
	t.Run("Readiness", func(t *testing.T) { testReadiness(t, open(t)) })
	t.Run("Guard", func(t *testing.T) { testGuard(t, open(t)) })
	t.Run("Heartbeats", func(t *testing.T) { testHeartbeats(t, open(t)) })
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mustUser(t testing.TB, s bindery.Store, email string, role bindery.Role) *bindery.User {
	t.Helper()
	u := &bindery.User{Email: email, Role: role, PasswordHash: "$argon2id$x", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	if u.ID == 0 {
		t.Fatal("CreateUser did not set ID")
	}
	return u
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bindery.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func testUsers(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	a := mustUser(t, s, "a@example.com", bindery.RoleAdmin)
	mustUser(t, s, "b@example.com", bindery.RoleViewer)

	wantCode(t, s.CreateUser(ctx, &bindery.User{Email: "a@example.com", Role: bindery.RoleViewer, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}), bindery.ECONFLICT)

	got, err := s.UserByEmail(ctx, "a@example.com")
	if err != nil || got.ID != a.ID || got.Role != bindery.RoleAdmin || !got.CreatedAt.Equal(t0) || got.PasswordHash != "$argon2id$x" {
		t.Fatalf("UserByEmail = %+v, %v", got, err)
	}
	_, err = s.UserByEmail(ctx, "nobody@example.com")
	wantCode(t, err, bindery.ENOTFOUND)
	_, err = s.UserByID(ctx, 9999)
	wantCode(t, err, bindery.ENOTFOUND)

	if n, err := s.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v; want 2", n, err)
	}
	if err := s.UpdateUserRole(ctx, a.ID, bindery.RoleEditor, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateUserPassword(ctx, a.ID, "$argon2id$y", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.UserByID(ctx, a.ID)
	if got.Role != bindery.RoleEditor || got.PasswordHash != "$argon2id$y" || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after updates: %+v", got)
	}
	wantCode(t, s.UpdateUserRole(ctx, 9999, bindery.RoleAdmin, t0), bindery.ENOTFOUND)
	if err := s.UpdateUserRole(ctx, a.ID, bindery.Role("superuser"), t0); err == nil {
		t.Fatal("store accepted an unknown role")
	}
	list, err := s.ListUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "a@example.com" {
		t.Fatalf("ListUsers = %v, %v", list, err)
	}
	if err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteUser(ctx, a.ID), bindery.ENOTFOUND)
}

func testSessions(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "a@example.com", bindery.RoleAuthor)
	other := mustUser(t, s, "b@example.com", bindery.RoleAuthor)
	mk := func(id string, hash byte, owner *bindery.User, created time.Time) *bindery.Session {
		sess := &bindery.Session{ID: id, UserID: owner.ID, TokenHash: bytes.Repeat([]byte{hash}, 32), CreatedAt: created,
			LastSeenAt: created, ExpiresAt: created.Add(24 * time.Hour), ClientAddr: "192.0.2.1", UserAgent: "test"}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		return sess
	}
	s1 := mk("s1", 1, u, t0)
	mk("s2", 2, u, t0.Add(time.Minute))
	mk("s3", 3, other, t0)

	got, gu, err := s.SessionByTokenHash(ctx, s1.TokenHash)
	if err != nil || got.ID != "s1" || gu.Email != "a@example.com" || !got.ExpiresAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("SessionByTokenHash = %+v, %+v, %v", got, gu, err)
	}
	_, _, err = s.SessionByTokenHash(ctx, bytes.Repeat([]byte{9}, 32))
	wantCode(t, err, bindery.ENOTFOUND)

	if err := s.TouchSession(ctx, "s1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.SessionByTokenHash(ctx, s1.TokenHash)
	if !got.LastSeenAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("LastSeenAt = %v", got.LastSeenAt)
	}
	if n, err := s.CountActiveSessions(ctx, t0.Add(time.Minute), t0); err != nil || n != 3 {
		t.Fatalf("CountActiveSessions = %d, %v; want 3", n, err)
	}
	list, err := s.ListSessions(ctx, u.ID)
	if err != nil || len(list) != 2 || list[0].ID != "s2" {
		t.Fatalf("ListSessions = %v, %v (want s2, s1)", list, err)
	}
	// A user cannot delete another user's session.
	wantCode(t, s.DeleteSession(ctx, u.ID, "s3"), bindery.ENOTFOUND)
	if n, err := s.DeleteUserSessions(ctx, u.ID, "s2"); err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 1", n, err)
	}
	// Sweeping: s2 idle since t0+1m; s3 seen at t0.
	n, err := s.DeleteExpiredSessions(ctx, t0.Add(time.Hour), t0.Add(30*time.Second))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions(idle) = %d, %v; want 1 (s3)", n, err)
	}
	n, err = s.DeleteExpiredSessions(ctx, t0.Add(25*time.Hour), t0)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSessions(absolute) = %d, %v; want 1 (s2)", n, err)
	}
	mk("s4", 4, other, t0)
	if n, err := s.DeleteAllSessions(ctx); err != nil || n != 1 {
		t.Fatalf("DeleteAllSessions = %d, %v", n, err)
	}
}

func testAPITokens(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "a@example.com", bindery.RoleAuthor)
	other := mustUser(t, s, "b@example.com", bindery.RoleAuthor)
	tok := &bindery.APIToken{ID: "t1", UserID: u.ID, Name: "ci", TokenHash: bytes.Repeat([]byte{7}, 32), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	got, gu, err := s.APITokenByHash(ctx, tok.TokenHash)
	if err != nil || got.Name != "ci" || gu.ID != u.ID || got.LastUsedAt != nil {
		t.Fatalf("APITokenByHash = %+v, %+v, %v", got, gu, err)
	}
	if err := s.TouchAPIToken(ctx, "t1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListAPITokens(ctx, u.ID)
	if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ListAPITokens = %+v, %v", list, err)
	}
	wantCode(t, s.DeleteAPIToken(ctx, other.ID, "t1"), bindery.ENOTFOUND)
	if n, err := s.DeleteExpiredAPITokens(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredAPITokens = %d, %v", n, err)
	}
	// DeleteUserAPITokens takes every token of one user, no other's.
	for i, owner := range []int64{u.ID, u.ID, other.ID} {
		tk := &bindery.APIToken{ID: fmt.Sprintf("t%d", i+2), UserID: owner, Name: "ci", TokenHash: bytes.Repeat([]byte{byte(10 + i)}, 32), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		if err := s.CreateAPIToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.DeleteUserAPITokens(ctx, u.ID); err != nil || n != 2 {
		t.Fatalf("DeleteUserAPITokens = %d, %v; want 2", n, err)
	}
	if list, _ := s.ListAPITokens(ctx, other.ID); len(list) != 1 {
		t.Fatalf("the other user's tokens: %d, want 1", len(list))
	}
}

func testSetupToken(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	h1, h2, h3 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	// Two servers print two links: both are pending.
	if err := s.AddSetupToken(ctx, h1, t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSetupToken(ctx, h2, t0.Add(time.Hour), t0); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ConsumeSetupToken(ctx, h2, t0); !ok || err != nil {
		t.Fatalf("ConsumeSetupToken(second link) = %v, %v; want true", ok, err)
	}
	// The first admin is made once: the other link ended with it, and the
	// used one works no more.
	if ok, _ := s.ConsumeSetupToken(ctx, h1, t0); ok {
		t.Fatal("another set-up link still works after the first admin was made")
	}
	if ok, _ := s.ConsumeSetupToken(ctx, h2, t0); ok {
		t.Fatal("a set-up token worked twice")
	}
	// Expired: refused, and forgotten when a new one is added.
	_ = s.AddSetupToken(ctx, h1, t0.Add(time.Hour), t0)
	if ok, _ := s.ConsumeSetupToken(ctx, h1, t0.Add(time.Hour)); ok {
		t.Fatal("an expired set-up token worked")
	}
	_ = s.AddSetupToken(ctx, h1, t0.Add(time.Minute), t0)
	_ = s.AddSetupToken(ctx, h3, t0.Add(3*time.Hour), t0.Add(2*time.Minute))
	if ok, _ := s.ConsumeSetupToken(ctx, h1, t0); ok {
		t.Fatal("an expired token was kept when a new one was added")
	}
	// A refused token does not end the valid ones.
	if ok, _ := s.ConsumeSetupToken(ctx, h3, t0.Add(2*time.Hour)); !ok {
		t.Fatal("the valid link stopped working")
	}
}

func testAudit(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	if v, err := s.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 0 {
		t.Fatalf("VerifyAudit of an empty log = %+v, %v", v, err)
	}
	id := int64(42)
	var appended []*bindery.AuditEvent
	for i, a := range []string{bindery.AuditLoginFailed, bindery.AuditLoginSucceeded, bindery.AuditLoginFailed, bindery.AuditRoleChanged} {
		e := &bindery.AuditEvent{At: t0.Add(time.Duration(i) * time.Minute), Action: a, Subject: "acct:0123456789abcdef", ClientAddr: "192.0.2.1"}
		switch a {
		case bindery.AuditLoginSucceeded:
			e.ActorID, e.Subject = &id, ""
		case bindery.AuditRoleChanged:
			e.Subject, e.Target = "", bindery.UserTarget(id)
		}
		if err := s.AppendAudit(ctx, e); err != nil || e.ID == 0 || e.Hash == "" {
			t.Fatalf("AppendAudit: %v (%+v)", err, e)
		}
		if i > 0 && (e.PrevHash != appended[i-1].Hash || e.ID <= appended[i-1].ID) {
			t.Fatalf("entry %d does not chain to %d: prev %q, want %q", e.ID, appended[i-1].ID, e.PrevHash, appended[i-1].Hash)
		}
		appended = append(appended, e)
	}
	all, err := s.ListAudit(ctx, bindery.AuditFilter{})
	if err != nil || len(all) != 4 || all[0].ID < all[3].ID {
		t.Fatalf("ListAudit = %v, %v (want 4, newest first)", all, err)
	}
	if got := all[3]; got.Hash != appended[0].Hash || got.Subject != "acct:0123456789abcdef" || !got.At.Equal(t0) {
		t.Fatalf("stored entry %+v differs from appended %+v", got, appended[0])
	}
	failed, _ := s.ListAudit(ctx, bindery.AuditFilter{Action: bindery.AuditLoginFailed})
	if len(failed) != 2 {
		t.Fatalf("filter by action: %d entries, want 2", len(failed))
	}
	byActor, _ := s.ListAudit(ctx, bindery.AuditFilter{ActorID: 42})
	if len(byActor) != 1 || *byActor[0].ActorID != 42 {
		t.Fatalf("filter by actor: %v", byActor)
	}
	since, _ := s.ListAudit(ctx, bindery.AuditFilter{Since: t0.Add(time.Minute)})
	if len(since) != 3 {
		t.Fatalf("filter by since: %d entries, want 3", len(since))
	}
	page, _ := s.ListAudit(ctx, bindery.AuditFilter{BeforeID: all[0].ID, Limit: 1})
	if len(page) != 1 || page[0].ID != all[1].ID {
		t.Fatalf("paging: %v", page)
	}

	// Entries about a person: as actor, as target, or by pseudonym.
	ids := func(f bindery.AuditFilter) []int64 {
		t.Helper()
		var out []int64
		if err := s.EachAudit(ctx, f, func(e *bindery.AuditEvent) error { out = append(out, e.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := func(name string, got []int64, idx ...int) {
		t.Helper()
		var w []int64
		for _, i := range idx {
			w = append(w, appended[i].ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("%s: ids %v, want %v (oldest first)", name, got, w)
		}
	}
	want("EachAudit all", ids(bindery.AuditFilter{Limit: 1, BeforeID: 2}), 0, 1, 2, 3)
	want("about user 42", ids(bindery.AuditFilter{About: &bindery.AuditPerson{UserID: 42}}), 1, 3)
	want("about user 42 and the pseudonym", ids(bindery.AuditFilter{About: &bindery.AuditPerson{UserID: 42, Subjects: []string{"acct:ffffffffffffffff", "acct:0123456789abcdef"}}}), 0, 1, 2, 3)
	want("about the pseudonym since t0+1m", ids(bindery.AuditFilter{Since: t0.Add(time.Minute), About: &bindery.AuditPerson{Subjects: []string{"acct:0123456789abcdef"}}}), 2)
	want("about nobody", ids(bindery.AuditFilter{About: &bindery.AuditPerson{}}))
	if about, _ := s.ListAudit(ctx, bindery.AuditFilter{About: &bindery.AuditPerson{UserID: 42}}); len(about) != 2 || about[0].ID != appended[3].ID {
		t.Fatalf("ListAudit about user 42: %v", about)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.EachAudit(ctx, bindery.AuditFilter{}, func(*bindery.AuditEvent) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("EachAudit did not stop at fn's error: %v after %d", err, n)
	}

	v, err := s.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Entries != 4 || v.Head != appended[3].Hash || v.HeadID != appended[3].ID {
		t.Fatalf("VerifyAudit = %+v, %v; want 4 entries, head %s", v, err, appended[3].Hash)
	}

	// Retention: the two entries before t0+90s go, oldest first; the
	// purge is itself audited, and the chain still verifies.
	purged, err := s.PurgeAudit(ctx, t0.Add(90*time.Second), t0.Add(time.Hour))
	if err != nil || purged != 2 {
		t.Fatalf("PurgeAudit = %d, %v; want 2", purged, err)
	}
	left, _ := s.ListAudit(ctx, bindery.AuditFilter{})
	if len(left) != 3 || left[0].Action != bindery.AuditPurged || left[2].ID != appended[2].ID || !left[0].At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after the purge: %+v", left)
	}
	v, err = s.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Entries != 3 || v.AnchorID != appended[2].ID || v.Head != left[0].Hash {
		t.Fatalf("VerifyAudit after a purge = %+v, %v", v, err)
	}
	if n, err := s.PurgeAudit(ctx, t0.Add(90*time.Second), t0.Add(2*time.Hour)); err != nil || n != 0 {
		t.Fatalf("second PurgeAudit = %d, %v; want 0", n, err)
	}
	// Everything expired: the log keeps only the purge's own entry.
	if n, err := s.PurgeAudit(ctx, t0.Add(3*time.Hour), t0.Add(3*time.Hour)); err != nil || n != 3 {
		t.Fatalf("PurgeAudit of everything = %d, %v; want 3", n, err)
	}
	if v, err := s.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 1 {
		t.Fatalf("VerifyAudit after purging everything = %+v, %v", v, err)
	}
	e := &bindery.AuditEvent{At: t0.Add(4 * time.Hour), Action: bindery.AuditLogout, ActorID: &id}
	if err := s.AppendAudit(ctx, e); err != nil {
		t.Fatal(err)
	}
	if v, err := s.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != 2 || v.Head != e.Hash {
		t.Fatalf("VerifyAudit after appending to a purged log = %+v, %v", v, err)
	}
}

// testAuditPaging: EachAudit walks past its internal page size (500 in
// the SQLite adapter) without losing or repeating an entry.
func testAuditPaging(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	const n = 600
	for i := range n {
		if err := s.AppendAudit(ctx, &bindery.AuditEvent{At: t0.Add(time.Duration(i) * time.Second), Action: bindery.AuditLogout}); err != nil {
			t.Fatal(err)
		}
	}
	var got int
	var last int64
	err := s.EachAudit(ctx, bindery.AuditFilter{}, func(e *bindery.AuditEvent) error {
		if e.ID <= last {
			return fmt.Errorf("entry %d after %d", e.ID, last)
		}
		got, last = got+1, e.ID
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("EachAudit: %d entries, %v; want %d", got, err, n)
	}
	if v, err := s.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != n {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}
}

func testCascade(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "a@example.com", bindery.RoleAuthor)
	_ = s.CreateSession(ctx, &bindery.Session{ID: "s", UserID: u.ID, TokenHash: []byte("h"), CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)})
	_ = s.CreateAPIToken(ctx, &bindery.APIToken{ID: "t", UserID: u.ID, Name: "n", TokenHash: []byte("k"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionByTokenHash(ctx, []byte("h")); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("session survived its user: %v", err)
	}
	if _, _, err := s.APITokenByHash(ctx, []byte("k")); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("token survived its user: %v", err)
	}
}

func testReadiness(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	for range 2 {
		if err := s.CheckWritable(ctx); err != nil {
			t.Fatalf("CheckWritable on a healthy database: %v", err)
		}
	}
}
