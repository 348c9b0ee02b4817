package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
)

// Access is who may use a route. Every route names one; there is no
// default, so forgetting to decide is a compile error, and the checks
// happen in one place (authorize) before any handler runs.
type Access struct {
	name  string
	allow func(*auth.Principal) bool // nil: anyone, signed in or not
	// book, when set, makes the route act on the book named by {id}:
	// authorize loads it, answers 404 when the caller may not see it (as
	// for a book that does not exist: existence is not revealed), then 403
	// when the caller's role lacks this permission.
	book bindery.Permission
	// run: {id} names a run, and the book is the run's.
	run bool
	// beforeTwoFactor lets through a caller whom BINDERY_REQUIRE_TWO_FACTOR
	// requires to enrol and who has not yet: every other route answers
	// two_factor_setup_required until they do.
	beforeTwoFactor bool
	// readingApp also accepts HTTP Basic with an API token as the password
	// (the user name is not used), and answers 401 with a Basic challenge:
	// reading apps (OPDS clients) know no other way to sign in. Only the
	// feed and the catalog downloads take it, so a browser never shows a
	// password dialog for the API, and a session cookie never has to be
	// given to an app.
	readingApp bool
}

// String names the access rule (for the route listing and tests).
func (a Access) String() string { return a.name }

var (
	// Anyone: no credentials needed (sign-in, health, static files).
	Anyone = Access{name: "anyone"}
	// SignedIn: any valid session or API token.
	SignedIn = Access{name: "signed in", allow: func(p *auth.Principal) bool { return p != nil }}
	// Enrolling: any signed-in caller, also one the two-factor policy
	// still holds back — enough to see who they are, enrol, manage their
	// sessions and password, and exercise their rights over their data,
	// which do not wait for an enrolment.
	Enrolling = Access{name: "signed in, before a required second factor", allow: SignedIn.allow, beforeTwoFactor: true}
	// AdminOnly: the admin role.
	AdminOnly = Access{name: "admin", allow: func(p *auth.Principal) bool { return p != nil && auth.IsAdmin(p.User) }}
)

// Perm: a role holding permission p (CONTRACT.md §4). Routes on a book
// additionally check the object in the handler.
func Perm(p bindery.Permission) Access {
	return Access{name: string(p), allow: func(pr *auth.Principal) bool { return pr != nil && auth.Can(pr.User, p) }}
}

// OnBook: a book the caller can see (owner, member, admin) and a role
// holding permission p.
func OnBook(p bindery.Permission) Access {
	return Access{name: string(p) + " on the book", allow: SignedIn.allow, book: p}
}

// OnRun: like OnBook, for the book of the run named by {id}.
func OnRun(p bindery.Permission) Access {
	return Access{name: string(p) + " on the run's book", allow: SignedIn.allow, book: p, run: true}
}

// ForReadingApps: a, and also HTTP Basic with an API token as the
// password (see Access.readingApp).
func ForReadingApps(a Access) Access {
	a.readingApp = true
	a.name += ", or Basic with an API token"
	return a
}

// route is one line of the route table.
type route struct {
	pattern string // net/http ServeMux pattern, "METHOD /path/{param}"
	access  Access
	page    bool // an HTML page: the unauthenticated are sent to /login instead of a 401
	handler http.HandlerFunc
}

