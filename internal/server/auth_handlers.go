package server

import (
	"errors"
	"net/http"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
)

// setSessionCookie hands the browser its session. HttpOnly keeps it from
// scripts (an XSS cannot steal it), SameSite=Strict keeps it off
// cross-site requests (CSRF), Secure keeps it off plain HTTP in
// production or over TLS.
func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/",
		MaxAge:   int(s.cfg.SessionTTL.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.cfg.Production() || s.addrs.IsHTTPS(r),
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.cfg.Production() || s.addrs.IsHTTPS(r),
	})
}

// sessionToken is the caller's session cookie value, or "".
func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// loginRequest is a sign-in: e-mail and password, plus the second factor's
// code when the account has one; or, to finish a sign-in that was answered
// with second_factor_required, the challenge from that answer and the code.
type loginRequest struct {
	Email     string `json:"email"`
	Password  string `json:"password"`
	Code      string `json:"code"`
	Challenge string `json:"challenge"`
}

// login runs either form of loginRequest.
func (s *Server) login(r *http.Request, req loginRequest) (*bindery.User, string, error) {
	if req.Challenge != "" {
		return s.auth.FinishLogin(r.Context(), req.Challenge, req.Code, s.client(r), sessionToken(r))
	}
	return s.auth.Login(r.Context(), req.Email, req.Password, req.Code, s.client(r), sessionToken(r))
}

// userView is a user as the API shows it.
type userView struct {
	*bindery.User
	Permissions []bindery.Permission `json:"permissions"`
}

func viewUser(u *bindery.User) userView {
	v := userView{User: u, Permissions: []bindery.Permission{}}
	for _, p := range bindery.Permissions {
		if u.Role.Can(p) {
			v.Permissions = append(v.Permissions, p)
		}
	}
	return v
}

// handleLogin: POST /api/v1/auth/login {email, password[, code]} or
// {challenge, code}. When the account's second factor is needed, the 401
// error (code second_factor_required) carries a "challenge" to send back
// with the code, so that the client need not keep the password.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, tok, err := s.login(r, req)
	var sf *auth.SecondFactorNeeded
	if errors.As(err, &sf) {
		var body struct {
			errorBody
			Challenge string `json:"challenge"`
		}
		body.Error.Code, body.Error.Message = bindery.ErrorCode(err), bindery.ErrorMessage(err)
		body.Challenge = sf.Challenge
		writeJSON(w, http.StatusUnauthorized, body)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, tok)
	writeJSON(w, http.StatusOK, map[string]any{"user": viewUser(u)})
}

// handleLogout: POST /api/v1/auth/logout. Always succeeds.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.auth.Logout(r.Context(), sessionToken(r), s.client(r))
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

type setupRequest struct {
	Token    string `json:"token"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// handleSetup: POST /api/v1/setup {token, email, password} creates the
// first admin with the one-time token printed at start-up.
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	var req setupRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, tok, err := s.auth.CompleteSetup(r.Context(), req.Token, req.Email, req.Password, s.client(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, tok)
	writeJSON(w, http.StatusCreated, map[string]any{"user": viewUser(u)})
}

// callerClient is a shorthand used by handlers that act for the principal.
func (s *Server) callerClient(r *http.Request) (*auth.Principal, auth.Client) {
	return principal(r), s.client(r)
}
