package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/totp"
)

// enrol turns on the second factor for role's user through the API and
// returns the secret, the recovery codes and the new session cookie.
func (h *harness) enrol(role bindery.Role) (secret string, codes []string, cookie string) {
	h.t.Helper()
	cookie = h.session(role)
	resp, body := h.do(req{method: "POST", path: "/api/v1/me/two-factor", cookie: cookie, body: `{"password":"` + strongPassword + `"}`})
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("begin enrolment: %d %s", resp.StatusCode, body)
	}
	var e struct{ Secret, URI string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Secret == "" || !strings.HasPrefix(e.URI, "otpauth://totp/") {
		h.t.Fatalf("enrolment answer %s: %v", body, err)
	}
	code, _ := totp.Code(e.Secret, h.clock.Now())
	resp, body = h.do(req{method: "POST", path: "/api/v1/me/two-factor/confirm", cookie: cookie, body: `{"code":"` + code + `"}`})
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("confirm: %d %s", resp.StatusCode, body)
	}
	var c struct {
		Codes   []string `json:"recovery_codes"`
		Revoked *int     `json:"revoked_tokens"`
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil || c.Revoked == nil {
		h.t.Fatalf("confirm answer %s: %v", body, err)
	}
	nc := cookieFrom(resp)
	if nc == nil {
		h.t.Fatal("confirming gave no new session cookie")
	}
	return e.Secret, c.Codes, nc.Value
}

// loginJSON posts a login body and returns status, error code and challenge.
func (h *harness) loginJSON(body map[string]string) (int, string, string, *http.Response) {
	h.t.Helper()
	b, _ := json.Marshal(body)
	resp, out := h.do(req{method: "POST", path: "/api/v1/auth/login", body: string(b)})
	var v struct {
		Error     struct{ Code string }
		Challenge string
	}
	_ = json.Unmarshal([]byte(out), &v)
	return resp.StatusCode, v.Error.Code, v.Challenge, resp
}

