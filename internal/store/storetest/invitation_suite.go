package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// testInvitations: invitations are addressed to an e-mail address, found
// only by that address, accepted (membership) or declined once, replaced
// per book and address, withdrawn by the book, and gone when expired.
func testInvitations(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	owner := mustUser(t, s, "owner@example.com", bindery.RoleAuthor)
	invitee := mustUser(t, s, "invitee@example.com", bindery.RoleEditor)
	b := &bindery.Book{OwnerID: owner.ID, Title: "Tides", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBook(ctx, b); err != nil {
		t.Fatal(err)
	}
	invite := func(email string, at time.Time) *bindery.Invitation {
		t.Helper()
		inv := &bindery.Invitation{BookID: b.ID, InvitedBy: owner.ID, Email: email, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
		if err := s.CreateInvitation(ctx, inv); err != nil || inv.ID == 0 {
			t.Fatalf("CreateInvitation: %v, id %d", err, inv.ID)
		}
		return inv
	}
	wantCode(t, s.CreateInvitation(ctx, &bindery.Invitation{BookID: 9999, InvitedBy: owner.ID, Email: "x@example.com", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}), bindery.ENOTFOUND)

	first := invite("invitee@example.com", t0)
	again := invite("invitee@example.com", t0.Add(time.Minute)) // replaces the first
	nobody := invite("nobody@example.com", t0)                  // no account: stored all the same
	list, err := s.BookInvitations(ctx, b.ID, t0.Add(time.Minute))
	if err != nil || len(list) != 2 || list[0].ID != again.ID || list[1].ID != nobody.ID || list[0].Email != "invitee@example.com" {
		t.Fatalf("BookInvitations = %+v, %v", list, err)
	}
	mine, err := s.InvitationsFor(ctx, "invitee@example.com", t0.Add(time.Minute))
	if err != nil || len(mine) != 1 || mine[0].ID != again.ID || mine[0].BookTitle != "Tides" || mine[0].InvitedBy != owner.ID {
		t.Fatalf("InvitationsFor = %+v, %v", mine, err)
	}
	if other, _ := s.InvitationsFor(ctx, "owner@example.com", t0); len(other) != 0 {
		t.Fatalf("someone else sees the invitation: %+v", other)
	}

	// Only the addressee can accept or decline; the replaced one is gone.
	_, err = s.AcceptInvitation(ctx, first.ID, "invitee@example.com", invitee.ID, t0)
	wantCode(t, err, bindery.ENOTFOUND)
	_, err = s.AcceptInvitation(ctx, again.ID, "owner@example.com", owner.ID, t0)
	wantCode(t, err, bindery.ENOTFOUND)
	_, err = s.DeclineInvitation(ctx, again.ID, "owner@example.com")
	wantCode(t, err, bindery.ENOTFOUND)
	// Not after it expired.
	_, err = s.AcceptInvitation(ctx, again.ID, "invitee@example.com", invitee.ID, again.ExpiresAt)
	wantCode(t, err, bindery.ENOTFOUND)

	got, err := s.AcceptInvitation(ctx, again.ID, "invitee@example.com", invitee.ID, t0.Add(time.Hour))
	if err != nil || got.BookID != b.ID {
		t.Fatalf("AcceptInvitation = %+v, %v", got, err)
	}
	if ok, _ := s.IsMember(ctx, b.ID, invitee.ID); !ok {
		t.Fatal("accepting did not make a member")
	}
	_, err = s.AcceptInvitation(ctx, again.ID, "invitee@example.com", invitee.ID, t0.Add(time.Hour))
	wantCode(t, err, bindery.ENOTFOUND)

	// Declining hides the invitation from the addressee for good, but the
	// book still lists it until it expires, like any pending one.
	d := invite("invitee@example.com", t0.Add(2*time.Hour))
	if _, err := s.DeclineInvitation(ctx, d.ID, "invitee@example.com"); err != nil {
		t.Fatal(err)
	}
	if mine, _ := s.InvitationsFor(ctx, "invitee@example.com", t0.Add(2*time.Hour)); len(mine) != 0 {
		t.Fatalf("declined invitation still listed: %+v", mine)
	}
	_, err = s.AcceptInvitation(ctx, d.ID, "invitee@example.com", invitee.ID, t0.Add(2*time.Hour))
	wantCode(t, err, bindery.ENOTFOUND)
	_, err = s.DeclineInvitation(ctx, d.ID, "invitee@example.com")
	wantCode(t, err, bindery.ENOTFOUND)
	if list, _ := s.BookInvitations(ctx, b.ID, t0.Add(2*time.Hour)); len(list) != 2 || list[1].ID != d.ID {
		t.Fatalf("the book's list after a decline: %+v", list)
	}

	// Withdrawn by the book (not by another book's id).
	other := &bindery.Book{OwnerID: owner.ID, Title: "Other", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBook(ctx, other); err != nil {
		t.Fatal(err)
	}
	w := invite("later@example.com", t0.Add(2*time.Hour))
	wantCode(t, s.DeleteBookInvitation(ctx, other.ID, w.ID), bindery.ENOTFOUND)
	if err := s.DeleteBookInvitation(ctx, b.ID, w.ID); err != nil {
		t.Fatal(err)
	}

	// Expired invitations are not listed, and are dropped by the next
	// invitation to the book.
	if list, _ := s.BookInvitations(ctx, b.ID, t0.Add(48*time.Hour)); len(list) != 0 {
		t.Fatalf("expired invitations listed: %+v", list)
	}
	invite("fresh@example.com", t0.Add(48*time.Hour))
	if list, _ := s.BookInvitations(ctx, b.ID, t0); len(list) != 1 {
		t.Fatalf("expired invitations kept: %+v", list)
	}

	// Deleting the addressee's account deletes the invitations to them.
	invite("invitee@example.com", t0.Add(48*time.Hour))
	if err := s.DeleteUser(ctx, invitee.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.BookInvitations(ctx, b.ID, t0.Add(48*time.Hour)); len(list) != 1 || list[0].Email != "fresh@example.com" {
		t.Fatalf("invitations after the invitee's account was deleted: %+v", list)
	}

	// Deleting the book deletes its invitations.
	invite("invitee@example.com", t0.Add(48*time.Hour))
	if err := s.DeleteBook(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if mine, _ := s.InvitationsFor(ctx, "invitee@example.com", t0.Add(48*time.Hour)); len(mine) != 0 {
		t.Fatalf("invitation outlived its book: %+v", mine)
	}
}