// routes is the whole attack surface of the server on one screen.
func (s *Server) routes() []route {
	return []route{
		// Operations.
		{"GET /healthz", Anyone, false, s.handleHealthz},
		{"GET /readyz", Anyone, false, s.handleReadyz},
		{"GET /metrics", Anyone, false, s.handleMetrics}, // loopback or admin: checked inside
		{"GET /static/", Anyone, false, s.handleStatic},

		// The live event stream (CONTRACT.md §6). It authenticates itself:
		// a client may send its token in the first frame, after the upgrade.
		{"GET /ws", Anyone, false, s.handleWS},

		// Server-rendered pages.
		{"GET /{$}", Enrolling, true, s.handleHomePage},
		{"GET /login", Anyone, true, s.handleLoginPage},
		{"POST /login", Anyone, true, s.handleLoginForm},
		{"POST /logout", Anyone, true, s.handleLogoutForm},
		{"GET /setup", Anyone, true, s.handleSetupPage},
		{"POST /setup", Anyone, true, s.handleSetupForm},

		// Authentication.
		{"POST /api/v1/auth/login", Anyone, false, s.handleLogin},
		{"POST /api/v1/auth/logout", Anyone, false, s.handleLogout},
		{"POST /api/v1/setup", Anyone, false, s.handleSetup},

		// The caller's own account.
		{"GET /api/v1/me", Enrolling, false, s.handleMe},
		{"PATCH /api/v1/me", SignedIn, false, s.handleUpdateMe},
		{"GET /api/v1/me/export", Enrolling, false, s.handleExportMe},
		{"DELETE /api/v1/me", Enrolling, false, s.handleDeleteMe},
		{"PATCH /api/v1/me/password", Enrolling, false, s.handleChangePassword},
		{"GET /api/v1/me/sessions", Enrolling, false, s.handleListSessions},
		{"DELETE /api/v1/me/sessions/{id}", Enrolling, false, s.handleRevokeSession},
		{"GET /api/v1/me/tokens", SignedIn, false, s.handleListTokens},
		{"POST /api/v1/me/tokens", SignedIn, false, s.handleCreateToken},
		{"DELETE /api/v1/me/tokens/{id}", SignedIn, false, s.handleRevokeToken},
		{"GET /api/v1/me/two-factor", Enrolling, false, s.handleTwoFactorStatus},
		{"POST /api/v1/me/two-factor", Enrolling, false, s.handleBeginTwoFactor},
		{"GET /api/v1/me/two-factor/qr.png", Enrolling, false, s.handleTwoFactorQR},
		{"POST /api/v1/me/two-factor/confirm", Enrolling, false, s.handleConfirmTwoFactor},
		{"POST /api/v1/me/two-factor/recovery-codes", SignedIn, false, s.handleRenewRecoveryCodes},
		{"DELETE /api/v1/me/two-factor", SignedIn, false, s.handleDisableTwoFactor},
		// Invitations to the caller's address (see handleInvite).
		{"GET /api/v1/me/invitations", SignedIn, false, s.handleMyInvitations},
		{"POST /api/v1/me/invitations/{id}/accept", SignedIn, false, s.handleAcceptInvitation},
		{"DELETE /api/v1/me/invitations/{id}", SignedIn, false, s.handleDeclineInvitation},

		// Books (CONTRACT.md §5). OnBook routes check the object too.
		{"GET /api/v1/books", Perm(bindery.PermRead), false, s.handleListBooks},
		{"POST /api/v1/books", Perm(bindery.PermWrite), false, s.handleCreateBook},
		{"POST /api/v1/books/import", Perm(bindery.PermWrite), false, s.handleImportBook},
		{"GET /api/v1/books/{id}", OnBook(bindery.PermRead), false, s.handleGetBook},
		{"PATCH /api/v1/books/{id}", OnBook(bindery.PermWrite), false, s.handleUpdateBook},
		{"DELETE /api/v1/books/{id}", OnBook(bindery.PermDelete), false, s.handleDeleteBook},
		// Members: the owner invites by address (the answer is the same
		// whether an account has it), the invitee accepts; only an admin
		// adds an account directly. Owner or admin: checked in the handler.
		{"PUT /api/v1/books/{id}/members/{userID}", OnBook(bindery.PermWrite), false, s.handleAddMember}, // admins only
		{"DELETE /api/v1/books/{id}/members/{userID}", OnBook(bindery.PermWrite), false, s.handleRemoveMember},
		{"POST /api/v1/books/{id}/invitations", OnBook(bindery.PermWrite), false, s.handleInvite},
		{"GET /api/v1/books/{id}/invitations", OnBook(bindery.PermWrite), false, s.handleListBookInvitations},
		{"DELETE /api/v1/books/{id}/invitations/{inv}", OnBook(bindery.PermWrite), false, s.handleWithdrawInvitation},
		{"GET /api/v1/books/{id}/files", OnBook(bindery.PermRead), false, s.handleListFiles},
		{"GET /api/v1/books/{id}/source.zip", OnBook(bindery.PermRead), false, s.handleExportSource},
		{"POST /api/v1/books/{id}/files", OnBook(bindery.PermWrite), false, s.handleUploadFiles},
		{"PUT /api/v1/books/{id}/files/{path...}", OnBook(bindery.PermWrite), false, s.handlePutFile},
		{"GET /api/v1/books/{id}/files/{path...}", OnBook(bindery.PermRead), false, s.handleGetFile},
		{"DELETE /api/v1/books/{id}/files/{path...}", OnBook(bindery.PermWrite), false, s.handleDeleteFile},
		{"GET /api/v1/books/{id}/preview/{chapter}", OnBook(bindery.PermRead), false, s.handlePreview},

		// Runs (CONTRACT.md §5). Publishing additionally needs "publish".
		{"POST /api/v1/books/{id}/runs", OnBook(bindery.PermWrite), false, s.handleStartRun},
		{"GET /api/v1/books/{id}/runs", OnBook(bindery.PermRead), false, s.handleListRuns},
		{"GET /api/v1/runs/{id}", OnRun(bindery.PermRead), false, s.handleGetRun},
		{"POST /api/v1/runs/{id}/pause", OnRun(bindery.PermWrite), false, s.handleRunControl("pause")},
		{"POST /api/v1/runs/{id}/resume", OnRun(bindery.PermWrite), false, s.handleRunControl("resume")},
		{"POST /api/v1/runs/{id}/stop", OnRun(bindery.PermWrite), false, s.handleRunControl("stop")},
		{"GET /api/v1/runs/{id}/artifacts/{name}", OnRun(bindery.PermRead), false, s.handleGetArtifact},
		{"POST /api/v1/books/{id}/publish", OnBook(bindery.PermPublish), false, s.handlePublish},

		// The catalog of published books: a page and an OPDS feed.
		{"GET /catalog", s.catalogAccess(), true, s.handleCatalog},
		{"GET /catalog/{book}/{file}", ForReadingApps(s.catalogAccess()), false, s.handleCatalogFile},
		{"GET /opds", ForReadingApps(s.catalogAccess()), false, s.handleOPDS},

		// Administration.
		{"GET /api/v1/users", AdminOnly, false, s.handleListUsers},
		{"POST /api/v1/users", AdminOnly, false, s.handleCreateUser},
		{"PATCH /api/v1/users/{id}", AdminOnly, false, s.handleUpdateUser},
		{"DELETE /api/v1/users/{id}", AdminOnly, false, s.handleDeleteUser},
		{"DELETE /api/v1/users/{id}/two-factor", AdminOnly, false, s.handleResetTwoFactor},
		{"GET /api/v1/users/{id}/export", AdminOnly, false, s.handleExportUser},
		{"GET /api/v1/audit", AdminOnly, false, s.handleListAudit},
		{"GET /api/v1/audit/export", AdminOnly, false, s.handleExportAudit},
		{"GET /api/v1/security/blocks", AdminOnly, false, s.handleListBlocks},
		{"GET /api/v1/integrations", AdminOnly, false, s.handleIntegrations},
		{"PUT /api/v1/integrations/{name}", AdminOnly, false, s.handlePutCredential},
		{"DELETE /api/v1/integrations/{name}", AdminOnly, false, s.handleDeleteCredential},
		{"DELETE /api/v1/security/blocks/{addr...}", AdminOnly, false, s.handleLiftBlock},

		// Anything else under the API is a JSON 404, not an HTML page.
		{"/api/", Anyone, false, s.handleAPINotFound},
	}
}

