package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/coder/websocket"
)

// dialWS opens /ws as a browser of our origin would, with the session
// cookie, and returns a frame reader.
func dialWS(t *testing.T, h *harness, cookie, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	hdr := http.Header{}
	if cookie != "" {
		hdr.Set("Cookie", "bindery_session="+cookie)
	}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
}

func readFrame(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("frame %s: %v", data, err)
	}
	return f
}

// TestRunObservedOverWebSocket: a full run of a book, watched live by a
// member over the WebSocket, arrives in order; a user of another book
// sees none of it; a page of another origin cannot connect.
func TestRunObservedOverWebSocket(t *testing.T) {
	h := newHarness(t, nil)
	member := h.session(bindery.RoleEditor)
	c, _, err := dialWS(t, h, member, h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if f := readFrame(t, c); f["type"] != "state_sync" {
		t.Fatalf("first frame: %v", f)
	}
	// A stranger (another author, no membership) is connected too.
	other := h.newBook(bindery.RoleAdmin) // a book the editor cannot see
	_ = other
	r, body := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/runs", h.shared.ID), cookie: member, body: `{"formats":["epub"]}`})
	if r.StatusCode != 201 {
		t.Fatalf("start: %d %s", r.StatusCode, body)
	}
	var seq []string
	lastID := 0.0
	for {
		f := readFrame(t, c)
		id, _ := f["id"].(float64)
		if id < lastID {
			t.Fatalf("frame ids went down: %v after %v", id, lastID)
		}
		lastID = id
		if f["book_id"] != float64(h.shared.ID) {
			t.Fatalf("event of another book: %v", f)
		}
		typ := f["type"].(string)
		if typ == "stage_started" || typ == "stage_finished" {
			typ += ":" + f["stage"].(string)
		}
		if typ != "stage_progress" && typ != "log" {
			seq = append(seq, typ)
		}
		if typ == "run_succeeded" || typ == "run_failed" {
			break
		}
	}
	want := []string{"run_queued", "run_started"}
	for _, st := range bindery.Stages {
		want = append(want, "stage_started:"+st, "stage_finished:"+st)
	}
	want = append(want, "run_succeeded")
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Fatalf("events over the WebSocket:\n got %v\nwant %v", seq, want)
	}

	// Cross-site WebSocket hijacking: the user's cookie, another origin.
	if _, resp, err := dialWS(t, h, member, "https://evil.example"); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("evil origin: err %v, resp %v", err, resp)
	}
}

// TestRevocationClosesSockets: signing out everywhere closes live sockets.
func TestRevocationClosesSockets(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.session(bindery.RoleAuthor)
	c, _, err := dialWS(t, h, tok, h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	readFrame(t, c) // state_sync
	if r, _ := h.do(req{method: "POST", path: "/api/v1/auth/logout", cookie: tok}); r.StatusCode != 204 {
		t.Fatal(r.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the socket stayed open after logout")
			}
			return
		}
	}
}

// TestWSFailuresCountTowardsTheBlock: failed WebSocket authentication is
// audited and blocks the address like failed sign-ins.
func TestWSFailuresCountTowardsTheBlock(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "2"})
	for i := 0; i < 3; i++ {
		c, _, err := dialWS(t, h, "", h.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c.Write(ctx, websocket.MessageText, []byte(`{"token":"wrong"}`))
		_, data, _ := c.Read(ctx)
		cancel()
		if !strings.Contains(string(data), "Invalid authentication token") {
			t.Fatalf("frame %q", data)
		}
		c.CloseNow()
	}
	if _, resp, err := dialWS(t, h, "", h.srv.URL); err == nil || resp == nil || resp.StatusCode != 429 {
		t.Fatalf("after 3 failures: %v %v", err, resp)
	}
	if ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditWSRefused}); len(ev) != 3 {
		t.Fatalf("refusals audited: %d", len(ev))
	}
}

