package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/testkit"
)

// TestSecurityHeadersOnEveryResponse checks successes, errors, redirects,
// static files and refusals alike.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	h := newHarness(t, nil)
	for _, r := range []req{
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/login"},
		{method: "GET", path: "/"},
		{method: "GET", path: "/static/app.css"},
		{method: "GET", path: "/api/v1/me"},
		{method: "GET", path: "/api/v1/nope"},
		{method: "GET", path: "/healthz", header: map[string]string{"Host": "evil.example"}},
	} {
		resp, _ := h.do(r)
		for k, want := range map[string]string{
			"X-Content-Type-Options":     "nosniff",
			"Referrer-Policy":            "no-referrer",
			"Cross-Origin-Opener-Policy": "same-origin",
			"X-Frame-Options":            "DENY",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s %s: %s = %q, want %q", r.method, r.path, k, got, want)
			}
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, d := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, d) {
				t.Errorf("%s %s: CSP %q lacks %q", r.method, r.path, csp, d)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("CSP allows inline code: %q", csp)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("HSTS sent over plain HTTP in development")
		}
	}
}

// TestCrossOriginStateChangeRefused: a page on another origin cannot make
// the browser post to Bindery (CSRF), whatever cookies it carries.
func TestCrossOriginStateChangeRefused(t *testing.T) {
	h := newHarness(t, nil)
	cookie := h.session(bindery.RoleAdmin)
	body := `{"email":"admin@example.com","password":"` + strongPassword + `"}`
	for _, hdr := range []map[string]string{
		{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		resp, got := h.do(req{method: "POST", path: "/api/v1/auth/login", body: body, header: hdr})
		if resp.StatusCode != 403 || !strings.Contains(got, "Cross-origin") {
			t.Errorf("login with %v: %d %s, want 403", hdr, resp.StatusCode, got)
		}
		resp, _ = h.do(req{method: "POST", path: "/api/v1/users", cookie: cookie, header: hdr,
			body: `{"email":"csrf@example.com","role":"admin","password":"` + strongPassword + `"}`})
		if resp.StatusCode != 403 {
			t.Errorf("create user with %v: %d, want 403", hdr, resp.StatusCode)
		}
	}
	if _, err := h.store.UserByEmail(context.Background(), "csrf@example.com"); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatal("a cross-origin request created a user")
	}
	// Same origin is fine.
	resp, _ := h.do(req{method: "POST", path: "/api/v1/auth/login", body: body,
		header: map[string]string{"Origin": h.srv.URL, "Sec-Fetch-Site": "same-origin"}})
	if resp.StatusCode != 200 {
		t.Fatalf("same-origin login: %d", resp.StatusCode)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	h := newHarness(t, nil)
	resp, _ := h.login("author@example.com", strongPassword, nil)
	c := cookieFrom(resp)
	if c == nil || !c.HttpOnly || c.SameSite != 3 /* Strict */ || c.Path != "/" {
		t.Fatalf("cookie = %+v, want HttpOnly, SameSite=Strict, Path=/", c)
	}
	if !strings.HasPrefix(c.Value, auth.SessionPrefix) || len(c.Value) < 43 {
		t.Fatalf("cookie value %q is not a 256-bit session token", c.Value)
	}
	// Stored only as a hash.
	if _, _, err := h.store.SessionByTokenHash(context.Background(), []byte(c.Value)); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatal("the session token is stored in clear")
	}
}

