package server

import (
	"net/http"
	"strconv"

	"github.com/bindery/bindery/internal/bindery"
)

// pathID parses the {id} path value.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, bindery.Errorf(bindery.ENOTFOUND, "User not found.")
	}
	return id, nil
}

// handleListUsers: GET /api/v1/users.
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]userView, len(users))
	for i, u := range users {
		out[i] = viewUser(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

type createUserRequest struct {
	Email    string       `json:"email"`
	Role     bindery.Role `json:"role"`
	Password string       `json:"password"`
}

// handleCreateUser: POST /api/v1/users {email, role, password}.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	u, err := s.auth.CreateUser(r.Context(), p.User, req.Email, req.Role, req.Password, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, viewUser(u))
}

type updateUserRequest struct {
	Role bindery.Role `json:"role"`
}

// handleUpdateUser: PATCH /api/v1/users/{id} {role}. The user's sessions
// are revoked so the new role applies at once.
func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req updateUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	u, err := s.auth.SetRole(r.Context(), p.User, id, req.Role, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewUser(u))
}

// handleDeleteUser: DELETE /api/v1/users/{id}.
func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req deleteAccountRequest
	if r.ContentLength != 0 { // the body, saying what becomes of owned books, is optional
		if err := decodeJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	p, c := s.callerClient(r)
	u, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if u.ID == p.User.ID {
		s.writeError(w, r, bindery.Errorf(bindery.ECONFLICT, "You cannot delete your own account here; use DELETE /api/v1/me."))
		return
	}
	plan, err := s.plan(r, req)
	if err == nil {
		err = s.privacy.DeleteAccount(r.Context(), p.User, u, plan, c)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
