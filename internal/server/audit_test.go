package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// exportLines fetches the audit export as cookie and decodes its lines.
func exportLines(t *testing.T, h *harness, query, cookie string) []bindery.AuditEvent {
	t.Helper()
	resp, body := h.do(req{method: "GET", path: "/api/v1/audit/export" + query, cookie: cookie})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var out []bindery.AuditEvent
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		var e bindery.AuditEvent
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d is not an audit entry: %v\n%s", len(out)+1, err, sc.Text())
		}
		out = append(out, e)
	}
	if !strings.HasSuffix(body, "\n") {
		t.Fatal("the export does not end with a newline: truncated?")
	}
	return out
}

// TestAuditExport: admins get every entry as JSON lines, oldest first,
// each linked to the one before by its hashes, with no address anywhere;
// the export is audited; others are refused.
func TestAuditExport(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.session(bindery.RoleAdmin)
	h.login("nobody.here@example.org", "not the password at all", nil)
	lines := exportLines(t, h, "", admin)
	if len(lines) < 5 {
		t.Fatalf("export: %d lines", len(lines))
	}
	for i, e := range lines {
		if e.Hash == "" || (i == 0 && e.PrevHash != "") || (i > 0 && (e.PrevHash != lines[i-1].Hash || e.ID <= lines[i-1].ID)) {
			t.Fatalf("line %d (%+v) does not follow line %d in the chain", i+1, e, i)
		}
	}
	last := lines[len(lines)-1]
	if last.Action != bindery.AuditExported || last.ActorID == nil || *last.ActorID != h.users[bindery.RoleAdmin].ID {
		t.Fatalf("the export is not audited as the last line: %+v", last)
	}
	_, body := h.do(req{method: "GET", path: "/api/v1/audit/export", cookie: admin})
	if strings.Contains(body, "@") {
		t.Fatalf("the export holds an address:\n%s", body)
	}
	v, err := h.store.VerifyAudit(context.Background())
	if err != nil || !v.OK() {
		t.Fatalf("VerifyAudit = %+v, %v", v, err)
	}

	h.clock.Advance(time.Hour)
	since := exportLines(t, h, "?since="+h.clock.Now().Format(time.RFC3339), admin)
	if len(since) != 1 || since[0].Action != bindery.AuditExported || since[0].PrevHash == "" {
		t.Fatalf("export since now: %+v; want only this export's own entry, chained", since)
	}
	if r, _ := h.do(req{method: "GET", path: "/api/v1/audit/export?since=yesterday", cookie: admin}); r.StatusCode != 400 {
		t.Fatalf("malformed since: %d, want 400", r.StatusCode)
	}
	for _, c := range []struct {
		cookie string
		want   int
	}{{"", 401}, {h.session(bindery.RoleViewer), 403}, {h.session(bindery.RoleAuthor), 403}} {
		if r, body := h.do(req{method: "GET", path: "/api/v1/audit/export", cookie: c.cookie}); r.StatusCode != c.want || strings.Contains(body, "login.") {
			t.Fatalf("export as a non-admin: %d (want %d) %s", r.StatusCode, c.want, body)
		}
	}
}

