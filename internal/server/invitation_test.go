package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// TestInviteRevealsNoAccount: a book's owner inviting an address gets the
// same answer whether or not an account has it — same status, same body
// but for the invitation's own id and address — and no account is added
// to the book by it. Adding an account by id, which answered 204 or 404
// by whether it existed, is closed to owners; removing a member answers
// the same for an unknown account and a non-member.
func TestInviteRevealsNoAccount(t *testing.T) {
	h := newHarness(t, nil)
	owner := h.session(bindery.RoleAuthor)
	book := h.newBook(bindery.RoleAuthor)
	path := fmt.Sprintf("/api/v1/books/%d/invitations", book.ID)
	shape := func(body, email string) string {
		body = strings.Replace(body, email, "EMAIL", 1)
		return regexp.MustCompile(`"id":\d+`).ReplaceAllString(body, `"id":N`)
	}
	r1, b1 := h.do(req{method: "POST", path: path, cookie: owner, body: `{"email":"editor@example.com"}`})
	r2, b2 := h.do(req{method: "POST", path: path, cookie: owner, body: `{"email":"no.such.person@example.com"}`})
	if r1.StatusCode != http.StatusCreated || r2.StatusCode != r1.StatusCode || shape(b1, "editor@example.com") != shape(b2, "no.such.person@example.com") {
		t.Fatalf("answers differ:\n%d %s\n%d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if ok, _ := h.store.IsMember(context.Background(), book.ID, h.users[bindery.RoleEditor].ID); ok {
		t.Fatal("inviting made a member without consent")
	}

	// The old oracle: PUT by id is for admins only.
	for _, id := range []int64{h.users[bindery.RoleEditor].ID, 999999} {
		if r, body := h.do(req{method: "PUT", path: fmt.Sprintf("/api/v1/books/%d/members/%d", book.ID, id), cookie: owner}); r.StatusCode != http.StatusForbidden {
			t.Fatalf("owner PUT member %d: %d %s", id, r.StatusCode, body)
		}
	}
	ra, ba := h.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/books/%d/members/%d", book.ID, h.users[bindery.RoleEditor].ID), cookie: owner})
	rb, bb := h.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/books/%d/members/%d", book.ID, 999999), cookie: owner})
	if ra.StatusCode != http.StatusNotFound || rb.StatusCode != ra.StatusCode || ba != bb {
		t.Fatalf("removing a non-member vs an unknown account:\n%d %s\n%d %s", ra.StatusCode, ba, rb.StatusCode, bb)
	}
	// The invitation audit names the book and the invitation, never the address.
	ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditMemberInvited})
	if len(ev) != 2 || strings.Contains(ev[0].Detail+ev[1].Detail+ev[0].Target, "@") {
		t.Fatalf("invitation audit: %+v", ev)
	}
}

