package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// TestRunOverHTTP: start a run through the API, watch it finish, download
// its EPUB as an attachment.
func TestRunOverHTTP(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.session(bindery.RoleEditor)
	r, body := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/runs", h.shared.ID), cookie: tok, body: `{"formats":["epub","html"]}`})
	if r.StatusCode != 201 {
		t.Fatalf("start: %d %s", r.StatusCode, body)
	}
	var run struct {
		ID        int64    `json:"id"`
		State     string   `json:"state"`
		Artifacts []string `json:"artifacts"`
		Error     string   `json:"error"`
	}
	json.Unmarshal([]byte(body), &run)
	deadline := time.Now().Add(60 * time.Second)
	for run.State != bindery.RunSucceeded {
		if run.State == bindery.RunFailed || time.Now().After(deadline) {
			t.Fatalf("run: %+v", run)
		}
		time.Sleep(20 * time.Millisecond) // polling the API, as a client would, with a deadline
		_, body = h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/runs/%d", run.ID), cookie: tok})
		json.Unmarshal([]byte(body), &run)
	}
	if len(run.Artifacts) != 2 {
		t.Fatalf("artifacts: %v", run.Artifacts)
	}
	var epub string
	for _, a := range run.Artifacts {
		if strings.HasSuffix(a, ".epub") {
			epub = a
		}
	}
	r, body = h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/runs/%d/artifacts/%s", run.ID, epub), cookie: h.session(bindery.RoleViewer)})
	if r.StatusCode != 200 || !strings.HasPrefix(body, "PK") || r.Header.Get("Content-Type") != "application/epub+zip" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("artifact: %d %v", r.StatusCode, r.Header)
	}
	for _, name := range []string{"..%2F..%2Fbindery.db", ".hidden", "nope.epub"} {
		if r, _ := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/runs/%d/artifacts/%s", run.ID, name), cookie: tok}); r.StatusCode != 404 {
			t.Errorf("artifact %s: %d, want 404", name, r.StatusCode)
		}
	}
	// Publishing needs the publish permission.
	if r, _ := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/runs", h.shared.ID), cookie: tok, body: `{"publish":true}`}); r.StatusCode != 403 {
		t.Fatalf("editor publishing: %d, want 403", r.StatusCode)
	}
	if ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditRunControl}); len(ev) != 1 {
		t.Fatalf("run start not audited: %+v", ev)
	}
}

// TestStrangersGet404OnRuns: a run of a book you cannot see does not exist
// for you.
func TestStrangersGet404OnRuns(t *testing.T) {
	h := newHarness(t, nil)
	private := h.newBook(bindery.RoleAuthor)
	run := &bindery.Run{BookID: private.ID, State: bindery.RunPaused, Formats: []string{"epub"}, CreatedBy: h.users[bindery.RoleAuthor].ID, CreatedAt: h.clock.Now()}
	h.store.CreateRun(context.Background(), run)
	for _, who := range []bindery.Role{bindery.RoleEditor, bindery.RoleViewer} {
		tok := h.session(who)
		for _, r := range []req{
			{method: "GET", path: fmt.Sprintf("/api/v1/runs/%d", run.ID)},
			{method: "POST", path: fmt.Sprintf("/api/v1/runs/%d/resume", run.ID)},
			{method: "POST", path: fmt.Sprintf("/api/v1/runs/%d/stop", run.ID)},
			{method: "POST", path: fmt.Sprintf("/api/v1/runs/%d/pause", run.ID)},
			{method: "GET", path: fmt.Sprintf("/api/v1/runs/%d/artifacts/book.epub", run.ID)},
			{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/runs", private.ID)},
			{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/runs", private.ID), body: `{}`},
			{method: "GET", path: "/api/v1/runs/999999"},
		} {
			r.cookie = tok
			if resp, body := h.do(r); resp.StatusCode != 404 {
				t.Errorf("%s: %s %s = %d %s, want 404", who, r.method, r.path, resp.StatusCode, body)
			}
		}
	}
	if got, _ := h.store.RunByID(context.Background(), run.ID); got.State != bindery.RunPaused {
		t.Fatalf("a stranger changed the run: %s", got.State)
	}
}