// TestAuditListResolvesActorsAtReadTime: the list shows the actor's
// current address while the account exists, and only the id after it is
// deleted; failed sign-ins show a pseudonym, never the address tried.
func TestAuditListResolvesActorsAtReadTime(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.session(bindery.RoleAdmin)
	u := freshUser(h)
	if _, _, err := h.auth.Login(context.Background(), u.Email, strongPassword, "", authClient, ""); err != nil {
		t.Fatal(err)
	}
	h.login("nobody.here@example.org", "not the password at all", nil)
	list := func() []map[string]any {
		t.Helper()
		resp, body := h.do(req{method: "GET", path: "/api/v1/audit?limit=1000", cookie: admin})
		if resp.StatusCode != 200 || strings.Contains(body, "nobody.here") {
			t.Fatalf("audit list: %d %s", resp.StatusCode, body)
		}
		var out struct{ Events []map[string]any }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out.Events
	}
	find := func(events []map[string]any, action string, actor int64) map[string]any {
		for _, e := range events {
			if e["action"] == action && (actor == 0 || e["actor_id"] == float64(actor)) {
				return e
			}
		}
		t.Fatalf("no %s entry by %d in %v", action, actor, events)
		return nil
	}
	events := list()
	if e := find(events, bindery.AuditLoginSucceeded, u.ID); e["actor_email"] != u.Email {
		t.Fatalf("sign-in of a live account: %v, want actor_email %s", e, u.Email)
	}
	if e := find(events, bindery.AuditLoginFailed, 0); !strings.HasPrefix(fmt.Sprint(e["subject"]), "acct:") || e["actor_email"] != nil {
		t.Fatalf("failed sign-in: %v, want a pseudonym", e)
	}
	if r, _ := h.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/users/%d", u.ID), cookie: admin}); r.StatusCode != 204 {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	events = list()
	if e := find(events, bindery.AuditLoginSucceeded, u.ID); e["actor_email"] != nil {
		t.Fatalf("sign-in of a deleted account still shows an address: %v", e)
	}
	if e := find(events, bindery.AuditUserDeleted, h.users[bindery.RoleAdmin].ID); e["target"] != bindery.UserTarget(u.ID) {
		t.Fatalf("deletion target: %v, want %s", e, bindery.UserTarget(u.ID))
	}
}

// TestFailedSignInStoresNoAddress: a sign-in with an unknown address is
// audited under a pseudonym, and the address is in no file of the data
// folder (database, WAL, anything else).
func TestFailedSignInStoresNoAddress(t *testing.T) {
	h := newHarness(t, nil)
	const addr = "nobody.here@example.org"
	for range 2 {
		if r, _ := h.login(addr, "not the password at all", nil); r.StatusCode != 401 {
			t.Fatalf("login: %d", r.StatusCode)
		}
	}
	failed, err := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditLoginFailed})
	if err != nil || len(failed) != 2 || failed[0].Subject == "" || failed[0].Subject != failed[1].Subject {
		t.Fatalf("failed sign-ins: %+v, %v; want two with the same pseudonym", failed, err)
	}
	err = filepath.WalkDir(h.cfg.DataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if bytes.Contains(bytes.ToLower(b), []byte(addr)) {
			t.Errorf("%s holds the address", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMemberEventsNameTheMemberByID: adding and removing a member is
// audited about that user (target user:<id>), with the book in the
// detail, and no address.
func TestMemberEventsNameTheMemberByID(t *testing.T) {
	h := newHarness(t, nil)
	owner, admin := h.session(bindery.RoleAuthor), h.session(bindery.RoleAdmin)
	u := freshUser(h)
	path := fmt.Sprintf("/api/v1/books/%d/members/%d", h.shared.ID, u.ID)
	// In order: a map's would be random, and a removal first finds no member.
	for _, step := range []struct{ method, who string }{{"PUT", admin}, {"DELETE", owner}} {
		if r, body := h.do(req{method: step.method, path: path, cookie: step.who}); r.StatusCode != 204 {
			t.Fatalf("%s member: %d %s", step.method, r.StatusCode, body)
		}
	}
	var about []*bindery.AuditEvent
	err := h.store.EachAudit(context.Background(), bindery.AuditFilter{About: &bindery.AuditPerson{UserID: u.ID}}, func(e *bindery.AuditEvent) error {
		about = append(about, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("book %d", h.shared.ID)
	if len(about) != 3 || about[1].Action != bindery.AuditMemberAdded || about[2].Action != bindery.AuditMemberRemoved ||
		about[1].Detail != want+", added by an admin" || about[2].Detail != want || about[2].Target != bindery.UserTarget(u.ID) {
		t.Fatalf("entries about the member: %+v", about)
	}
}
