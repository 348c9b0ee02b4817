package server

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/web"
)

// maxFormBody bounds the sign-in and set-up forms.
const maxFormBody = 16 << 10

// pageData feeds templates/page.html.
type pageData struct {
	User  *bindery.User
	Setup bool
	Email string
	Error string
	// Challenge, on the sign-in page, means the password was right and
	// the second factor is asked for; the form sends it back with the
	// code (a sealed, expiring token — the password is not kept).
	Challenge string
}

// renderPage renders the page into a buffer first, so a template error
// becomes a clean 500 instead of half a page.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, "page", d); err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// parseForm reads a small urlencoded form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return bindery.Errorf(bindery.EINVALID, "The form could not be read.")
	}
	return nil
}

// handleHomePage: GET / (signed in).
func (s *Server) handleHomePage(w http.ResponseWriter, r *http.Request) {
	s.renderPage(w, r, http.StatusOK, pageData{User: principal(r).User})
}

// handleLoginPage: GET /login.
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	if principal(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderPage(w, r, http.StatusOK, pageData{})
}

// handleLoginForm: POST /login, the no-JavaScript sign-in.
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.renderPage(w, r, ErrorStatus(err), pageData{Error: bindery.ErrorMessage(err)})
		return
	}
	f := r.PostForm
	email := f.Get("email")
	_, tok, err := s.login(r, loginRequest{Email: email, Password: f.Get("password"), Code: f.Get("code"), Challenge: f.Get("challenge")})
	var sf *auth.SecondFactorNeeded
	if errors.As(err, &sf) {
		s.renderPage(w, r, http.StatusOK, pageData{Challenge: sf.Challenge})
		return
	}
	if err != nil {
		setRetryAfter(w, err)
		d := pageData{Email: email, Error: bindery.ErrorMessage(err)}
		if ch := f.Get("challenge"); ch != "" && bindery.ErrorCode(err) == bindery.EUNAUTHORIZED && s.auth.ChallengeValid(r.Context(), ch) {
			// A wrong code: ask for the code again with the same
			// challenge while it lasts.
			d = pageData{Challenge: ch, Error: bindery.ErrorMessage(err)}
		}
		s.renderPage(w, r, ErrorStatus(err), d)
		return
	}
	s.setSessionCookie(w, r, tok)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handleLogoutForm: POST /logout.
func (s *Server) handleLogoutForm(w http.ResponseWriter, r *http.Request) {
	s.auth.Logout(r.Context(), sessionToken(r), s.client(r))
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// handleSetupPage: GET /setup. Once a user exists it only redirects.
func (s *Server) handleSetupPage(w http.ResponseWriter, r *http.Request) {
	if n, err := s.store.CountUsers(r.Context()); err != nil || n > 0 {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.renderPage(w, r, http.StatusOK, pageData{Setup: true})
}

// handleSetupForm: POST /setup.
func (s *Server) handleSetupForm(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.renderPage(w, r, ErrorStatus(err), pageData{Setup: true, Error: bindery.ErrorMessage(err)})
		return
	}
	f := r.PostForm
	_, tok, err := s.auth.CompleteSetup(r.Context(), f.Get("token"), f.Get("email"), f.Get("password"), s.client(r))
	if err != nil {
		setRetryAfter(w, err)
		s.renderPage(w, r, ErrorStatus(err), pageData{Setup: true, Email: f.Get("email"), Error: bindery.ErrorMessage(err)})
		return
	}
	s.setSessionCookie(w, r, tok)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// staticFiles serves the embedded static tree. Files are small and
// versioned with the binary; a short cache keeps upgrades visible.
var staticFiles = http.StripPrefix("/static/", http.FileServerFS(web.Static()))

// handleStatic: GET /static/…
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "Not found."))
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	staticFiles.ServeHTTP(w, r)
}
