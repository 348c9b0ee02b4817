package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
)

// who is a caller in the scenario table.
type who string

const anon who = "anonymous"

// callers: anonymous and every role.
var callers = []who{anon, who(bindery.RoleViewer), who(bindery.RoleEditor), who(bindery.RoleAuthor), who(bindery.RoleAdmin)}

// scenario: one route, and the exact status each caller gets.
type scenario struct {
	method, path string
	body         string
	contentType  string
	// prepare, when set, builds the path/body per run (fresh targets).
	prepare func(h *harness) (path, body string)
	want    map[who]int
}

// statuses builds a want map: anonymous gets a, viewer v, editor e, author au, admin ad.
func statuses(a, v, e, au, ad int) map[who]int {
	return map[who]int{anon: a, who(bindery.RoleViewer): v, who(bindery.RoleEditor): e, who(bindery.RoleAuthor): au, who(bindery.RoleAdmin): ad}
}

func all(code int) map[who]int { return statuses(code, code, code, code, code) }

var seq atomic.Int64

// freshUser creates a viewer to be the target of admin routes.
func freshUser(h *harness) *bindery.User {
	u, err := h.auth.CreateUser(context.Background(), nil, fmt.Sprintf("target%d@example.com", seq.Add(1)), bindery.RoleViewer, strongPassword, auth.Client{})
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

var scenarios = []scenario{
	{method: "GET", path: "/healthz", want: all(200)},
	{method: "GET", path: "/ws", want: all(426)}, // not a WebSocket handshake
	{method: "GET", path: "/readyz", want: all(200)},
	{method: "GET", path: "/metrics", want: all(200)}, // the test client is on loopback
	{method: "GET", path: "/static/app.css", want: all(200)},
	{method: "GET", path: "/static/", want: all(404)},
	{method: "GET", path: "/", want: statuses(303, 200, 200, 200, 200)},
	{method: "GET", path: "/login", want: statuses(200, 303, 303, 303, 303)},
	{method: "GET", path: "/setup", want: all(303)},   // users exist
	{method: "POST", path: "/login", want: all(401)},  // empty form: wrong credentials
	{method: "POST", path: "/logout", want: all(303)}, // back to /login
	{method: "POST", path: "/setup", want: all(400)},  // empty form: no e-mail address
	{method: "POST", path: "/api/v1/auth/login", body: `{"email":"admin@example.com","password":"not the password"}`, want: all(401)},
	{method: "POST", path: "/api/v1/auth/logout", want: all(204)},
	{method: "POST", path: "/api/v1/setup", body: `{"token":"bindery_setup_x","email":"x@example.com","password":"correct horse battery"}`, want: all(401)},
	{method: "GET", path: "/api/v1/me", want: statuses(401, 200, 200, 200, 200)},
	{method: "PATCH", path: "/api/v1/me/password", body: `{"current_password":"wrong password here","new_password":"another long passphrase"}`, want: statuses(401, 422, 422, 422, 422)},
	{method: "GET", path: "/api/v1/me/sessions", want: statuses(401, 200, 200, 200, 200)},
	{method: "DELETE", path: "/api/v1/me/sessions/0123456789abcdef", want: statuses(401, 404, 404, 404, 404)},
	{method: "GET", path: "/api/v1/me/tokens", want: statuses(401, 200, 200, 200, 200)},
	{method: "POST", path: "/api/v1/me/tokens", body: `{"name":"ci","expires_in":"24h"}`, want: statuses(401, 201, 201, 201, 201)},
	{method: "DELETE", path: "/api/v1/me/tokens/0123456789abcdef", want: statuses(401, 404, 404, 404, 404)},
	{method: "PATCH", path: "/api/v1/me", body: `{"name":"A. Person"}`, want: statuses(401, 200, 200, 200, 200)},
	{method: "GET", path: "/api/v1/me/export", want: statuses(401, 200, 200, 200, 200)},
	{method: "DELETE", path: "/api/v1/me", body: `{"password":"not the password"}`, want: statuses(401, 422, 422, 422, 422)},
	{method: "GET", path: "/api/v1/users/{id}/export",
		prepare: func(h *harness) (string, string) { return fmt.Sprintf("/api/v1/users/%d/export", freshUser(h).ID), "" },
		want:    statuses(401, 403, 403, 403, 200)},
	{method: "GET", path: "/api/v1/me/two-factor", want: statuses(401, 200, 200, 200, 200)},
	{method: "POST", path: "/api/v1/me/two-factor", body: `{"password":"not the password"}`, want: statuses(401, 422, 422, 422, 422)},
	{method: "GET", path: "/api/v1/me/two-factor/qr.png", want: statuses(401, 404, 404, 404, 404)}, // nothing pending
	{method: "POST", path: "/api/v1/me/two-factor/confirm", body: `{"code":"123456"}`, want: statuses(401, 404, 404, 404, 404)},
	{method: "POST", path: "/api/v1/me/two-factor/recovery-codes", body: `{"password":"x","code":"123456"}`, want: statuses(401, 409, 409, 409, 409)}, // not on
	{method: "DELETE", path: "/api/v1/me/two-factor", body: `{"password":"x","code":"123456"}`, want: statuses(401, 409, 409, 409, 409)},
	{method: "DELETE", path: "/api/v1/users/{id}/two-factor",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/users/%d/two-factor", freshUser(h).ID), ""
		},
		want: statuses(401, 403, 403, 403, 204)},
	{method: "GET", path: "/api/v1/users", want: statuses(401, 403, 403, 403, 200)},
	{method: "POST", path: "/api/v1/users",
		prepare: func(h *harness) (string, string) {
			return "/api/v1/users", fmt.Sprintf(`{"email":"new%d@example.com","role":"viewer","password":%q}`, seq.Add(1), strongPassword)
		},
		want: statuses(401, 403, 403, 403, 201)},
	{method: "PATCH", path: "/api/v1/users/{id}",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/users/%d", freshUser(h).ID), `{"role":"editor"}`
		},
		want: statuses(401, 403, 403, 403, 200)},
	{method: "DELETE", path: "/api/v1/users/{id}",
		prepare: func(h *harness) (string, string) { return fmt.Sprintf("/api/v1/users/%d", freshUser(h).ID), "" },
		want:    statuses(401, 403, 403, 403, 204)},
	{method: "DELETE", path: "/api/v1/users/999999", want: statuses(401, 403, 403, 403, 404)},
	{method: "GET", path: "/api/v1/audit", want: statuses(401, 403, 403, 403, 200)},
	{method: "GET", path: "/api/v1/audit/export", want: statuses(401, 403, 403, 403, 200)},
	{method: "GET", path: "/api/v1/security/blocks", want: statuses(401, 403, 403, 403, 200)},
	{method: "GET", path: "/api/v1/integrations", want: statuses(401, 403, 403, 403, 200)},
	{method: "PUT", path: "/api/v1/integrations/{name}", prepare: func(*harness) (string, string) { return "/api/v1/integrations/ideogram", `{"api_key":"k-123"}` },
		want: statuses(401, 403, 403, 403, 204)},
	{method: "DELETE", path: "/api/v1/integrations/{name}", prepare: func(*harness) (string, string) { return "/api/v1/integrations/nonesuch", "" },
		want: statuses(401, 403, 403, 403, 404)},
	{method: "DELETE", path: "/api/v1/security/blocks/192.0.2.1", want: statuses(401, 403, 403, 403, 404)},

	// Books: the shared book is the author's, with the editor and the
	// viewer as members, so every role can see it.
	{method: "GET", path: "/api/v1/books", want: statuses(401, 200, 200, 200, 200)},
	{method: "POST", path: "/api/v1/books", body: `{"title":"New book","authors":["A. Writer"]}`, want: statuses(401, 403, 201, 201, 201)},
	{method: "GET", path: "/api/v1/books/{id}", prepare: shared(""), want: statuses(401, 200, 200, 200, 200)},
	{method: "PATCH", path: "/api/v1/books/{id}", prepare: shared(`{"subtitle":"Revised"}`), want: statuses(401, 403, 200, 200, 200)},
	{method: "DELETE", path: "/api/v1/books/{id}",
		prepare: func(h *harness) (string, string) {
			b := h.newBook(bindery.RoleAuthor, bindery.RoleEditor, bindery.RoleViewer)
			return fmt.Sprintf("/api/v1/books/%d", b.ID), ""
		},
		want: statuses(401, 403, 403, 403, 204)},
	{method: "PUT", path: "/api/v1/books/{id}/members/{userID}",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/members/%d", h.shared.ID, freshUser(h).ID), ""
		},
		want: statuses(401, 403, 403, 403, 204)}, // admins only: owners invite by address
	{method: "POST", path: "/api/v1/books/{id}/invitations",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/invitations", h.shared.ID), fmt.Sprintf(`{"email":"invitee%d@example.com"}`, seq.Add(1))
		},
		want: statuses(401, 403, 403, 201, 201)}, // owner or admin only
	{method: "GET", path: "/api/v1/books/{id}/invitations",
		prepare: func(h *harness) (string, string) { return fmt.Sprintf("/api/v1/books/%d/invitations", h.shared.ID), "" },
		want:    statuses(401, 403, 403, 200, 200)},
	{method: "DELETE", path: "/api/v1/books/{id}/invitations/{inv}",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/invitations/%d", h.shared.ID, h.invite("someone@example.com").ID), ""
		},
		want: statuses(401, 403, 403, 204, 204)},
	// Nobody but the addressee may accept or decline an invitation.
	{method: "POST", path: "/api/v1/me/invitations/{id}/accept",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/me/invitations/%d/accept", h.invite("someone@example.com").ID), ""
		},
		want: statuses(401, 404, 404, 404, 404)},
	{method: "DELETE", path: "/api/v1/me/invitations/{id}",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/me/invitations/%d", h.invite("someone@example.com").ID), ""
		},
		want: statuses(401, 404, 404, 404, 404)},
	{method: "GET", path: "/api/v1/me/invitations", want: statuses(401, 200, 200, 200, 200)},
	{method: "DELETE", path: "/api/v1/books/{id}/members/{userID}",
		prepare: func(h *harness) (string, string) {
			u := freshUser(h)
			h.store.AddMember(context.Background(), h.shared.ID, u.ID, h.clock.Now())
			return fmt.Sprintf("/api/v1/books/%d/members/%d", h.shared.ID, u.ID), ""
		},
		want: statuses(401, 403, 403, 204, 204)},
	{method: "GET", path: "/api/v1/books/{id}/files", prepare: sharedPath("/files"), want: statuses(401, 200, 200, 200, 200)},
	{method: "GET", path: "/api/v1/books/{id}/source.zip", prepare: sharedPath("/source.zip"), want: statuses(401, 200, 200, 200, 200)},
	{method: "POST", path: "/api/v1/books/import", contentType: "application/zip",
		prepare: func(h *harness) (string, string) {
			return "/api/v1/books/import", string(zipBook(h.t, map[string]string{"metadata.yaml": "title: Imported\n", "chapters/01.md": "# One\n"}))
		},
		want: statuses(401, 403, 201, 201, 201)},
	{method: "POST", path: "/api/v1/books/{id}/files", contentType: multipartType,
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/files", h.shared.ID), multipartBody("02-two.md", "# Two\n")
		},
		want: statuses(401, 403, 201, 201, 201)},
	{method: "PUT", path: "/api/v1/books/{id}/files/{path...}", contentType: "text/markdown",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/files/chapters/03-three.md", h.shared.ID), "# Three\n"
		},
		want: statuses(401, 403, 201, 201, 201)},
	{method: "GET", path: "/api/v1/books/{id}/files/{path...}",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/files/metadata.yaml", h.shared.ID), ""
		},
		want: statuses(401, 200, 200, 200, 200)},
	{method: "DELETE", path: "/api/v1/books/{id}/files/{path...}",
		prepare: func(h *harness) (string, string) {
			name := fmt.Sprintf("chapters/x%d.md", seq.Add(1))
			h.books.Put(context.Background(), h.shared.ID, name, strings.NewReader("x"))
			return fmt.Sprintf("/api/v1/books/%d/files/%s", h.shared.ID, name), ""
		},
		want: statuses(401, 403, 204, 204, 204)},
	{method: "GET", path: "/api/v1/books/{id}/preview/{chapter}",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/preview/01-one.md", h.shared.ID), ""
		},
		want: statuses(401, 200, 200, 200, 200)},

	// Runs of the shared book.
	{method: "POST", path: "/api/v1/books/{id}/runs",
		prepare: func(h *harness) (string, string) {
			// A fresh book each time: a book with a run queued answers
			// a second request with that run (200).
			b := h.newBook(bindery.RoleAuthor, bindery.RoleEditor, bindery.RoleViewer)
			return fmt.Sprintf("/api/v1/books/%d/runs", b.ID), `{"formats":["epub"]}`
		},
		want: statuses(401, 403, 201, 201, 201)},
	{method: "GET", path: "/api/v1/books/{id}/runs",
		prepare: func(h *harness) (string, string) { return fmt.Sprintf("/api/v1/books/%d/runs", h.shared.ID), "" },
		want:    statuses(401, 200, 200, 200, 200)},
	{method: "GET", path: "/api/v1/runs/{id}", prepare: runPath("", bindery.RunSucceeded), want: statuses(401, 200, 200, 200, 200)},
	{method: "POST", path: "/api/v1/runs/{id}/pause", prepare: runPath("/pause", bindery.RunQueued), want: statuses(401, 403, 200, 200, 200)},
	{method: "POST", path: "/api/v1/runs/{id}/resume", prepare: runPath("/resume", bindery.RunPaused), want: statuses(401, 403, 200, 200, 200)},
	{method: "POST", path: "/api/v1/runs/{id}/stop", prepare: runPath("/stop", bindery.RunPaused), want: statuses(401, 403, 200, 200, 200)},
	{method: "GET", path: "/api/v1/runs/{id}/artifacts/{name}", prepare: runPath("/artifacts/book.epub", bindery.RunSucceeded), want: statuses(401, 200, 200, 200, 200)},
	{method: "POST", path: "/api/v1/books/{id}/publish",
		prepare: func(h *harness) (string, string) {
			return fmt.Sprintf("/api/v1/books/%d/publish", h.shared.ID), fmt.Sprintf(`{"run_id":%d}`, h.passedRun().ID)
		},
		want: statuses(401, 403, 403, 200, 200)},
	{method: "GET", path: "/catalog", want: statuses(303, 200, 200, 200, 200)},
	{method: "GET", path: "/catalog/{book}/{file}",
		prepare: func(h *harness) (string, string) {
			if _, err := h.cat.Publish(context.Background(), h.passedRun().ID, h.users[bindery.RoleAuthor].ID); err != nil {
				h.t.Fatal(err)
			}
			return fmt.Sprintf("/catalog/%d/book.epub", h.shared.ID), ""
		},
		want: statuses(401, 200, 200, 200, 200)},
	{method: "GET", path: "/opds", want: statuses(401, 200, 200, 200, 200)},

	{method: "GET", path: "/api/v1/no-such-route", want: all(404)},
	{method: "GET", path: "/no-such-page", want: all(404)},
}

