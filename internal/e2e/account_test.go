package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/bindery/bindery/internal/totp"
)

const (
	authorMail = "author@example.org"
	authorPass = "an author's own long password"
)

// TestAccountTwoFactorAndPrivacy walks the Account and Admin screens'
// two-factor sign-in and privacy features in one server and one browser;
// each step needs the ones before it.
func TestAccountTwoFactorAndPrivacy(t *testing.T) {
	chromiumPath(t)
	srv := startServer(t, nil)
	br := newBrowser(t)
	admin := br.Tab(1280, 900)
	downloads := t.TempDir()
	var recovery []string

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"turn on two-factor sign-in and get ten recovery codes", func(t *testing.T) {
			admin.t = t
			setupAdmin(admin, srv)
			allowDownloads(admin, downloads)
			admin.do(chromedp.Navigate(srv.URL + "/#/account"))
			admin.waitJS("the two-factor card", `!!document.getElementById('tf-begin')`, 10*time.Second)
			if got := eval[string](admin, `document.getElementById('two-factor').textContent`); !strings.Contains(got, "Off") {
				t.Errorf("two-factor card before enrolment: %q", got)
			}
			admin.do(chromedp.SendKeys(chromedp.ID("tf-password"), adminPass), submit("tf-begin"))
			admin.waitJS("the QR code", `(() => { const i = document.getElementById('tf-qr'); return i && i.complete && i.naturalWidth > 100; })()`, 10*time.Second)
			secret := strings.ReplaceAll(eval[string](admin, `document.getElementById('tf-secret').textContent`), " ", "")
			if len(secret) < 16 {
				t.Fatalf("secret shown: %q", secret)
			}
			if uri := eval[string](admin, `document.querySelector('#two-factor a[href^="otpauth:"]').getAttribute('href')`); !strings.Contains(uri, "secret="+secret) {
				t.Errorf("the otpauth link %q lacks the secret", uri)
			}
			admin.screenshot("20-account-enrol")
			eval[bool](admin, `window.__noReload = true`)
			code, err := totp.Code(secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			admin.do(chromedp.SendKeys(chromedp.ID("tf-code"), code), submit("tf-confirm"))
			admin.waitJS("ten recovery codes", `document.querySelectorAll('#recovery-codes li').length === 10`, 10*time.Second)
			recovery = eval[[]string](admin, `[...document.querySelectorAll('#recovery-codes code')].map((c) => c.textContent)`)
			if w := eval[string](admin, `document.querySelector('#two-factor .notice.warn').textContent`); !strings.Contains(w, "only this once") {
				t.Errorf("no warning that the codes are shown once: %q", w)
			}
			// The socket was revoked with every earlier session; the page
			// must have stayed, on the new session.
			time.Sleep(time.Second) // give a wrong redirect to /login its chance; the test fails if it happens
			if !eval[bool](admin, `window.__noReload === true && location.pathname === '/'`) {
				t.Fatal("turning on two-factor sign-in left the page")
			}
			admin.do(chromedp.Click(chromedp.ID("tf-codes-download")))
			file := waitFile(t, filepath.Join(downloads, "bindery-recovery-codes.txt"), 10*time.Second)
			for _, c := range recovery {
				if !strings.Contains(file, c) {
					t.Errorf("the downloaded codes lack %s:\n%s", c, file)
				}
			}
			admin.screenshot("21-account-recovery-codes")
			admin.do(chromedp.Click(chromedp.ID("tf-codes-done")))
			admin.waitJS("the card, on", `document.getElementById('tf-codes-left')?.textContent.includes('10')`, 10*time.Second)
			admin.waitJS("the sessions, reloaded", `document.querySelectorAll('#sessions tbody tr').length === 1`, 10*time.Second)
			admin.clean()
		}},
		{"sign in with the password, then a recovery code", func(t *testing.T) {
			admin.t = t
			admin.do(chromedp.Click(chromedp.ID("sign-out")))
			admin.waitJS("the sign-in page", `location.pathname === '/login' && !!document.getElementById('email')`, 10*time.Second)
			admin.do(chromedp.SendKeys(chromedp.ID("email"), adminEmail), chromedp.SendKeys(chromedp.ID("password"), adminPass),
				chromedp.Submit(chromedp.ID("password")))
			admin.waitJS("the code step", `!!document.getElementById('code') && !document.getElementById('password')`, 10*time.Second)
			if n := eval[int](admin, `document.querySelectorAll('input[name="challenge"][type="hidden"]').length`); n != 1 {
				t.Errorf("%d challenge fields", n)
			}
			admin.screenshot("22-login-code")
			admin.do(chromedp.SendKeys(chromedp.ID("code"), recovery[0]), chromedp.Submit(chromedp.ID("code")))
			admin.waitJS("the dashboard", `document.body.dataset.ready === 'true'`, 15*time.Second)
			admin.do(chromedp.Navigate(srv.URL + "/#/account"))
			admin.waitJS("nine codes left", `document.getElementById('tf-codes-left')?.textContent.includes('9')`, 10*time.Second)
			if eval[bool](admin, `!!document.getElementById('tf-required')`) || !eval[bool](admin, `!!document.getElementById('tf-off')`) {
				t.Error("without a policy, the factor should be possible to turn off")
			}
			// The display name.
			admin.do(chromedp.SendKeys(chromedp.ID("name"), "Ada Admin"), submit("profile-form"))
			admin.waitJS("the name in the header", `document.querySelector('#who .who-name').textContent === 'Ada Admin'`, 10*time.Second)
			admin.screenshot("23-account")
			admin.clean()
		}},
		{"make new recovery codes, then turn two-factor sign-in off", func(t *testing.T) {
			admin.t = t
			admin.do(chromedp.Click(chromedp.CSS("#tf-renew-more summary")), chromedp.SendKeys(chromedp.ID("tf-renew-password"), adminPass),
				chromedp.SendKeys(chromedp.ID("tf-renew-code"), recovery[1]), submit("tf-renew"))
			admin.waitJS("ten new codes", `document.querySelectorAll('#recovery-codes li').length === 10`, 10*time.Second)
			renewed := eval[[]string](admin, `[...document.querySelectorAll('#recovery-codes code')].map((c) => c.textContent)`)
			if renewed[0] == recovery[0] {
				t.Error("the codes were not renewed")
			}
			admin.do(chromedp.Click(chromedp.ID("tf-codes-done")))
			admin.waitJS("ten codes left", `document.getElementById('tf-codes-left')?.textContent.includes('10')`, 10*time.Second)
			if eval[bool](admin, `document.getElementById('del-code').closest('.field').hidden`) {
				t.Error("deleting the account asks no code while two-factor sign-in is on")
			}
			admin.do(chromedp.Click(chromedp.CSS("#tf-off-more summary")), chromedp.SendKeys(chromedp.ID("tf-off-password"), adminPass),
				chromedp.SendKeys(chromedp.ID("tf-off-code"), renewed[0]), submit("tf-off"))
			admin.waitJS("the card, off", `!!document.getElementById('tf-begin')`, 10*time.Second)
			if !eval[bool](admin, `document.getElementById('del-code').closest('.field').hidden`) {
				t.Error("deleting the account still asks for a code")
			}
			admin.clean()
		}},
		{"the export link answers a zip", func(t *testing.T) {
			admin.t = t
			got := eval[map[string]any](admin, `(async () => {
				const a = document.getElementById('export-link');
				const r = await fetch(a.getAttribute('href'), {credentials: 'same-origin'});
				const b = new Uint8Array(await r.arrayBuffer());
				return {status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'),
					download: a.hasAttribute('download'), magic: String.fromCharCode(b[0], b[1])};
			})()`)
			if got["status"] != float64(200) || got["type"] != "application/zip" || got["magic"] != "PK" || got["download"] != true {
				t.Errorf("export: %v", got)
			}
			if d, _ := got["disposition"].(string); !strings.HasPrefix(d, "attachment") {
				t.Errorf("Content-Disposition %q", d)
			}
		}},
		{"admin: delete a user and give their book away, reset a second factor, store an Ideogram key", func(t *testing.T) {
			admin.t = t
			adminID := eval[int](admin, `fetch('/api/v1/me').then((r) => r.json()).then((u) => u.id)`)
			createUser(admin, "owner@example.org", "author", authorPass)
			createUser(admin, "phone@example.org", "editor", authorPass)
			owner := apiSignIn(t, srv.URL, "owner@example.org", authorPass)
			book := owner.call("POST", "/api/v1/books", map[string]any{"title": "Inherited Book", "authors": []string{"O. Wner"}, "language": "en"}, http.StatusCreated)
			phone := apiSignIn(t, srv.URL, "phone@example.org", authorPass)
			secret := phone.call("POST", "/api/v1/me/two-factor", map[string]string{"password": authorPass}, http.StatusCreated)["secret"].(string)
			code, _ := totp.Code(secret, time.Now())
			phone.call("POST", "/api/v1/me/two-factor/confirm", map[string]string{"code": code}, http.StatusOK)

			admin.do(chromedp.Navigate(srv.URL + "/#/admin"))
			admin.waitJS("three users", `document.querySelectorAll('#users tbody tr').length === 3`, 10*time.Second)
			admin.do(chromedp.Click(chromedp.CSS(`button[aria-label="Delete owner@example.org"]`)))
			admin.waitJS("the delete panel", `!document.getElementById('user-action').hidden && !!document.getElementById('du-heir')`, 10*time.Second)
			if got := eval[string](admin, `document.getElementById('user-action').textContent`); !strings.Contains(got, "Inherited Book") {
				t.Errorf("the delete panel does not name the book: %q", got)
			}
			if !eval[bool](admin, `document.getElementById('du-transfer').checked`) {
				t.Error("giving the books away is not the default")
			}
			admin.do(chromedp.SetValue(chromedp.ID("du-heir"), fmt.Sprint(adminID)))
			admin.screenshot("24-admin-delete-user")
			admin.do(chromedp.Click(chromedp.ID("delete-user-yes")))
			admin.waitJS("two users", `document.querySelectorAll('#users tbody tr').length === 2 && document.getElementById('user-action').hidden`, 10*time.Second)
			if got := eval[int](admin, fmt.Sprintf(`fetch('/api/v1/books/%v').then((r) => r.json()).then((b) => b.owner_id)`, book["id"])); got != adminID {
				t.Errorf("the book's owner is now %d, want the admin (%d)", got, adminID)
			}

			admin.do(chromedp.Click(chromedp.CSS(`button[aria-label="Reset two-factor sign-in of phone@example.org"]`)))
			admin.waitJS("the reset panel", `!!document.getElementById('reset-yes')`, 10*time.Second)
			admin.do(chromedp.Click(chromedp.ID("reset-yes")))
			admin.waitJS("the factor off", `[...document.querySelectorAll('#users tbody tr')].find((tr) => tr.textContent.includes('phone@'))?.querySelector('td.tf').textContent === 'off'`, 10*time.Second)
			if st := phone.status("GET", "/api/v1/me"); st != http.StatusUnauthorized {
				t.Errorf("the reset user's session answers %d, want 401", st)
			}

			const key = "ideo-Secret-Value-42"
			admin.do(chromedp.SendKeys(chromedp.ID("ideogram-key"), key), submit("ideogram-form"))
			admin.waitJS("the stored key", `document.getElementById('integrations').textContent.includes('stored')`, 10*time.Second)
			if eval[bool](admin, fmt.Sprintf(`document.documentElement.outerHTML.includes(%s) || document.getElementById('ideogram-key').value !== ''`, js(key))) {
				t.Error("the Ideogram key is still in the page")
			}
			admin.screenshot("25-admin")
			admin.do(chromedp.EmulateViewport(360, 780))
			if w := eval[int](admin, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("the admin page is %d px wide at 360 px", w)
			}
			admin.screenshot("25-admin-mobile")
			admin.do(chromedp.EmulateViewport(1280, 900))
			admin.do(chromedp.Click(chromedp.ID("ideogram-clear")))
			admin.waitJS("no key", `document.getElementById('integrations').textContent.includes('not configured')`, 10*time.Second)
			admin.clean()
		}},
		{"an author on a phone turns on two-factor sign-in, then deletes the account and the books", func(t *testing.T) {
			admin.t = t
			createUser(admin, authorMail, "author", authorPass)
			author := br.Tab(360, 780)
			author.t = t
			signIn(author, srv.URL, authorMail, authorPass)
			eval[int](author, `fetch('/api/v1/books', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({title: 'Gone Book', authors: ['A. Uthor'], language: 'en'})}).then((r) => r.status)`)
			author.do(chromedp.Navigate(srv.URL + "/#/account"))
			author.waitJS("the two-factor card", `!!document.getElementById('tf-begin')`, 10*time.Second)
			author.do(chromedp.SendKeys(chromedp.ID("tf-password"), authorPass), submit("tf-begin"))
			author.waitJS("the key", `!!document.getElementById('tf-secret')`, 10*time.Second)
			author.screenshot("26-account-enrol-mobile")
			if w := eval[int](author, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("the page is %d px wide at 360 px", w)
			}
			code, _ := totp.Code(strings.ReplaceAll(eval[string](author, `document.getElementById('tf-secret').textContent`), " ", ""), time.Now())
			author.do(chromedp.SendKeys(chromedp.ID("tf-code"), code), submit("tf-confirm"))
			author.waitJS("ten recovery codes", `document.querySelectorAll('#recovery-codes li').length === 10`, 10*time.Second)
			codes := eval[[]string](author, `[...document.querySelectorAll('#recovery-codes code')].map((c) => c.textContent)`)
			author.screenshot("27-account-codes-mobile")
			author.do(chromedp.Click(chromedp.ID("tf-codes-done")))
			author.waitJS("the code field of the deletion", `!document.getElementById('del-code').closest('.field').hidden`, 10*time.Second)
			author.waitJS("the book choice", `!document.getElementById('del-books').hidden && document.querySelector('#del-books legend').textContent === 'Your book'`, 10*time.Second)

			// A wrong password is refused and keeps the user signed in.
			author.do(chromedp.SendKeys(chromedp.ID("del-password"), "not the password at all"), chromedp.SendKeys(chromedp.ID("del-code"), codes[1]))
			author.clickUntil("#del-books-delete", `document.getElementById('del-books-delete').checked`)
			author.clickUntil(`#delete-account button[type="submit"]`, `!document.getElementById('delete-confirm').hidden`)
			author.do(chromedp.Click(chromedp.ID("delete-yes")))
			author.waitJS("the refusal", `document.querySelector('#your-data .notice.error')?.textContent.includes('password')`, 10*time.Second)
			if eval[string](author, `location.pathname`) != "/" {
				t.Fatal("a wrong password left the dashboard")
			}

			author.do(chromedp.SetValue(chromedp.ID("del-password"), authorPass), submit("delete-account"))
			author.waitJS("the confirmation", `!document.getElementById('delete-confirm').hidden`, 10*time.Second)
			if got := eval[string](author, `document.getElementById('delete-confirm').textContent`); !strings.Contains(got, "book is deleted") {
				t.Errorf("the confirmation does not say the book goes too: %q", got)
			}
			author.screenshot("28-account-delete-mobile")
			author.do(chromedp.Click(chromedp.ID("delete-yes")))
			author.waitJS("the sign-in page", `location.pathname === '/login' && !!document.getElementById('email')`, 10*time.Second)
			author.do(chromedp.SendKeys(chromedp.ID("email"), authorMail), chromedp.SendKeys(chromedp.ID("password"), authorPass),
				chromedp.Submit(chromedp.ID("password")))
			author.waitJS("the refusal", `location.pathname === '/login' && !!document.querySelector('.error[role="alert"]')`, 10*time.Second)
			if eval[bool](author, `!!document.getElementById('code')`) {
				t.Error("a deleted account was asked for its second factor")
			}
			if n := eval[int](admin, `fetch('/api/v1/books').then((r) => r.json()).then((b) => b.books.filter((x) => x.title === 'Gone Book').length)`); n != 0 {
				t.Errorf("the deleted account's book is still there (%d)", n)
			}
			author.clean()
			admin.clean()
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			return
		}
	}
}