// authorize wraps a route's handler with its access check. Credentials
// were resolved by authenticate; here the route's rule decides.
func (s *Server) authorize(rt route) http.Handler {
	if rt.access.allow == nil {
		return rt.handler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := principal(r)
		if p == nil && rt.access.readingApp {
			if p = s.basicPrincipal(r); p != nil {
				r = r.WithContext(withPrincipal(r.Context(), p))
			} else {
				w.Header().Set("WWW-Authenticate", `Basic realm="Bindery", charset="UTF-8"`)
			}
		}
		switch {
		case p == nil && rt.page:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		case p == nil:
			s.writeError(w, r, bindery.Errorf(bindery.EUNAUTHORIZED, "Please sign in."))
		case s.auth.MustEnrol(p.User) && !rt.access.beforeTwoFactor:
			s.writeError(w, r, bindery.Errorf(bindery.ETWOFACTORSETUP, "Your account must use two-factor sign-in: turn it on first."))
		case !rt.access.allow(p):
			s.writeError(w, r, bindery.Errorf(bindery.EFORBIDDEN, "Your role does not allow this."))
		case rt.access.book != "":
			ctx, err := s.authorizeObject(r, p, rt.access)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			rt.handler(w, r.WithContext(ctx))
		default:
			rt.handler(w, r)
		}
	})
}