// TestLoginAnswersTheSameForUnknownUsers: same status, same body, and the
// same work (one password verification) for an unknown account as for a
// wrong password.
func TestLoginAnswersTheSameForUnknownUsers(t *testing.T) {
	h := newHarness(t, nil)
	hasher := h.auth.Hasher()
	before := hasher.Verifications()
	r1, b1 := h.login("author@example.com", "wrong password entirely", nil)
	mid := hasher.Verifications()
	r2, b2 := h.login("nobody@example.com", "wrong password entirely", nil)
	after := hasher.Verifications()
	if r1.StatusCode != 401 || r2.StatusCode != 401 || b1 != b2 {
		t.Fatalf("wrong password: %d %s; unknown user: %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if mid-before != 1 || after-mid != 1 {
		t.Fatalf("verifications: wrong password %d, unknown user %d; want 1 each", mid-before, after-mid)
	}
}

func TestLoginLogoutAndSessionExpiry(t *testing.T) {
	h := newHarness(t, nil)
	resp, _ := h.login("editor@example.com", strongPassword, nil)
	tok := cookieFrom(resp).Value
	me := func() int { r, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: tok}); return r.StatusCode }

	if got := me(); got != 200 {
		t.Fatalf("fresh session: %d", got)
	}
	// Idle timeout (2 h): activity every 90 minutes keeps it alive…
	for i := 0; i < 3; i++ {
		h.clock.Advance(90 * time.Minute)
		if got := me(); got != 200 {
			t.Fatalf("active session after %d×90m: %d", i+1, got)
		}
	}
	// …but 2 h of silence ends it.
	h.clock.Advance(2 * time.Hour)
	if got := me(); got != 401 {
		t.Fatalf("idle session: %d, want 401", got)
	}

	// Absolute timeout (24 h) even with constant activity.
	resp, _ = h.login("editor@example.com", strongPassword, nil)
	tok = cookieFrom(resp).Value
	for elapsed := time.Duration(0); elapsed < 23*time.Hour; elapsed += time.Hour {
		h.clock.Advance(time.Hour)
		if got := me(); got != 200 {
			t.Fatalf("active session at %s: %d", elapsed+time.Hour, got)
		}
	}
	h.clock.Advance(time.Hour)
	if got := me(); got != 401 {
		t.Fatalf("session past 24 h: %d, want 401", got)
	}

	// Logout revokes server-side: the old cookie value is dead.
	resp, _ = h.login("editor@example.com", strongPassword, nil)
	tok = cookieFrom(resp).Value
	if r, _ := h.do(req{method: "POST", path: "/api/v1/auth/logout", cookie: tok}); r.StatusCode != 204 {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	if got := me(); got != 401 {
		t.Fatalf("after logout: %d, want 401", got)
	}

	// Expired rows nobody presents again are swept.
	h.session(bindery.RoleViewer)
	h.clock.Advance(25 * time.Hour)
	n, err := h.auth.Sweep(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("Sweep = %d, %v; want expired sessions removed", n, err)
	}
}

// TestNewSessionAtLogin: signing in again replaces the browser's session
// (session fixation), and the old token stops working.
func TestNewSessionAtLogin(t *testing.T) {
	h := newHarness(t, nil)
	old := h.session(bindery.RoleAuthor)
	resp, _ := h.do(req{method: "POST", path: "/api/v1/auth/login", cookie: old,
		body: `{"email":"author@example.com","password":"` + strongPassword + `"}`})
	c := cookieFrom(resp)
	if c == nil || c.Value == old {
		t.Fatal("login kept the old session token")
	}
	if r, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: old}); r.StatusCode != 401 {
		t.Fatalf("the replaced session still works: %d", r.StatusCode)
	}
}