// TestTwoFactorRequiredGate: with BINDERY_REQUIRE_TWO_FACTOR=admins, an
// admin without a second factor sees only the Account screen, with a
// banner saying why — whether the policy was there when the page loaded or
// arrived while it was open — until they turn it on.
func TestTwoFactorRequiredGate(t *testing.T) {
	chromiumPath(t)
	srv := startServer(t, map[string]string{})
	br := newBrowser(t)
	admin := br.Tab(360, 780)

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"the policy arrives while the dashboard is open", func(t *testing.T) {
			admin.t = t
			setupAdmin(admin, srv)
			admin.waitJS("online", `document.getElementById('offline').hidden`, 10*time.Second)
			srv.env["BINDERY_REQUIRE_TWO_FACTOR"] = "admins"
			srv.Restart()
			// The next request the page makes is refused.
			admin.do(chromedp.Navigate(srv.URL + "/#/admin"))
			admin.waitJS("the account screen", `location.hash === '#/account' && !!document.getElementById('two-factor-required')`, 15*time.Second)
			admin.clean()
		}},
		{"an admin without a second factor lands on the account screen", func(t *testing.T) {
			admin.t = t
			admin.do(chromedp.Navigate(srv.URL + "/"))
			admin.waitJS("the dashboard", `document.body.dataset.ready === 'true'`, 15*time.Second)
			if h := eval[string](admin, `location.hash`); h != "#/account" {
				t.Errorf("landed on %q, want #/account", h)
			}
			banner := eval[string](admin, `document.getElementById('two-factor-required')?.textContent || ''`)
			if !strings.Contains(banner, "two-factor sign-in") {
				t.Errorf("banner: %q", banner)
			}
			if got := eval[string](admin, `document.getElementById('nav').textContent`); got != "Account" {
				t.Errorf("navigation while gated: %q", got)
			}
			admin.waitJS("the two-factor card", `!!document.getElementById('tf-begin')`, 10*time.Second)
			if eval[int](admin, `document.querySelectorAll('main .error, main .notice.error').length`) != 0 {
				t.Errorf("errors on the gated screen: %q", eval[string](admin, `[...document.querySelectorAll('main .error, main .notice.error')].map((e) => e.textContent).join(' | ')`))
			}
			// Other screens lead back here.
			admin.do(chromedp.Navigate(srv.URL + "/#/books/1"))
			admin.waitJS("the account screen", `location.hash === '#/account' && !!document.getElementById('tf-begin')`, 10*time.Second)
			time.Sleep(time.Second) // the live channel must stay closed: no offline banner
			if !eval[bool](admin, `document.getElementById('offline').hidden`) {
				t.Error("the offline banner shows while gated")
			}
			admin.screenshot("30-gate-mobile")
			admin.clean()
		}},
		{"turning it on opens the dashboard", func(t *testing.T) {
			admin.t = t
			admin.do(chromedp.SendKeys(chromedp.ID("tf-password"), adminPass), submit("tf-begin"))
			admin.waitJS("the key", `!!document.getElementById('tf-secret')`, 10*time.Second)
			code, _ := totp.Code(strings.ReplaceAll(eval[string](admin, `document.getElementById('tf-secret').textContent`), " ", ""), time.Now())
			admin.do(chromedp.SendKeys(chromedp.ID("tf-code"), code), submit("tf-confirm"))
			admin.waitJS("ten recovery codes", `document.querySelectorAll('#recovery-codes li').length === 10`, 10*time.Second)
			if got := eval[string](admin, `document.getElementById('tf-codes-done').textContent`); got != "Continue to the dashboard" {
				t.Errorf("button after the codes: %q", got)
			}
			admin.do(chromedp.Click(chromedp.ID("tf-codes-done")))
			admin.waitJS("the books screen", `document.body.dataset.ready === 'true' && !!document.getElementById('new-title')`, 15*time.Second)
			admin.waitJS("online", `document.getElementById('offline').hidden`, 10*time.Second)
			if got := eval[string](admin, `document.getElementById('nav').textContent`); got != "BooksAccountAdmin" {
				t.Errorf("navigation after enrolling: %q", got)
			}
			admin.do(chromedp.Navigate(srv.URL + "/#/account"))
			admin.waitJS("the card, on", `!!document.getElementById('tf-codes-left')`, 10*time.Second)
			if !eval[bool](admin, `!!document.getElementById('tf-required') && !document.getElementById('tf-off')`) {
				t.Error("a required factor can be turned off from the page")
			}
			admin.clean()
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			return
		}
	}
}

