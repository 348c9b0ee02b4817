package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/manuscript"
)

// bookView is a book as the API shows it.
type bookView struct {
	*bindery.Book
	Metadata      *manuscript.Metadata `json:"metadata,omitempty"`
	MetadataError string               `json:"metadata_error,omitempty"`
	Members       []memberView         `json:"members,omitempty"`
	// Published is the book's current edition, when it has one.
	Published *publishedView `json:"published,omitempty"`
}

// publishedView is what a book's page says of its edition.
type publishedView struct {
	RunID       int64     `json:"run_id"`
	PublishedAt time.Time `json:"published_at"`
	Files       []string  `json:"files"`
}

// memberView is a member as a book shows them. The address is shown only
// to admins and to the member themself: to everyone else a member is their
// display name, or "member #id" without one — the book's other members
// and its owner learn nothing they could use to find or name the account
// elsewhere.
type memberView struct {
	ID    int64        `json:"id"`
	Name  string       `json:"name"`
	Email string       `json:"email,omitempty"`
	Role  bindery.Role `json:"role"`
}

func viewMember(caller, u *bindery.User) memberView {
	v := memberView{ID: u.ID, Name: u.Name, Role: u.Role}
	if v.Name == "" {
		v.Name = "member #" + strconv.FormatInt(u.ID, 10)
	}
	if auth.IsAdmin(caller) || caller.ID == u.ID {
		v.Email = u.Email
	}
	return v
}

// handleListBooks: GET /api/v1/books — the books the caller can see.
func (s *Server) handleListBooks(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	books, err := s.store.ListBooks(r.Context(), p.User.ID, auth.IsAdmin(p.User))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"books": books})
}

// handleCreateBook: POST /api/v1/books {title, …metadata}. The caller owns
// the new book; its folder gets the standard layout and a metadata.yaml.
func (s *Server) handleCreateBook(w http.ResponseWriter, r *http.Request) {
	var md manuscript.Metadata
	if err := decodeJSON(w, r, &md); err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.books.Create(r.Context(), s.actor(r), md)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, bookView{Book: b, Metadata: &md})
}

// actor is the caller as the book service audits them.
func (s *Server) actor(r *http.Request) books.Actor {
	p, c := s.callerClient(r)
	return books.Actor{User: p.User, Client: c}
}

// handleGetBook: GET /api/v1/books/{id}.
func (s *Server) handleGetBook(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	md, problem, err := s.books.Metadata(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	members, err := s.books.Members(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := bookView{Book: b, Metadata: md, MetadataError: problem, Members: []memberView{}}
	for _, u := range members {
		v.Members = append(v.Members, viewMember(principal(r).User, u))
	}
	switch pub, err := s.books.Published(r.Context(), b.ID); {
	case err == nil:
		v.Published = &publishedView{RunID: pub.RunID, PublishedAt: pub.PublishedAt, Files: pub.Files}
	case bindery.ErrorCode(err) != bindery.ENOTFOUND:
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleUpdateBook: PATCH /api/v1/books/{id} with metadata fields. Fields
// absent from the body keep their value (a JSON merge into the current
// metadata.yaml, whose changed entries are then edited in place).
func (s *Server) handleUpdateBook(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	md, problem, err := s.books.Metadata(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if md == nil {
		if problem != books.MissingMetadata {
			s.writeError(w, r, bindery.Errorf(bindery.EUNPROCESSABLE, "The current metadata.yaml cannot be read (%s); upload a corrected file instead.", problem))
			return
		}
		md = &manuscript.Metadata{Title: b.Title}
	}
	if err := decodeJSON(w, r, md); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.books.SetMetadata(r.Context(), s.actor(r), b, md); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, bookView{Book: b, Metadata: md})
}

// handleDeleteBook: DELETE /api/v1/books/{id} (delete permission: admins).
func (s *Server) handleDeleteBook(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	if err := s.books.Delete(r.Context(), s.actor(r), b, b.Title); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// managedBook returns the book of an OnBook route if the caller manages
// it (its owner or an admin), else EFORBIDDEN.
func managedBook(r *http.Request) (*bindery.Book, error) {
	b, p := bookOf(r), principal(r)
	if !auth.ManagesBook(p.User, b) {
		return nil, bindery.Errorf(bindery.EFORBIDDEN, "Only the book's owner or an admin can change its members.")
	}
	return b, nil
}

// memberID parses {userID}; a malformed one is ENOTFOUND like any other.
func memberID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("userID"), 10, 64)
	if err != nil || id <= 0 {
		return 0, bindery.Errorf(bindery.ENOTFOUND, "That user is not a member of this book.")
	}
	return id, nil
}

// handleAddMember: PUT /api/v1/books/{id}/members/{userID} — admins only.
// Adding an account by id answered differently for accounts that exist
// and those that do not, and added people without their consent: a
// book's owner invites by e-mail address instead (handleInvite). Admins,
// who list every account anyway, may still add one directly.
func (s *Server) handleAddMember(w http.ResponseWriter, r *http.Request) {
	b, p := bookOf(r), principal(r)
	if !auth.IsAdmin(p.User) {
		s.writeError(w, r, bindery.Errorf(bindery.EFORBIDDEN, "Invite people by e-mail address instead; only admins add accounts directly."))
		return
	}
	id, err := memberID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.store.UserByID(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.books.AddMember(r.Context(), s.actor(r), b, u.ID, "added by an admin"); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRemoveMember: DELETE /api/v1/books/{id}/members/{userID}, by the
// book's owner or an admin. The account is not looked up: whether it
// exists or is merely not a member, the answer is the same 404.
func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	b, err := managedBook(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := memberID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.books.RemoveMember(r.Context(), s.actor(r), b, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// bookEvent is an audit entry by p about book b.
func bookEvent(action string, p *auth.Principal, c auth.Client, b *bindery.Book, detail string) bindery.AuditEvent {
	e := bindery.AuditEvent{Action: action, ActorID: &p.User.ID, Target: "book " + strconv.FormatInt(b.ID, 10), Detail: detail}
	if c.Addr.IsValid() {
		e.ClientAddr = c.Addr.String()
	}
	return e
}