func TestTwoFactorEnrolmentSignInAndReplay(t *testing.T) {
	h := newHarness(t, nil)
	earlier := h.session(bindery.RoleAuthor)

	// Wrong password: no enrolment starts.
	resp, _ := h.do(req{method: "POST", path: "/api/v1/me/two-factor", cookie: earlier, body: `{"password":"not the password at all"}`})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("begin with a wrong password: %d, want 422", resp.StatusCode)
	}
	// The QR code of a pending enrolment is a PNG, never cached.
	cookie := h.session(bindery.RoleAuthor)
	resp, body := h.do(req{method: "POST", path: "/api/v1/me/two-factor", cookie: cookie, body: `{"password":"` + strongPassword + `"}`})
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("begin: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	var e struct{ Secret string }
	_ = json.Unmarshal([]byte(body), &e)
	resp, body = h.do(req{method: "GET", path: "/api/v1/me/two-factor/qr.png", cookie: cookie})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(body, "\x89PNG") || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("qr: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	// A wrong code does not turn it on; the right one does.
	resp, _ = h.do(req{method: "POST", path: "/api/v1/me/two-factor/confirm", cookie: cookie, body: `{"code":"000000"}`})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("confirm with a wrong code: %d", resp.StatusCode)
	}
	code, _ := totp.Code(e.Secret, h.clock.Now())
	resp, body = h.do(req{method: "POST", path: "/api/v1/me/two-factor/confirm", cookie: cookie, body: `{"code":"` + code + `"}`})
	var rc struct {
		Codes []string `json:"recovery_codes"`
	}
	_ = json.Unmarshal([]byte(body), &rc)
	if resp.StatusCode != http.StatusOK || len(rc.Codes) != totp.RecoveryCodeCount {
		t.Fatalf("confirm: %d %s", resp.StatusCode, body)
	}
	fresh := cookieFrom(resp)
	// Sessions opened with the password alone are gone, the one the
	// enrolment handed out works, and the secret is never shown again.
	for _, old := range []string{earlier, cookie} {
		if resp, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: old}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a session from before enrolment still works: %d", resp.StatusCode)
		}
	}
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: fresh.Value}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new session does not work: %d", resp.StatusCode)
	}
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/me/two-factor/qr.png", cookie: fresh.Value}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("qr after enrolment: %d, want 404", resp.StatusCode)
	}

	// The password alone now only earns a challenge.
	st, ec, ch, resp := h.loginJSON(map[string]string{"email": "author@example.com", "password": strongPassword})
	if st != http.StatusUnauthorized || ec != bindery.ESECONDFACTOR || ch == "" || cookieFrom(resp) != nil {
		t.Fatalf("password only: %d %q challenge=%v cookie=%v", st, ec, ch != "", cookieFrom(resp))
	}
	// The code used to enrol is spent: replaying it fails.
	if st, _, _, _ := h.loginJSON(map[string]string{"challenge": ch, "code": code}); st != http.StatusUnauthorized {
		t.Fatalf("replayed enrolment code: %d, want 401", st)
	}
	h.clock.Advance(30 * time.Second)
	next, _ := totp.Code(e.Secret, h.clock.Now())
	if st, _, _, resp := h.loginJSON(map[string]string{"challenge": ch, "code": next}); st != http.StatusOK || cookieFrom(resp) == nil {
		t.Fatalf("challenge + fresh code: %d", st)
	}
	// The same code again (within its 90 s validity): refused.
	if st, _, _, _ := h.loginJSON(map[string]string{"email": "author@example.com", "password": strongPassword, "code": next}); st != http.StatusUnauthorized {
		t.Fatalf("replayed code: %d, want 401", st)
	}
	// A recovery code works once.
	rec := rc.Codes[3]
	if st, _, _, _ := h.loginJSON(map[string]string{"email": "author@example.com", "password": strongPassword, "code": strings.ToUpper(rec)}); st != http.StatusOK {
		t.Fatalf("recovery code: %d", st)
	}
	if st, _, _, _ := h.loginJSON(map[string]string{"email": "author@example.com", "password": strongPassword, "code": rec}); st != http.StatusUnauthorized {
		t.Fatalf("recovery code reused: %d, want 401", st)
	}
	// Without the password a challenge is not renewed: no new challenge
	// comes back for an empty code.
	_, _, ch, _ = h.loginJSON(map[string]string{"email": "author@example.com", "password": strongPassword})
	if st, ec, again, _ := h.loginJSON(map[string]string{"challenge": ch}); st != http.StatusUnauthorized || ec != bindery.ESECONDFACTOR || again != "" {
		t.Fatalf("challenge without a code: %d %q renewed=%v", st, ec, again != "")
	}
	// A challenge expires, and a forged one is refused.
	_, _, ch, _ = h.loginJSON(map[string]string{"email": "author@example.com", "password": strongPassword})
	h.clock.Advance(6 * time.Minute)
	late, _ := totp.Code(e.Secret, h.clock.Now())
	if st, _, _, _ := h.loginJSON(map[string]string{"challenge": ch, "code": late}); st != http.StatusUnauthorized {
		t.Fatalf("expired challenge: %d, want 401", st)
	}
	if st, _, _, _ := h.loginJSON(map[string]string{"challenge": "gAAAAAforged", "code": late}); st != http.StatusUnauthorized {
		t.Fatalf("forged challenge: %d, want 401", st)
	}
}

// TestTwoFactorCodeGuessingIsRateLimited: wrong codes count as sign-in
// failures, so the guard blocks the address exactly as for passwords, and
// a right password in between does not reset the count.
func TestTwoFactorCodeGuessingIsRateLimited(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "3"})
	secret, _, _ := h.enrol(bindery.RoleEditor)
	blocked := false
	for i := 0; i < 6 && !blocked; i++ {
		st, _, ch, _ := h.loginJSON(map[string]string{"email": "editor@example.com", "password": strongPassword})
		if st == http.StatusTooManyRequests {
			blocked = true
			break
		}
		guess := []string{"111111", "222222", "333333", "444444", "555555", "666666"}[i]
		st, _, _, _ = h.loginJSON(map[string]string{"challenge": ch, "code": guess})
		blocked = st == http.StatusTooManyRequests
	}
	if !blocked {
		t.Fatal("guessing codes never got the address blocked")
	}
	good, _ := totp.Code(secret, h.clock.Now().Add(30*time.Second))
	if st, _, _, _ := h.loginJSON(map[string]string{"email": "editor@example.com", "password": strongPassword, "code": good}); st != http.StatusTooManyRequests {
		t.Fatalf("right password and code while blocked: %d, want 429", st)
	}
}