// TestRouteAccess walks every route as every role and as an anonymous
// caller, with a session cookie and with an API token, and asserts the
// exact status. No response may carry a password hash.
func TestRouteAccess(t *testing.T) {
	// The scenarios fail passwords on purpose; the brute-force guard is
	// tested on its own.
	h := newHarness(t, map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "100000"})
	for _, sc := range scenarios {
		for _, c := range callers {
			for _, via := range []string{"cookie", "bearer"} {
				if c == anon && via == "bearer" {
					continue
				}
				name := fmt.Sprintf("%s %s as %s via %s", sc.method, sc.path, c, via)
				t.Run(name, func(t *testing.T) {
					path, body := sc.path, sc.body
					if sc.prepare != nil {
						path, body = sc.prepare(h)
					}
					r := req{method: sc.method, path: path, body: body, contentType: sc.contentType}
					if c != anon {
						if via == "cookie" {
							r.cookie = h.session(bindery.Role(c))
						} else {
							tok, _, err := h.auth.CreateAPIToken(context.Background(), nil, h.users[bindery.Role(c)], "t", 0, auth.Client{})
							if err != nil {
								t.Fatal(err)
							}
							r.bearer = tok
						}
					}
					resp, got := h.do(r)
					want := sc.want[c]
					if resp.StatusCode != want {
						t.Fatalf("status = %d, want %d; body: %s", resp.StatusCode, want, got)
					}
					if strings.Contains(got, "argon2") || strings.Contains(got, "password_hash") || strings.Contains(got, "token_hash") {
						t.Fatalf("response leaks a hash: %s", got)
					}
					if strings.HasPrefix(sc.path, "/api/") && resp.StatusCode >= 400 && !strings.Contains(got, `"error":{"code":`) {
						t.Fatalf("API error without the contract's JSON shape: %s", got)
					}
					// Whatever a signed-in caller gets, but static assets,
					// must stay out of shared and disk caches.
					if cc := resp.Header.Get("Cache-Control"); c != anon && !strings.HasPrefix(path, "/static/") && cc != "private, no-store" {
						t.Fatalf("authenticated response with Cache-Control %q, want \"private, no-store\"", cc)
					}
				})
			}
		}
	}
}

