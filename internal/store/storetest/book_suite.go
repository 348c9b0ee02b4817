package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

func testBooks(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	owner := mustUser(t, s, "owner@example.com", bindery.RoleAuthor)
	member := mustUser(t, s, "member@example.com", bindery.RoleEditor)
	stranger := mustUser(t, s, "stranger@example.com", bindery.RoleAuthor)

	b := &bindery.Book{OwnerID: owner.ID, Title: "First", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBook(ctx, b); err != nil || b.ID == 0 {
		t.Fatalf("CreateBook: %v, id %d", err, b.ID)
	}
	other := &bindery.Book{OwnerID: stranger.ID, Title: "Other", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBook(ctx, other); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.CreateBook(ctx, &bindery.Book{OwnerID: 9999, Title: "x", CreatedAt: t0, UpdatedAt: t0}), bindery.ENOTFOUND)

	// CreateBookWith: the row exists only when then succeeds, and then
	// sees the new id.
	failed := &bindery.Book{OwnerID: owner.ID, Title: "Half made", CreatedAt: t0, UpdatedAt: t0}
	var seen int64
	boom := bindery.Errorf(bindery.EUNPROCESSABLE, "no folder")
	if err := s.CreateBookWith(ctx, failed, func(b *bindery.Book) error { seen = b.ID; return boom }); err != boom {
		t.Fatalf("CreateBookWith = %v, want then's error", err)
	}
	if seen == 0 {
		t.Fatal("then did not see the new book's id")
	}
	if _, err := s.BookByID(ctx, seen); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("a book whose then failed exists: %v", err)
	}
	made := &bindery.Book{OwnerID: owner.ID, Title: "Whole", CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateBookWith(ctx, made, func(b *bindery.Book) error { seen = b.ID; return nil }); err != nil || made.ID == 0 || made.ID != seen {
		t.Fatalf("CreateBookWith = %v, id %d (then saw %d)", err, made.ID, seen)
	}
	if got, err := s.BookByID(ctx, made.ID); err != nil || got.Title != "Whole" {
		t.Fatalf("BookByID after CreateBookWith = %+v, %v", got, err)
	}
	wantCode(t, s.CreateBookWith(ctx, &bindery.Book{OwnerID: 9999, Title: "x", CreatedAt: t0, UpdatedAt: t0}, func(*bindery.Book) error { return nil }), bindery.ENOTFOUND)
	if err := s.DeleteBook(ctx, made.ID); err != nil {
		t.Fatal(err)
	}

	got, err := s.BookByID(ctx, b.ID)
	if err != nil || got.Title != "First" || got.OwnerID != owner.ID || !got.CreatedAt.Equal(t0) {
		t.Fatalf("BookByID = %+v, %v", got, err)
	}
	_, err = s.BookByID(ctx, 9999)
	wantCode(t, err, bindery.ENOTFOUND)

	if err := s.AddMember(ctx, b.ID, member.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddMember(ctx, b.ID, member.ID, t0); err != nil {
		t.Fatalf("AddMember is not idempotent: %v", err)
	}
	wantCode(t, s.AddMember(ctx, b.ID, 9999, t0), bindery.ENOTFOUND)
	if ok, _ := s.IsMember(ctx, b.ID, member.ID); !ok {
		t.Fatal("IsMember = false")
	}
	if ok, _ := s.IsMember(ctx, b.ID, stranger.ID); ok {
		t.Fatal("a stranger is a member")
	}
	members, err := s.ListMembers(ctx, b.ID)
	if err != nil || len(members) != 1 || members[0].ID != member.ID {
		t.Fatalf("ListMembers = %v, %v", members, err)
	}

	titles := func(bs []*bindery.Book) (out []string) {
		for _, b := range bs {
			out = append(out, b.Title)
		}
		return out
	}
	for _, tc := range []struct {
		user *bindery.User
		all  bool
		want int
	}{{owner, false, 1}, {member, false, 1}, {stranger, false, 1}, {stranger, true, 2}} {
		list, err := s.ListBooks(ctx, tc.user.ID, tc.all)
		if err != nil || len(list) != tc.want {
			t.Errorf("ListBooks(%s, all=%v) = %v, %v; want %d", tc.user.Email, tc.all, titles(list), err, tc.want)
		}
	}

	if err := s.UpdateBookTitle(ctx, b.ID, "Renamed", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.BookByID(ctx, b.ID); got.Title != "Renamed" || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after UpdateBookTitle: %+v", got)
	}
	// Owners cannot be deleted while they own books: no manuscript is lost
	// as a side effect.
	wantCode(t, s.DeleteUser(ctx, owner.ID), bindery.ECONFLICT)
	// Deleting a member ends the membership.
	if err := s.DeleteUser(ctx, member.ID); err != nil {
		t.Fatal(err)
	}
	if members, _ := s.ListMembers(ctx, b.ID); len(members) != 0 {
		t.Fatalf("membership outlived its user: %v", members)
	}
	wantCode(t, s.RemoveMember(ctx, b.ID, member.ID), bindery.ENOTFOUND)
	if err := s.DeleteBook(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteBook(ctx, b.ID), bindery.ENOTFOUND)
	if err := s.DeleteUser(ctx, owner.ID); err != nil {
		t.Fatalf("owner without books: %v", err)
	}
}
