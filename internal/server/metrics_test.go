package server_test

import (
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// TestMetricsOnlyFromLoopbackOrAdmin: behind a trusted proxy, a remote
// client cannot read /metrics; an admin can; the figures are there.
func TestMetricsOnlyFromLoopbackOrAdmin(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_TRUSTED_PROXIES": "127.0.0.1"})
	h.login("author@example.com", "wrong password here", nil)
	remote := map[string]string{"X-Forwarded-For": "203.0.113.9"}
	if r, _ := h.do(req{method: "GET", path: "/metrics", header: remote}); r.StatusCode != 401 {
		t.Fatalf("remote anonymous: %d, want 401", r.StatusCode)
	}
	if r, _ := h.do(req{method: "GET", path: "/metrics", header: remote, cookie: h.session(bindery.RoleAuthor)}); r.StatusCode != 403 {
		t.Fatalf("remote author: %d, want 403", r.StatusCode)
	}
	r, body := h.do(req{method: "GET", path: "/metrics", header: remote, cookie: h.session(bindery.RoleAdmin)})
	if r.StatusCode != 200 {
		t.Fatalf("remote admin: %d", r.StatusCode)
	}
	for _, want := range []string{
		`bindery_http_requests_total{code="4xx",method="POST",route="POST /api/v1/auth/login"}`,
		`bindery_logins_total{result="failed"} 1`,
		`bindery_http_request_duration_seconds_bucket`,
		`bindery_websocket_clients 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r, _ := h.do(req{method: "GET", path: "/metrics"}); r.StatusCode != 200 {
		t.Fatalf("loopback: %d", r.StatusCode)
	}
}