// setupAdmin creates the first admin through the set-up page.
func setupAdmin(tb *tab, srv *server) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(srv.SetupURL), chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), adminEmail), chromedp.SendKeys(chromedp.ID("password"), adminPass),
		chromedp.Submit(chromedp.ID("password")))
	tb.waitJS("the dashboard", `document.body.dataset.ready === 'true'`, 15*time.Second)
}

// submit clicks the submit button of the dashboard's form id, as a user
// does (chromedp.Submit calls form.submit(), which skips the page's
// submit handler).
func submit(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS("#" + id + ` button[type="submit"]`))
}

// createUser has the signed-in admin of tb create a user through the API.
func createUser(tb *tab, email, role, password string) {
	tb.t.Helper()
	eval[int](tb, fmt.Sprintf(`(async () => {
		const r = await fetch('/api/v1/users', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({email: %s, role: %s, password: %s})});
		if (!r.ok) throw new Error(await r.text());
		return (await r.json()).id;
	})()`, js(email), js(role), js(password)))
}

// allowDownloads saves the tab's downloads in dir under their own names.
func allowDownloads(tb *tab, dir string) {
	tb.t.Helper()
	_, err := chromedp.CallBrowser(tb.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID,
	})
	if err != nil {
		tb.t.Fatal(err)
	}
}