func TestListAndRevokeOwnSessions(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.session(bindery.RoleAuthor), h.session(bindery.RoleAuthor)
	other := h.session(bindery.RoleEditor)
	_, body := h.do(req{method: "GET", path: "/api/v1/me/sessions", cookie: a})
	var list struct {
		Sessions []bindery.Session `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Sessions) != 2 {
		t.Fatalf("sessions: %s", body)
	}
	var bID string
	for _, s := range list.Sessions {
		if !s.Current {
			bID = s.ID
		}
	}
	// The editor cannot revoke the author's session.
	if r, _ := h.do(req{method: "DELETE", path: "/api/v1/me/sessions/" + bID, cookie: other}); r.StatusCode != 404 {
		t.Fatalf("revoking someone else's session: %d, want 404", r.StatusCode)
	}
	if r, _ := h.do(req{method: "DELETE", path: "/api/v1/me/sessions/" + bID, cookie: a}); r.StatusCode != 204 {
		t.Fatalf("revoke own session: %d", r.StatusCode)
	}
	if r, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: b}); r.StatusCode != 401 {
		t.Fatalf("revoked session still works: %d", r.StatusCode)
	}
}

// TestRoleChangeTakesEffectImmediately: the demoted user's sessions die at
// once, and a new sign-in gets only the new role's rights.
func TestRoleChangeTakesEffectImmediately(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.session(bindery.RoleAdmin)
	victim, err := h.auth.CreateUser(context.Background(), nil, "second@example.com", bindery.RoleAdmin, strongPassword, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	_, tok, _ := h.auth.Login(context.Background(), "second@example.com", strongPassword, "", auth.Client{}, "")
	api, _, _ := h.auth.CreateAPIToken(context.Background(), nil, victim, "script", 0, auth.Client{})
	if r, _ := h.do(req{method: "GET", path: "/api/v1/users", cookie: tok}); r.StatusCode != 200 {
		t.Fatalf("as admin: %d", r.StatusCode)
	}
	r, body := h.do(req{method: "PATCH", path: fmt.Sprintf("/api/v1/users/%d", victim.ID), cookie: admin, body: `{"role":"viewer"}`})
	if r.StatusCode != 200 {
		t.Fatalf("demote: %d %s", r.StatusCode, body)
	}
	if r, _ := h.do(req{method: "GET", path: "/api/v1/users", cookie: tok}); r.StatusCode != 401 {
		t.Fatalf("demoted user's old session: %d, want 401 (revoked)", r.StatusCode)
	}
	// An API token is not a session: it stays, but its rights follow the role.
	if r, _ := h.do(req{method: "GET", path: "/api/v1/users", bearer: api}); r.StatusCode != 403 {
		t.Fatalf("demoted user's API token on an admin route: %d, want 403", r.StatusCode)
	}
	// The last admin cannot be demoted, and an admin cannot demote themselves.
	r, _ = h.do(req{method: "PATCH", path: fmt.Sprintf("/api/v1/users/%d", h.users[bindery.RoleAdmin].ID), cookie: admin, body: `{"role":"viewer"}`})
	if r.StatusCode != 409 {
		t.Fatalf("self-demotion: %d, want 409", r.StatusCode)
	}
	events, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditRoleChanged})
	if len(events) != 1 || events[0].Target != bindery.UserTarget(victim.ID) {
		t.Fatalf("role change not audited: %+v", events)
	}
}

// TestPasswordChangeRevokesEverySession: sessions and API tokens alike; the
// answer says how many tokens went.
func TestPasswordChangeRevokesEverySession(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.session(bindery.RoleAuthor), h.session(bindery.RoleAuthor)
	tok1, _, err := h.auth.CreateAPIToken(context.Background(), h.users[bindery.RoleAuthor], h.users[bindery.RoleAuthor], "ci", 0, authClient)
	if err != nil {
		t.Fatal(err)
	}
	tok2, _, _ := h.auth.CreateAPIToken(context.Background(), h.users[bindery.RoleAuthor], h.users[bindery.RoleAuthor], "laptop", 0, authClient)
	otherTok, _, _ := h.auth.CreateAPIToken(context.Background(), h.users[bindery.RoleEditor], h.users[bindery.RoleEditor], "ci", 0, authClient)
	r, body := h.do(req{method: "PATCH", path: "/api/v1/me/password", cookie: a,
		body: `{"current_password":"` + strongPassword + `","new_password":"password"}`})
	if r.StatusCode != 400 || !strings.Contains(body, "12 characters") {
		t.Fatalf("weak new password: %d %s", r.StatusCode, body)
	}
	r, body = h.do(req{method: "PATCH", path: "/api/v1/me/password", cookie: a,
		body: `{"current_password":"` + strongPassword + `","new_password":"a brand new passphrase"}`})
	if r.StatusCode != 200 || strings.TrimSpace(body) != `{"revoked_tokens":2}` {
		t.Fatalf("change: %d %s", r.StatusCode, body)
	}
	fresh := cookieFrom(r)
	if r, _ := h.do(req{method: "GET", path: "/api/v1/me", bearer: otherTok}); r.StatusCode != 200 {
		t.Errorf("another user's token was revoked: %d", r.StatusCode)
	}
	for name, tok := range map[string]string{"first API token": tok1, "second API token": tok2} {
		if r, _ := h.do(req{method: "GET", path: "/api/v1/me", bearer: tok}); r.StatusCode != 401 {
			t.Errorf("%s survived a password change: %d", name, r.StatusCode)
		}
	}
	for name, tok := range map[string]string{"this browser's old": a, "other browser's": b} {
		if r, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: tok}); r.StatusCode != 401 {
			t.Errorf("%s session survived a password change: %d", name, r.StatusCode)
		}
	}
	if fresh == nil {
		t.Fatal("no fresh session cookie after password change")
	}
	if r, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: fresh.Value}); r.StatusCode != 200 {
		t.Fatalf("fresh session: %d", r.StatusCode)
	}
	if r, _ := h.login("author@example.com", "a brand new passphrase", nil); r.StatusCode != 200 {
		t.Fatalf("login with the new password: %d", r.StatusCode)
	}
}

// TestBruteForceBlock: more than MAX failures from one address block it,
// also for the right password; the block is audited, listed and liftable.
func TestBruteForceBlock(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "5", "BINDERY_BLOCK_DURATION": "15m"})
	for i := 1; i <= 5; i++ {
		if r, _ := h.login("author@example.com", "wrong password number", nil); r.StatusCode != 401 {
			t.Fatalf("failure %d: %d, want 401", i, r.StatusCode)
		}
	}
	r, _ := h.login("author@example.com", "wrong password number", nil)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") != "900" {
		t.Fatalf("6th failure: %d Retry-After %q, want 429 900", r.StatusCode, r.Header.Get("Retry-After"))
	}
	r, _ = h.login("author@example.com", strongPassword, nil)
	if r.StatusCode != 429 || cookieFrom(r) != nil {
		t.Fatalf("right password while blocked: %d, want 429 and no session", r.StatusCode)
	}
	// Also through the HTML form and the set-up route.
	if r, _ := h.do(req{method: "POST", path: "/api/v1/setup", body: `{"token":"x","email":"a@example.com","password":"` + strongPassword + `"}`}); r.StatusCode != 429 {
		t.Fatalf("setup while blocked: %d, want 429", r.StatusCode)
	}

	events, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditAddressBlocked})
	if len(events) != 1 || events[0].ClientAddr != "127.0.0.1" {
		t.Fatalf("block not audited with the address: %+v", events)
	}
	// An admin (signed in beforehand) lists and lifts it.
	adminTok := h.session(bindery.RoleAdmin)
	_, body := h.do(req{method: "GET", path: "/api/v1/security/blocks", cookie: adminTok})
	if !strings.Contains(body, `"addr":"127.0.0.1"`) {
		t.Fatalf("blocks: %s", body)
	}
	if r, _ := h.do(req{method: "DELETE", path: "/api/v1/security/blocks/127.0.0.1", cookie: adminTok}); r.StatusCode != 204 {
		t.Fatalf("lift: %d", r.StatusCode)
	}
	if r, _ := h.login("author@example.com", strongPassword, nil); r.StatusCode != 200 {
		t.Fatalf("after lift: %d", r.StatusCode)
	}
	if ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditAddressLifted}); len(ev) != 1 {
		t.Fatalf("lift not audited: %+v", ev)
	}
}

func TestBlockExpires(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "2", "BINDERY_BLOCK_DURATION": "10m"})
	for i := 0; i < 3; i++ {
		h.login("author@example.com", "wrong password number", nil)
	}
	if r, _ := h.login("author@example.com", strongPassword, nil); r.StatusCode != 429 {
		t.Fatalf("blocked: %d", r.StatusCode)
	}
	h.clock.Advance(10*time.Minute + time.Second)
	if r, _ := h.login("author@example.com", strongPassword, nil); r.StatusCode != 200 {
		t.Fatalf("after the block: %d, want 200", r.StatusCode)
	}
}

// TestSpoofedForwardedForIgnored: without trusted proxies, a client that
// invents a new X-Forwarded-For / X-Real-IP every time is still blocked.
func TestSpoofedForwardedForIgnored(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "3"})
	var last int
	for i := 0; i < 4; i++ {
		r, _ := h.login("author@example.com", "wrong password number", map[string]string{
			"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i), "X-Real-IP": fmt.Sprintf("198.51.100.%d", i)})
		last = r.StatusCode
	}
	if last != 429 {
		t.Fatalf("4th failure with spoofed headers: %d, want 429", last)
	}
}

// TestTrustedProxyHeaderUsed: behind a trusted proxy the block hits the
// real client named in X-Forwarded-For, not the proxy (and not others).
func TestTrustedProxyHeaderUsed(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "3", "BINDERY_TRUSTED_PROXIES": "127.0.0.1/32"})
	attacker := map[string]string{"X-Forwarded-For": "203.0.113.7"}
	for i := 0; i < 4; i++ {
		h.login("author@example.com", "wrong password number", attacker)
	}
	if r, _ := h.login("author@example.com", strongPassword, attacker); r.StatusCode != 429 {
		t.Fatalf("attacker: %d, want 429", r.StatusCode)
	}
	// A client forging a prefix is still identified by the proxy's entry.
	forged := map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
	if r, _ := h.login("author@example.com", strongPassword, forged); r.StatusCode != 429 {
		t.Fatalf("attacker with a forged prefix: %d, want 429", r.StatusCode)
	}
	if r, _ := h.login("author@example.com", strongPassword, map[string]string{"X-Forwarded-For": "203.0.113.8"}); r.StatusCode != 200 {
		t.Fatalf("another client behind the proxy: %d, want 200", r.StatusCode)
	}
	ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditAddressBlocked})
	if len(ev) != 1 || ev[0].ClientAddr != "203.0.113.7" {
		t.Fatalf("audited block: %+v", ev)
	}
}

func TestSetupFlow(t *testing.T) {
	h := newHarness(t, nil)
	// Users exist: no token is issued.
	if _, ok, _ := h.auth.NewSetupToken(context.Background()); ok {
		t.Fatal("a set-up token was issued although users exist")
	}
	h2 := emptyHarness(t)
	tok, ok, err := h2.auth.NewSetupToken(context.Background())
	if !ok || err != nil {
		t.Fatalf("NewSetupToken = %v, %v", ok, err)
	}
	body := func(tok string) string {
		return `{"token":"` + tok + `","email":"first@example.com","password":"` + strongPassword + `"}`
	}
	r, got := h2.do(req{method: "POST", path: "/api/v1/setup", body: body(tok)})
	if r.StatusCode != 201 || cookieFrom(r) == nil || !strings.Contains(got, `"role":"admin"`) {
		t.Fatalf("setup: %d %s", r.StatusCode, got)
	}
	if r, _ := h2.do(req{method: "POST", path: "/api/v1/setup", body: body(tok)}); r.StatusCode != 401 {
		t.Fatalf("second use of the set-up token: %d, want 401", r.StatusCode)
	}
	if ev, _ := h2.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditSetupCompleted}); len(ev) != 1 {
		t.Fatal("setup not audited")
	}

	h3 := emptyHarness(t)
	tok, _, _ = h3.auth.NewSetupToken(context.Background())
	h3.clock.Advance(time.Hour)
	if r, _ := h3.do(req{method: "POST", path: "/api/v1/setup", body: body(tok)}); r.StatusCode != 401 {
		t.Fatalf("expired set-up token: %d, want 401", r.StatusCode)
	}
}

// emptyHarness is a harness with no users.
func emptyHarness(t *testing.T) *harness {
	h := newHarness(t, nil)
	if err := h.store.DeleteBook(context.Background(), h.shared.ID); err != nil {
		t.Fatal(err)
	}
	for _, u := range h.users {
		if err := h.store.DeleteUser(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// TestHostHeaderChecked defeats DNS rebinding: a foreign host name is
// refused even on loopback.
func TestHostHeaderChecked(t *testing.T) {
	h := newHarness(t, nil)
	for host, want := range map[string]int{"evil.example": 421, "evil.example:8765": 421, "localhost:1234": 200, "127.0.0.1": 200, "[::1]:8765": 200} {
		if r, _ := h.do(req{method: "GET", path: "/healthz", header: map[string]string{"Host": host}}); r.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, r.StatusCode, want)
		}
	}
	h2 := newHarness(t, map[string]string{"BINDERY_PUBLIC_URL": "https://books.example.org"})
	if r, _ := h2.do(req{method: "GET", path: "/healthz", header: map[string]string{"Host": "books.example.org"}}); r.StatusCode != 200 {
		t.Errorf("public host refused: %d", r.StatusCode)
	}
}

// TestProductionBehindProxy: plain HTTP redirects to the configured public
// URL (never to the Host header), X-Forwarded-Proto is believed only from
// the trusted proxy (no redirect loop), and HSTS and Secure cookies are on.
func TestProductionBehindProxy(t *testing.T) {
	h := newHarness(t, map[string]string{
		"BINDERY_ENV": "production", "ENCRYPTION_KEY": testkit.EncryptionKey(), "BINDERY_TRUSTED_PROXIES": "127.0.0.1", "BINDERY_PUBLIC_URL": "https://books.example.org",
	})
	r, _ := h.do(req{method: "GET", path: "/login?x=1", header: map[string]string{"Host": "127.0.0.1"}})
	if r.StatusCode != 308 || r.Header.Get("Location") != "https://books.example.org/login?x=1" {
		t.Fatalf("plain HTTP: %d Location %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS in production")
	}
	https := map[string]string{"X-Forwarded-Proto": "https", "Host": "books.example.org"}
	if r, _ := h.do(req{method: "GET", path: "/login", header: https}); r.StatusCode != 200 {
		t.Fatalf("via the proxy over HTTPS: %d, want 200 (no loop)", r.StatusCode)
	}
	r, _ = h.do(req{method: "POST", path: "/api/v1/auth/login", header: https,
		body: `{"email":"author@example.com","password":"` + strongPassword + `"}`})
	if c := cookieFrom(r); c == nil || !c.Secure {
		t.Fatalf("production cookie not Secure: %+v", c)
	}

	// From an untrusted peer, X-Forwarded-Proto is ignored.
	h2 := newHarness(t, map[string]string{
		"BINDERY_ENV": "production", "ENCRYPTION_KEY": testkit.EncryptionKey(), "BINDERY_TRUSTED_PROXIES": "10.0.0.0/8", "BINDERY_PUBLIC_URL": "https://books.example.org",
	})
	if r, _ := h2.do(req{method: "GET", path: "/login", header: https}); r.StatusCode != 308 {
		t.Fatalf("forged X-Forwarded-Proto: %d, want 308", r.StatusCode)
	}
}

func TestServesTLSConfigAccepted(t *testing.T) {
	cert, key := testkit.SelfSigned(t)
	h := newHarness(t, map[string]string{"BINDERY_ENV": "production", "ENCRYPTION_KEY": testkit.EncryptionKey(), "BINDERY_TLS_CERT": cert, "BINDERY_TLS_KEY": key, "BINDERY_PUBLIC_URL": ""})
	if !h.cfg.TLS() || h.cfg.PublicURL.Scheme != "https" {
		t.Fatalf("TLS config: %+v", h.cfg.PublicURL)
	}
}

func TestRequestBodyLimits(t *testing.T) {
	h := newHarness(t, nil)
	big := `{"email":"a@example.com","password":"` + strings.Repeat("x", 70<<10) + `"}`
	if r, _ := h.do(req{method: "POST", path: "/api/v1/auth/login", body: big}); r.StatusCode != 413 {
		t.Fatalf("oversized JSON: %d, want 413", r.StatusCode)
	}
	r, body := h.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email": 1}`})
	if r.StatusCode != 400 {
		t.Fatalf("wrong type: %d %s", r.StatusCode, body)
	}
	r, body = h.do(req{method: "POST", path: "/api/v1/auth/login", body: `{"email":"a@example.com","password":"hunter2hunter2","extra":true}`})
	if r.StatusCode != 400 || strings.Contains(body, "hunter2") {
		t.Fatalf("unknown field: %d %s", r.StatusCode, body)
	}
}