func TestTwoFactorRequiredForAdmins(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_REQUIRE_TWO_FACTOR": "admins"})
	admin := h.session(bindery.RoleAdmin)
	resp, body := h.do(req{method: "GET", path: "/api/v1/users", cookie: admin})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, bindery.ETWOFACTORSETUP) {
		t.Fatalf("admin without 2FA on an admin route: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/api/v1/me", "/api/v1/me/two-factor"} {
		if resp, _ := h.do(req{method: "GET", path: path, cookie: admin}); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s before enrolment: %d, want 200", path, resp.StatusCode)
		}
	}
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/me/export", cookie: admin}); resp.StatusCode != http.StatusOK {
		t.Errorf("the export waits for an enrolment: %d", resp.StatusCode)
	}
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/books", cookie: h.session(bindery.RoleAuthor)}); resp.StatusCode != http.StatusOK {
		t.Errorf("an author is not bound by the admins policy: %d", resp.StatusCode)
	}
	secret, _, cookie := h.enrol(bindery.RoleAdmin)
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/users", cookie: cookie}); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin with 2FA: %d", resp.StatusCode)
	}
	h.clock.Advance(30 * time.Second)
	code, _ := totp.Code(secret, h.clock.Now())
	resp, _ = h.do(req{method: "DELETE", path: "/api/v1/me/two-factor", cookie: cookie, body: `{"password":"` + strongPassword + `","code":"` + code + `"}`})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("an admin turning off a required factor: %d, want 409", resp.StatusCode)
	}
}

func TestTwoFactorDisableAndAdminReset(t *testing.T) {
	h := newHarness(t, nil)
	secret, _, cookie := h.enrol(bindery.RoleEditor)
	// Turning it off needs the password and a code.
	resp, _ := h.do(req{method: "DELETE", path: "/api/v1/me/two-factor", cookie: cookie, body: `{"password":"` + strongPassword + `"}`})
	if resp.StatusCode == http.StatusNoContent {
		t.Fatal("turned off without a code")
	}
	h.clock.Advance(30 * time.Second)
	code, _ := totp.Code(secret, h.clock.Now())
	resp, body := h.do(req{method: "DELETE", path: "/api/v1/me/two-factor", cookie: cookie, body: `{"password":"` + strongPassword + `","code":"` + code + `"}`})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}
	if st, _, _, _ := h.loginJSON(map[string]string{"email": "editor@example.com", "password": strongPassword}); st != http.StatusOK {
		t.Fatalf("password sign-in after disabling: %d", st)
	}
	// An admin resets a user who lost their phone; the user's sessions end.
	_, _, userCookie := h.enrol(bindery.RoleViewer)
	id := h.users[bindery.RoleViewer].ID
	if resp, _ := h.do(req{method: "DELETE", path: "/api/v1/users/" + strconv.FormatInt(id, 10) + "/two-factor", cookie: h.session(bindery.RoleAuthor)}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("non-admin reset: %d, want 403", resp.StatusCode)
	}
	if resp, _ := h.do(req{method: "DELETE", path: "/api/v1/users/" + strconv.FormatInt(id, 10) + "/two-factor", cookie: h.session(bindery.RoleAdmin)}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin reset: %d", resp.StatusCode)
	}
	self := "/api/v1/users/" + strconv.FormatInt(h.users[bindery.RoleAdmin].ID, 10) + "/two-factor"
	if resp, _ := h.do(req{method: "DELETE", path: self, cookie: h.session(bindery.RoleAdmin)}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("an admin resetting their own factor: %d, want 409", resp.StatusCode)
	}
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: userCookie}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session after reset: %d, want 401", resp.StatusCode)
	}
	if st, _, _, _ := h.loginJSON(map[string]string{"email": "viewer@example.com", "password": strongPassword}); st != http.StatusOK {
		t.Fatalf("password sign-in after reset: %d", st)
	}
}