// TestForeignHandshakesDoNotLockOut: any web page can make its visitors'
// browsers open /ws with the page's Origin. Those refusals must not count
// as sign-in failures (they did, and six locked the user out); they are
// limited on their own: past the limit they get 429, and the user can
// still sign in and connect.
func TestForeignHandshakesDoNotLockOut(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "2"})
	for i := range 25 {
		_, resp, err := dialWS(t, h, "", "http://evil.example")
		want := http.StatusForbidden
		if i >= 20 {
			want = http.StatusTooManyRequests
		}
		if err == nil || resp == nil || resp.StatusCode != want {
			t.Fatalf("foreign handshake %d: %v %v, want %d", i+1, resp, err, want)
		}
	}
	if resp, body := h.login("author@example.com", strongPassword, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in after foreign handshakes: %d %s", resp.StatusCode, body)
	}
	if len(h.auth.Guard().Blocks()) != 0 {
		t.Fatalf("address blocked: %v", h.auth.Guard().Blocks())
	}
	c, _, err := dialWS(t, h, h.session(bindery.RoleAuthor), h.srv.URL)
	if err != nil {
		t.Fatalf("own WebSocket after foreign handshakes: %v", err)
	}
	if f := readFrame(t, c); f["type"] != "state_sync" {
		t.Fatalf("first frame %v", f)
	}
	c.CloseNow()
	if ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditWSRefused}); len(ev) != 21 {
		t.Fatalf("refusals audited: %d, want 20 and one for crossing the limit", len(ev))
	}
}

// waitClosed fails unless the socket is closed within 10 s.
func waitClosed(t *testing.T, c *websocket.Conn, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("the socket stayed open after %s", what)
			}
			return
		}
	}
}

// TestRightsChangesCloseSockets: a role change and the removal from a book
// close the user's live sockets, so they cannot keep receiving events
// under rights they no longer have.
func TestRightsChangesCloseSockets(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.session(bindery.RoleAdmin)

	editor := h.session(bindery.RoleEditor)
	c, _, err := dialWS(t, h, editor, h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	readFrame(t, c)
	if r, body := h.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/books/%d/members/%d", h.shared.ID, h.users[bindery.RoleEditor].ID), cookie: admin}); r.StatusCode != 204 {
		t.Fatalf("remove member: %d %s", r.StatusCode, body)
	}
	waitClosed(t, c, "removal from the book")

	viewer := h.session(bindery.RoleViewer)
	c2, _, err := dialWS(t, h, viewer, h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseNow()
	readFrame(t, c2)
	if r, body := h.do(req{method: "PATCH", path: fmt.Sprintf("/api/v1/users/%d", h.users[bindery.RoleViewer].ID), cookie: admin, body: `{"role":"author"}`}); r.StatusCode != 200 {
		t.Fatalf("role change: %d %s", r.StatusCode, body)
	}
	waitClosed(t, c2, "a role change")
}

// TestWSRefusesUsersAwaitingTwoFactor: the live stream is closed to an
// account the policy requires to enrol, as every API route is, and open
// once it has.
func TestWSRefusesUsersAwaitingTwoFactor(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_REQUIRE_TWO_FACTOR": "all", "BINDERY_LOGIN_MAX_FAILURES": "2"})
	// Refused, but with a valid credential: no sign-in failure, so a tab
	// that keeps reconnecting does not lock its user out.
	session := h.session(bindery.RoleEditor)
	for range 4 {
		c, _, err := dialWS(t, h, session, h.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if f := readFrame(t, c); f["type"] != "error" {
			t.Fatalf("first frame for a user awaiting enrolment: %v", f)
		}
		waitClosed(t, c, "the socket of a user awaiting enrolment")
	}
	if b := h.auth.Guard().Blocks(); len(b) != 0 {
		t.Fatalf("a user awaiting enrolment got their address blocked: %v", b)
	}
	_, _, cookie := h.enrol(bindery.RoleEditor)
	c, _, err := dialWS(t, h, cookie, h.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if f := readFrame(t, c); f["type"] != "state_sync" {
		t.Fatalf("first frame after enrolment: %v", f)
	}
}