// TestNoBlocksIsAnEmptyList: clients get [] rather than null.
func TestNoBlocksIsAnEmptyList(t *testing.T) {
	h := newHarness(t, nil)
	_, body := h.do(req{method: "GET", path: "/api/v1/security/blocks", cookie: h.session(bindery.RoleAdmin)})
	if strings.TrimSpace(body) != `{"blocks":[]}` {
		t.Fatalf("blocks = %s", body)
	}
}

// TestInvisibleCharactersRefusedInNames: names people read — file names,
// display names, token names, book titles — cannot carry characters
// that make them display as something else, and the message names the
// character by code point.
func TestInvisibleCharactersRefusedInNames(t *testing.T) {
	h := newHarness(t, nil)
	author := h.session(bindery.RoleAuthor)
	for _, tc := range []struct{ method, path, body, contentType string }{
		{"PUT", fmt.Sprintf("/api/v1/books/%d/files/chapters/report%%E2%%80%%AEdm.txt.md", h.shared.ID), "# x\n", "text/markdown"},
		{"POST", fmt.Sprintf("/api/v1/books/%d/files", h.shared.ID), multipartBody("a\u200bb.md", "# x\n"), multipartType},
		{"PATCH", "/api/v1/me", `{"name":"Ada\u202e ecalovoL"}`, ""},
		{"PATCH", "/api/v1/me", `{"name":"Ada\u200dLovelace"}`, ""},
		{"POST", "/api/v1/me/tokens", `{"name":"ci\u2066 script"}`, ""},
		{"POST", "/api/v1/books", `{"title":"Tides\u202e sediT"}`, ""},
		{"PATCH", fmt.Sprintf("/api/v1/books/%d", h.shared.ID), `{"title":"\ufeffTides"}`, ""},
	} {
		r, body := h.do(req{method: tc.method, path: tc.path, body: tc.body, contentType: tc.contentType, cookie: author})
		if r.StatusCode != 400 || !strings.Contains(body, "U+") {
			t.Errorf("%s %s %q: %d %s", tc.method, tc.path, tc.body, r.StatusCode, body)
		}
	}
	// Prose keeps what spells words: a Persian title with a zero-width
	// non-joiner, a mixed title with a right-to-left mark.
	for _, title := range []string{"می\u200cخواهم", "Notes \u200fעברית\u200f 2"} {
		if r, body := h.do(req{method: "POST", path: "/api/v1/books", body: `{"title":"` + title + `"}`, cookie: author}); r.StatusCode != 201 {
			t.Errorf("title %q: %d %s", title, r.StatusCode, body)
		}
	}
}
