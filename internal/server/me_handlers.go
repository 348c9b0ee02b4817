package server

import (
	"net/http"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// handleMe: GET /api/v1/me.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, viewUser(principal(r).User))
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// handleChangePassword: PATCH /api/v1/me/password. Every session and API
// token of the user is revoked; a browser session gets a fresh cookie. The
// answer says how many tokens went: {"revoked_tokens": N}.
func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	ch, err := s.auth.ChangePassword(r.Context(), p, req.CurrentPassword, req.NewPassword, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ch.Session != "" {
		s.setSessionCookie(w, r, ch.Session)
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked_tokens": ch.RevokedTokens})
}

// handleListSessions: GET /api/v1/me/sessions.
func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	list, err := s.store.ListSessions(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []*bindery.Session{}
	for _, sess := range list {
		sess.Current = p.Session != nil && sess.ID == p.Session.ID
		out = append(out, sess)
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

// handleRevokeSession: DELETE /api/v1/me/sessions/{id}. Only the caller's
// own sessions can be named; another user's id is a 404.
func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request) {
	p, c := s.callerClient(r)
	id := r.PathValue("id")
	if err := s.auth.RevokeSession(r.Context(), p, id, c); err != nil {
		s.writeError(w, r, err)
		return
	}
	if p.Session != nil && p.Session.ID == id {
		s.clearSessionCookie(w, r)
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleListTokens: GET /api/v1/me/tokens (metadata only, never secrets).
func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.store.ListAPITokens(r.Context(), principal(r).User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []*bindery.APIToken{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
}

type tokenRequest struct {
	Name      string `json:"name"`
	ExpiresIn string `json:"expires_in"` // Go duration, e.g. "720h"; default 30 days
}

// handleCreateToken: POST /api/v1/me/tokens. The secret is in this answer
// only.
func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var ttl time.Duration
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil {
			s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "expires_in must be a duration such as 720h."))
			return
		}
		ttl = d
	}
	p, c := s.callerClient(r)
	secret, t, err := s.auth.CreateAPIToken(r.Context(), p.User, p.User, req.Name, ttl, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
}

// handleRevokeToken: DELETE /api/v1/me/tokens/{id}.
func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) {
	p, c := s.callerClient(r)
	if err := s.auth.RevokeAPIToken(r.Context(), p.User, r.PathValue("id"), c); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