// basicPrincipal resolves HTTP Basic credentials whose password is an API
// token; anything else (no Basic header, a password that is not an API
// token, a session or the dashboard token) is nobody. Passwords are never
// accepted here: an app would have to store the account's password.
func (s *Server) basicPrincipal(r *http.Request) *auth.Principal {
	_, secret, ok := r.BasicAuth()
	if !ok || !strings.HasPrefix(secret, auth.APITokenPrefix) {
		return nil
	}
	p, err := s.auth.Authenticate(r.Context(), secret)
	if err != nil || p == nil || p.Token == nil {
		return nil
	}
	return p
}

// authorizeObject loads the book of an OnBook or OnRun route (for OnRun,
// the run {id} first, then its book) and applies the object rule, then the
// role's permission. It returns the request context carrying the objects.
func (s *Server) authorizeObject(r *http.Request, p *auth.Principal, a Access) (context.Context, error) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, bindery.Errorf(bindery.ENOTFOUND, "Not found.")
	}
	bookID := id
	if a.run {
		run, err := s.store.RunByID(ctx, id)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return nil, bindery.Errorf(bindery.ENOTFOUND, "Run not found.")
		} else if err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, runKey, run)
		bookID = run.BookID
	}
	b, err := s.authorizeBook(r, p, bookID, a.book)
	if err != nil {
		if a.run && bindery.ErrorCode(err) == bindery.ENOTFOUND {
			err = bindery.Errorf(bindery.ENOTFOUND, "Run not found.")
		}
		return nil, err
	}
	return context.WithValue(ctx, bookKey, b), nil
}

// authorizeBook loads book id and applies the object rule, then the role's
// permission. Every failure to see the book is the same 404, whether the
// id is malformed, unknown or someone else's.
func (s *Server) authorizeBook(r *http.Request, p *auth.Principal, id int64, perm bindery.Permission) (*bindery.Book, error) {
	notFound := bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
	b, err := s.store.BookByID(r.Context(), id)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	member := false
	if !auth.IsAdmin(p.User) && b.OwnerID != p.User.ID {
		if member, err = s.store.IsMember(r.Context(), b.ID, p.User.ID); err != nil {
			return nil, err
		}
	}
	if !auth.SeesBook(p.User, b, member) {
		return nil, notFound
	}
	if !auth.Can(p.User, perm) {
		return nil, bindery.Errorf(bindery.EFORBIDDEN, "Your role does not allow this.")
	}
	return b, nil
}

// runOf returns the run authorize loaded for an OnRun route.
func runOf(r *http.Request) *bindery.Run {
	run, _ := r.Context().Value(runKey).(*bindery.Run)
	return run
}

// bookOf returns the book authorize loaded for an OnBook route.
func bookOf(r *http.Request) *bindery.Book {
	b, _ := r.Context().Value(bookKey).(*bindery.Book)
	return b
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) { s.ws.ServeHTTP(w, r) }

func (s *Server) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "No such API route."))
}
