package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/privacy"
)

// handleUpdateMe: PATCH /api/v1/me {name}: the caller's display name
// (stored encrypted; "" removes it).
func (s *Server) handleUpdateMe(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	u := *p.User
	if req.Name != nil {
		name := strings.TrimSpace(*req.Name)
		if len(name) > bindery.MaxNameLength {
			s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "A name is at most %d bytes of printable text.", bindery.MaxNameLength))
			return
		}
		if bad, found := bindery.NameRune(name); found {
			s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "A name may not contain %s: it would display as something else.", bindery.DescribeRune(bad)))
			return
		}
		if err := s.store.UpdateUserName(r.Context(), u.ID, name, s.now()); err != nil {
			s.writeError(w, r, err)
			return
		}
		u.Name = name
		s.auth.Audit(r.Context(), bindery.AuditEvent{Action: bindery.AuditUserUpdated, ActorID: &u.ID, ClientAddr: c.Addr.String(), Target: bindery.UserTarget(u.ID), Detail: "name"})
		s.auth.Forget()
	}
	writeJSON(w, http.StatusOK, viewUser(&u))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// writeExport streams the export zip of u. It is not built in memory
// first: books may hold a gigabyte each. A failure half-way aborts the
// connection, so the client sees a failed download rather than a
// truncated zip that looks whole.
func (s *Server) writeExport(w http.ResponseWriter, r *http.Request, u *bindery.User) {
	p, c := s.callerClient(r)
	s.auth.Audit(r.Context(), bindery.AuditEvent{Action: bindery.AuditUserExported, ActorID: &p.User.ID, ClientAddr: c.Addr.String(), Target: bindery.UserTarget(u.ID)})
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="bindery-export-`+itoa(u.ID)+`.zip"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := s.privacy.WriteExport(r.Context(), u, newProgressWriter(w)); err != nil {
		if r.Context().Err() == nil {
			s.log.Error("export failed", "user_id", u.ID, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// handleExportMe: GET /api/v1/me/export.
func (s *Server) handleExportMe(w http.ResponseWriter, r *http.Request) {
	s.writeExport(w, r, principal(r).User)
}

// handleExportUser: GET /api/v1/users/{id}/export (admin).
func (s *Server) handleExportUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeExport(w, r, u)
}

// deleteAccountRequest is the body of DELETE /me and DELETE /users/{id}:
// what to do with the books the account owns — give them to the user
// TransferTo (an id or an e-mail address), or delete them (DeleteBooks).
// Password and Code re-authenticate people deleting themselves.
type deleteAccountRequest struct {
	Password    string `json:"password"`
	Code        string `json:"code"`
	TransferTo  any    `json:"transfer_to"`
	DeleteBooks bool   `json:"delete_books"`
}

// plan turns the request into a privacy.BooksPlan.
func (s *Server) plan(r *http.Request, req deleteAccountRequest) (privacy.BooksPlan, error) {
	plan := privacy.BooksPlan{Delete: req.DeleteBooks}
	switch v := req.TransferTo.(type) {
	case nil:
	case float64:
		if v != float64(int64(v)) || v <= 0 {
			return plan, bindery.Errorf(bindery.EINVALID, "transfer_to must be a user id or an e-mail address.")
		}
		plan.TransferTo = int64(v)
	case string:
		email, err := bindery.NormalizeEmail(v)
		if err != nil {
			return plan, err
		}
		heir, err := s.store.UserByEmail(r.Context(), email)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return plan, bindery.Errorf(bindery.EUNPROCESSABLE, "The user to transfer the books to does not exist.")
		} else if err != nil {
			return plan, err
		}
		plan.TransferTo = heir.ID
	default:
		return plan, bindery.Errorf(bindery.EINVALID, "transfer_to must be a user id or an e-mail address.")
	}
	return plan, nil
}

// handleDeleteMe: DELETE /api/v1/me {password, code?, transfer_to? |
// delete_books?}. The password (and the second factor, when on) are asked
// again: a stolen session alone must not be able to erase an account.
func (s *Server) handleDeleteMe(w http.ResponseWriter, r *http.Request) {
	var req deleteAccountRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	// Re-authenticate before reading transfer_to: resolving an address
	// first would tell any signed-in session which addresses have
	// accounts, without the password and outside the rate limit.
	err := s.auth.Reauthenticate(r.Context(), p, req.Password, req.Code, c)
	var plan privacy.BooksPlan
	if err == nil {
		plan, err = s.plan(r, req)
	}
	if err == nil {
		err = s.privacy.DeleteAccount(r.Context(), p.User, p.User, plan, c)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}
