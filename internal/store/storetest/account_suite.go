package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// testTwoFactor: enrolment, single-use steps and recovery codes, names.
func testTwoFactor(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(t, s, "tf@example.com", bindery.RoleAuthor)
	if err := s.UpdateUserName(ctx, u.ID, "Ada Lovelace", t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserByID(ctx, u.ID); got.Name != "Ada Lovelace" || got.TwoFactor {
		t.Fatalf("user = %+v", got)
	}
	// Nothing to confirm before an enrolment starts.
	wantCode(t, s.EnableTwoFactor(ctx, u.ID, 5, []string{"h1"}, t0), bindery.ENOTFOUND)
	if err := s.SetTwoFactorSecret(ctx, u.ID, "JBSWY3DPEHPK3PXP", t0); err != nil {
		t.Fatal(err)
	}
	tf, err := s.TwoFactorOf(ctx, u.ID)
	if err != nil || tf.Secret != "JBSWY3DPEHPK3PXP" || tf.EnabledAt != nil {
		t.Fatalf("pending = %+v, %v", tf, err)
	}
	if ok, _ := s.UseTwoFactorStep(ctx, u.ID, 9); ok {
		t.Fatal("a step was accepted before the factor was on")
	}
	if err := s.EnableTwoFactor(ctx, u.ID, 5, []string{"h1", "h2"}, t0); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.SetTwoFactorSecret(ctx, u.ID, "OTHERSECRETOTHER", t0), bindery.ECONFLICT)
	if got, _ := s.UserByEmail(ctx, "tf@example.com"); !got.TwoFactor {
		t.Fatal("TwoFactor not reported once on")
	}
	for _, c := range []struct {
		step int64
		want bool
	}{{5, false}, {4, false}, {6, true}, {6, false}, {8, true}} {
		if ok, err := s.UseTwoFactorStep(ctx, u.ID, c.step); err != nil || ok != c.want {
			t.Fatalf("UseTwoFactorStep(%d) = %v, %v; want %v", c.step, ok, err, c.want)
		}
	}
	if ok, _ := s.UseRecoveryCode(ctx, u.ID, "h2"); !ok {
		t.Fatal("recovery code refused")
	}
	if ok, _ := s.UseRecoveryCode(ctx, u.ID, "h2"); ok {
		t.Fatal("recovery code accepted twice")
	}
	if tf, _ := s.TwoFactorOf(ctx, u.ID); tf.RecoveryCodes != 1 || tf.LastStep != 8 {
		t.Fatalf("after use = %+v", tf)
	}
	if err := s.DisableTwoFactor(ctx, u.ID, t0); err != nil {
		t.Fatal(err)
	}
	if tf, _ := s.TwoFactorOf(ctx, u.ID); tf.Secret != "" || tf.EnabledAt != nil || tf.RecoveryCodes != 0 {
		t.Fatalf("after disable = %+v", tf)
	}
}

// testChallenges: a challenge is used once, racing callers included; the
// record lasts until the challenge's expiry and no longer.
func testChallenges(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	id, other := []byte("challenge-1-hash"), []byte("challenge-2-hash")
	exp := t0.Add(5 * time.Minute)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.UseChallenge(ctx, id, exp, t0)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("racing uses of one challenge: %d won, want 1", wins.Load())
	}
	if ok, _ := s.UseChallenge(ctx, id, exp, t0.Add(4*time.Minute)); ok {
		t.Fatal("a used challenge was accepted again before its expiry")
	}
	if ok, _ := s.UseChallenge(ctx, other, exp, t0); !ok {
		t.Fatal("another challenge was refused")
	}
	// Past the expiry the record is swept (the challenge itself no longer
	// opens then; the store need not remember it).
	if ok, _ := s.UseChallenge(ctx, id, exp.Add(5*time.Minute), exp); !ok {
		t.Fatal("an expired record was not swept")
	}
}

// testCredentials: put, replace, read, delete.
func testCredentials(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	_, _, err := s.Credential(ctx, "ideogram")
	wantCode(t, err, bindery.ENOTFOUND)
	for _, v := range []string{"first-key", "second-key"} {
		if err := s.PutCredential(ctx, "ideogram", v, t0); err != nil {
			t.Fatal(err)
		}
	}
	if v, at, err := s.Credential(ctx, "ideogram"); err != nil || v != "second-key" || !at.Equal(t0) {
		t.Fatalf("Credential = %q %v %v", v, at, err)
	}
	if err := s.DeleteCredential(ctx, "ideogram"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteCredential(ctx, "ideogram"), bindery.ENOTFOUND)
}

// testTransferBook: the heir owns the book and is no longer a member.
func testTransferBook(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	a := mustUser(t, s, "a@example.com", bindery.RoleAuthor)
	b := mustUser(t, s, "b@example.com", bindery.RoleEditor)
	book := &bindery.Book{OwnerID: a.ID, Title: "T", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBook(ctx, book); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, book.ID, b.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.TransferBook(ctx, book.ID, b.ID, t0); err != nil {
		t.Fatal(err)
	}
	got, _ := s.BookByID(ctx, book.ID)
	if member, _ := s.IsMember(ctx, book.ID, b.ID); got.OwnerID != b.ID || member {
		t.Fatalf("after transfer: owner %d, still member %v", got.OwnerID, member)
	}
	wantCode(t, s.TransferBook(ctx, book.ID+100, b.ID, t0), bindery.ENOTFOUND)
	if err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatalf("the former owner cannot be deleted: %v", err)
	}
}