// TestInvitationAcceptedByTheInviteeOnly: the invitee sees the invitation
// and accepts it; nobody else can see, accept or decline it; accepting
// makes a member, declining does not.
func TestInvitationAcceptedByTheInviteeOnly(t *testing.T) {
	h := newHarness(t, nil)
	owner, editor, viewer := h.session(bindery.RoleAuthor), h.session(bindery.RoleEditor), h.session(bindery.RoleViewer)
	book := h.newBook(bindery.RoleAuthor)
	invite := func(email string) {
		t.Helper()
		if r, body := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/invitations", book.ID), cookie: owner, body: `{"email":"` + email + `"}`}); r.StatusCode != http.StatusCreated {
			t.Fatalf("invite: %d %s", r.StatusCode, body)
		}
	}
	mine := func(cookie string) []map[string]any {
		t.Helper()
		r, body := h.do(req{method: "GET", path: "/api/v1/me/invitations", cookie: cookie})
		var v struct{ Invitations []map[string]any }
		if r.StatusCode != 200 || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("my invitations: %d %s", r.StatusCode, body)
		}
		return v.Invitations
	}
	invite("Editor@Example.com") // normalised like sign-in addresses
	list := mine(editor)
	if len(list) != 1 || list[0]["book_title"] != "Shared" || list[0]["email"] != nil {
		t.Fatalf("the invitee's list: %+v", list)
	}
	if other := mine(viewer); len(other) != 0 {
		t.Fatalf("someone else sees the invitation: %+v", other)
	}
	id := int64(list[0]["id"].(float64))
	for _, r := range []req{
		{method: "POST", path: fmt.Sprintf("/api/v1/me/invitations/%d/accept", id), cookie: viewer},
		{method: "DELETE", path: fmt.Sprintf("/api/v1/me/invitations/%d", id), cookie: viewer},
	} {
		if resp, body := h.do(r); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("another user: %s %s = %d %s", r.method, r.path, resp.StatusCode, body)
		}
	}
	if resp, body := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d", book.ID), cookie: editor}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the book before accepting: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/me/invitations/%d/accept", id), cookie: editor}); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d", book.ID), cookie: editor}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the book after accepting: %d %s", resp.StatusCode, body)
	}
	if resp, _ := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/me/invitations/%d/accept", id), cookie: editor}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("accepted twice: %d", resp.StatusCode)
	}
	ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditMemberAdded})
	if len(ev) != 1 || ev[0].Target != bindery.UserTarget(h.users[bindery.RoleEditor].ID) || !strings.Contains(ev[0].Detail, "accepted invitation") {
		t.Fatalf("accept audit: %+v", ev)
	}

	// Declining hides it from the invitee, and does not make a member.
	invite("viewer@example.com")
	id = int64(mine(viewer)[0]["id"].(float64))
	if resp, body := h.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/me/invitations/%d", id), cookie: viewer}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("decline: %d %s", resp.StatusCode, body)
	}
	if len(mine(viewer)) != 0 {
		t.Fatal("declined invitation still listed")
	}
	if ok, _ := h.store.IsMember(context.Background(), book.ID, h.users[bindery.RoleViewer].ID); ok {
		t.Fatal("declining made a member")
	}
	// The owner sees pending invitations — the declined one among them,
	// looking the same as one to an address nobody has, so that a decline
	// does not reveal the account — and withdraws them.
	invite("someone@example.com")
	r, body := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/invitations", book.ID), cookie: owner})
	var pending struct{ Invitations []map[string]any }
	if r.StatusCode != 200 || json.Unmarshal([]byte(body), &pending) != nil || len(pending.Invitations) != 2 ||
		pending.Invitations[0]["email"] != "viewer@example.com" || pending.Invitations[1]["email"] != "someone@example.com" {
		t.Fatalf("pending: %d %s", r.StatusCode, body)
	}
	declined, unknown := pending.Invitations[0], pending.Invitations[1]
	for k := range unknown {
		if _, ok := declined[k]; !ok {
			t.Errorf("the declined invitation lacks %q", k)
		}
	}
	if len(declined) != len(unknown) {
		t.Errorf("a declined invitation looks different: %v vs %v", declined, unknown)
	}
	if r, body := h.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/books/%d/invitations/%d", book.ID, int64(unknown["id"].(float64))), cookie: owner}); r.StatusCode != http.StatusNoContent {
		t.Fatalf("withdraw: %d %s", r.StatusCode, body)
	}
}

// TestMemberAddressesShownToAdminsAndThemselves: a book lists its members
// by display name or "member #id"; only admins and the member themself see
// the member's address.
func TestMemberAddressesShownToAdminsAndThemselves(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.store.UpdateUserName(context.Background(), h.users[bindery.RoleViewer].ID, "Vera Viewer", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	members := func(role bindery.Role) map[int64]map[string]any {
		t.Helper()
		r, body := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d", h.shared.ID), cookie: h.session(role)})
		var v struct{ Members []map[string]any }
		if r.StatusCode != 200 || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("book as %s: %d %s", role, r.StatusCode, body)
		}
		out := map[int64]map[string]any{}
		for _, m := range v.Members {
			out[int64(m["id"].(float64))] = m
		}
		return out
	}
	ed, vi := h.users[bindery.RoleEditor], h.users[bindery.RoleViewer]
	for role, want := range map[bindery.Role]map[int64]any{
		bindery.RoleAuthor: {ed.ID: nil, vi.ID: nil},           // the owner
		bindery.RoleEditor: {ed.ID: ed.Email, vi.ID: nil},      // a member: their own only
		bindery.RoleAdmin:  {ed.ID: ed.Email, vi.ID: vi.Email}, // admins: all
	} {
		got := members(role)
		for id, email := range want {
			if got[id]["email"] != email {
				t.Errorf("as %s, member %d's email = %v, want %v", role, id, got[id]["email"], email)
			}
		}
		if got[ed.ID]["name"] != fmt.Sprintf("member #%d", ed.ID) || got[vi.ID]["name"] != "Vera Viewer" {
			t.Errorf("as %s, names: %v, %v", role, got[ed.ID]["name"], got[vi.ID]["name"])
		}
	}
}