// invite stores an invitation of the shared book (by its owner) to email.
func (h *harness) invite(email string) *bindery.Invitation {
	h.t.Helper()
	inv := &bindery.Invitation{BookID: h.shared.ID, InvitedBy: h.users[bindery.RoleAuthor].ID, Email: email, CreatedAt: h.clock.Now(), ExpiresAt: h.clock.Now().Add(time.Hour)}
	if err := h.store.CreateInvitation(context.Background(), inv); err != nil {
		h.t.Fatal(err)
	}
	return inv
}

// shared builds the path of an OnBook route on the shared book.
func shared(body string) func(h *harness) (string, string) {
	return func(h *harness) (string, string) { return fmt.Sprintf("/api/v1/books/%d", h.shared.ID), body }
}

// sharedPath is the shared book's path plus suffix.
func sharedPath(suffix string) func(h *harness) (string, string) {
	return func(h *harness) (string, string) { return fmt.Sprintf("/api/v1/books/%d%s", h.shared.ID, suffix), "" }
}

// zipBook is a zip archive of a book folder given as path → content.
func zipBook(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// runPath makes a run in state and returns its path plus suffix.
func runPath(suffix, state string) func(h *harness) (string, string) {
	return func(h *harness) (string, string) {
		return fmt.Sprintf("/api/v1/runs/%d%s", h.newRun(state).ID, suffix), ""
	}
}

const multipartType = "multipart/form-data; boundary=BOUNDARY"

// multipartBody is one file part.
func multipartBody(name, content string) string {
	return "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name + "\"\r\n" +
		"Content-Type: application/octet-stream\r\n\r\n" + content + "\r\n--BOUNDARY--\r\n"
}

// TestEveryRouteHasAScenario fails when a route is added without being
// added to the scenario table above.
func TestEveryRouteHasAScenario(t *testing.T) {
	h := newHarness(t, nil)
	covered := map[string]bool{}
	for _, sc := range scenarios {
		covered[sc.method+" "+sc.path] = true
	}
	for _, pattern := range routePatterns(h) {
		if !covered[pattern] {
			t.Errorf("route %q has no access scenario", pattern)
		}
	}
}

// routePatterns lists the route table, with path parameters written as in
// the scenarios.
func routePatterns(h *harness) []string {
	var out []string
	for _, rt := range h.srvr.RoutePatterns() {
		p := strings.Replace(rt, "/{$}", "/", 1)
		switch p {
		case "/api/":
			p = "GET /api/v1/no-such-route"
		case "DELETE /api/v1/me/sessions/{id}":
			p = "DELETE /api/v1/me/sessions/0123456789abcdef"
		case "DELETE /api/v1/me/tokens/{id}":
			p = "DELETE /api/v1/me/tokens/0123456789abcdef"
		case "DELETE /api/v1/security/blocks/{addr...}":
			p = "DELETE /api/v1/security/blocks/192.0.2.1"
		case "GET /static/":
			p = "GET /static/app.css"
		}
		out = append(out, p)
	}
	return out
}
