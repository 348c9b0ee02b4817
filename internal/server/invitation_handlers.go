package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// invitationID parses the {inv} or {id} path value naming an invitation.
func invitationID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, bindery.Errorf(bindery.ENOTFOUND, "Invitation not found.")
	}
	return id, nil
}

// handleInvite: POST /api/v1/books/{id}/invitations {email}, by the book's
// owner or an admin. The answer is the same 201 with the invitation
// whether or not an account has that address, and takes the same time:
// no account is looked up here at all. Whoever holds the address sees the
// invitation in GET /me/invitations once signed in, and decides.
func (s *Server) handleInvite(w http.ResponseWriter, r *http.Request) {
	b, err := managedBook(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	inv, err := s.books.Invite(r.Context(), s.actor(r), b, req.Email)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, inv)
}

// handleListBookInvitations: GET /api/v1/books/{id}/invitations — the
// pending invitations, with the addresses the owner typed.
func (s *Server) handleListBookInvitations(w http.ResponseWriter, r *http.Request) {
	b, err := managedBook(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := s.books.Invitations(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": list})
}

// handleWithdrawInvitation: DELETE /api/v1/books/{id}/invitations/{inv}.
func (s *Server) handleWithdrawInvitation(w http.ResponseWriter, r *http.Request) {
	b, err := managedBook(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := invitationID(r, "inv")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.books.Withdraw(r.Context(), s.actor(r), b, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// myInvitationView is an invitation as its addressee sees it: the book
// and who invited them (by display name, or "member #id").
type myInvitationView struct {
	ID          int64     `json:"id"`
	BookID      int64     `json:"book_id"`
	BookTitle   string    `json:"book_title"`
	InvitedBy   int64     `json:"invited_by"`
	InviterName string    `json:"inviter_name"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// handleMyInvitations: GET /api/v1/me/invitations — the pending
// invitations to the caller's address.
func (s *Server) handleMyInvitations(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	list, err := s.store.InvitationsFor(r.Context(), p.User.Email, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []myInvitationView{}
	for _, inv := range list {
		v := myInvitationView{ID: inv.ID, BookID: inv.BookID, BookTitle: inv.BookTitle, InvitedBy: inv.InvitedBy,
			InviterName: "member #" + strconv.FormatInt(inv.InvitedBy, 10), CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
		if u, err := s.store.UserByID(r.Context(), inv.InvitedBy); err == nil && u.Name != "" {
			v.InviterName = u.Name
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": out})
}

// handleAcceptInvitation: POST /api/v1/me/invitations/{id}/accept. Only
// an invitation addressed to the caller's own address can be accepted
// (any other id is a 404); the caller becomes a member of the book, and
// their live connections reconnect to see it.
func (s *Server) handleAcceptInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := invitationID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.books.Accept(r.Context(), s.actor(r), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// handleDeclineInvitation: DELETE /api/v1/me/invitations/{id}. The
// invitation disappears for the caller; the book's managers keep seeing it
// as pending until it expires, so that declining does not tell them that
// an account has the address.
func (s *Server) handleDeclineInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := invitationID(r, "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	inv, err := s.store.DeclineInvitation(r.Context(), id, p.User.Email)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auth.Audit(r.Context(), bindery.AuditEvent{Action: bindery.AuditInvitationDeclined, ActorID: &p.User.ID, ClientAddr: c.Addr.String(),
		Target: bindery.UserTarget(p.User.ID), Detail: "book " + strconv.FormatInt(inv.BookID, 10) + ", invitation " + strconv.FormatInt(id, 10)})
	w.WriteHeader(http.StatusNoContent)
}