// waitFile waits until the browser has finished writing file.
func waitFile(t *testing.T, file string, timeout time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) { // polling the file system, with a deadline
		if b, err := os.ReadFile(file); err == nil && len(b) > 0 {
			return string(b)
		}
	}
	t.Fatalf("%s was not downloaded within %v", file, timeout)
	return ""
}

// apiSession is a user signed in with a plain HTTP client: someone else,
// elsewhere.
type apiSession struct {
	t      *testing.T
	base   string
	cookie *http.Cookie
}

func apiSignIn(t *testing.T, base, email, password string) *apiSession {
	t.Helper()
	s := &apiSession{t: t, base: base}
	res := s.do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password})
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "bindery_session" {
			s.cookie = c
		}
	}
	if s.cookie == nil {
		t.Fatalf("signing in %s answered %s without a session", email, res.Status)
	}
	return s
}

func (s *apiSession) do(method, path string, body any) *http.Response {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if s.cookie != nil {
		req.AddCookie(s.cookie)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// call sends a JSON request, checks the status and decodes the answer;
// a new session cookie in it replaces the old one.
func (s *apiSession) call(method, path string, body any, want int) map[string]any {
	s.t.Helper()
	res := s.do(method, path, body)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		s.t.Fatalf("%s %s: %s %s, want %d", method, path, res.Status, b, want)
	}
	for _, c := range res.Cookies() {
		if c.Name == "bindery_session" {
			s.cookie = c
		}
	}
	var v map[string]any
	json.Unmarshal(b, &v)
	return v
}

func (s *apiSession) status(method, path string) int {
	s.t.Helper()
	res := s.do(method, path, nil)
	res.Body.Close()
	return res.StatusCode
}