// TestTwoFactorSignInPage: the server-rendered form asks for the code
// after the password and keeps only the sealed challenge in the page.
func TestTwoFactorSignInPage(t *testing.T) {
	h := newHarness(t, nil)
	secret, _, _ := h.enrol(bindery.RoleAuthor)
	form := url.Values{"email": {"author@example.com"}, "password": {strongPassword}}
	resp, body := h.do(req{method: "POST", path: "/login", body: form.Encode(), contentType: "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="challenge"`) || !strings.Contains(body, `autocomplete="one-time-code"`) || cookieFrom(resp) != nil {
		t.Fatalf("password step: %d cookie=%v\n%s", resp.StatusCode, cookieFrom(resp), body)
	}
	if strings.Contains(body, strongPassword) {
		t.Fatal("the code page carries the password")
	}
	i := strings.Index(body, `name="challenge" value="`) + len(`name="challenge" value="`)
	ch := body[i : i+strings.IndexByte(body[i:], '"')]
	resp, body = h.do(req{method: "POST", path: "/login", body: url.Values{"challenge": {ch}, "code": {"123456"}}.Encode(), contentType: "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `name="challenge"`) {
		t.Fatalf("wrong code should ask again: %d", resp.StatusCode)
	}
	h.clock.Advance(30 * time.Second)
	code, _ := totp.Code(secret, h.clock.Now())
	resp, _ = h.do(req{method: "POST", path: "/login", body: url.Values{"challenge": {ch}, "code": {code}}.Encode(), contentType: "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusSeeOther || cookieFrom(resp) == nil {
		t.Fatalf("code step: %d", resp.StatusCode)
	}
}

// TestTwoFactorOnRevokesTokens: turning the second factor on revokes the
// API tokens made before (by whoever had the password alone), and says
// how many.
func TestTwoFactorOnRevokesTokens(t *testing.T) {
	h := newHarness(t, nil)
	u := h.users[bindery.RoleEditor]
	tok, _, err := h.auth.CreateAPIToken(context.Background(), u, u, "ci", 0, authClient)
	if err != nil {
		t.Fatal(err)
	}
	h.enrol(bindery.RoleEditor)
	if r, _ := h.do(req{method: "GET", path: "/api/v1/me", bearer: tok}); r.StatusCode != 401 {
		t.Fatalf("an API token survived turning on two-factor sign-in: %d", r.StatusCode)
	}
	ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditTwoFactorEnabled})
	if len(ev) != 1 || !strings.Contains(ev[0].Detail, "1 API tokens revoked") {
		t.Fatalf("audit: %+v", ev)
	}
}

// TestChallengeIsSingleUse: a challenge that completed a sign-in never
// completes another — not with a fresh authenticator code, not with a
// recovery code — and of concurrent uses with valid codes exactly one
// wins.
func TestChallengeIsSingleUse(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "50"})
	secret, codes, _ := h.enrol(bindery.RoleAuthor)
	password := map[string]string{"email": "author@example.com", "password": strongPassword}

	_, _, ch, _ := h.loginJSON(password)
	h.clock.Advance(30 * time.Second)
	code, _ := totp.Code(secret, h.clock.Now())
	if st, _, _, _ := h.loginJSON(map[string]string{"challenge": ch, "code": code}); st != http.StatusOK {
		t.Fatalf("first use: %d", st)
	}
	h.clock.Advance(30 * time.Second)
	code, _ = totp.Code(secret, h.clock.Now())
	if st, _, _, resp := h.loginJSON(map[string]string{"challenge": ch, "code": code}); st != http.StatusUnauthorized || cookieFrom(resp) != nil {
		t.Fatalf("challenge reused with a fresh code: %d", st)
	}
	if st, _, _, resp := h.loginJSON(map[string]string{"challenge": ch, "code": codes[0]}); st != http.StatusUnauthorized || cookieFrom(resp) != nil {
		t.Fatalf("challenge reused with a recovery code: %d", st)
	}

	// A challenge first used with a recovery code is spent too.
	_, _, ch, _ = h.loginJSON(password)
	if st, _, _, _ := h.loginJSON(map[string]string{"challenge": ch, "code": codes[1]}); st != http.StatusOK {
		t.Fatalf("recovery code: %d", st)
	}
	if st, _, _, _ := h.loginJSON(map[string]string{"challenge": ch, "code": codes[2]}); st != http.StatusUnauthorized {
		t.Fatalf("challenge reused after a recovery code: %d", st)
	}

	// Racing: one challenge, different valid recovery codes at once.
	_, _, ch, _ = h.loginJSON(password)
	results := make(chan int, 4)
	for _, rc := range codes[3:7] {
		go func() {
			st, _, _, _ := h.loginJSON(map[string]string{"challenge": ch, "code": rc})
			results <- st
		}()
	}
	ok := 0
	for range 4 {
		if <-results == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("racing uses of one challenge: %d succeeded, want 1", ok)
	}
}
