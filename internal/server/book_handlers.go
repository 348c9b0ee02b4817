package server

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/manuscript"
)

// Metadata limits for edits through the API.
const (
	maxTitleLength = 500
	maxFieldLength = 10000
	maxListLength  = 100
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
	if err := checkMetadataInput(&md); err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.newBook(r, md.Title, "", func(b *bindery.Book) error {
		if err := s.books.Create(b.ID); err != nil {
			return err
		}
		return s.writeMetadata(r, b, md)
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, bookView{Book: b, Metadata: &md})
}

// newBook creates a book of the caller titled title, gives it its folder
// with folder, and audits it (detail: how it was made). No book exists
// without its folder: when folder fails, the row and whatever folder was
// made are removed again.
func (s *Server) newBook(r *http.Request, title, detail string, folder func(*bindery.Book) error) (*bindery.Book, error) {
	p, c := s.callerClient(r)
	now := s.now()
	b := &bindery.Book{OwnerID: p.User.ID, Title: title, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateBook(r.Context(), b); err != nil {
		return nil, err
	}
	if err := folder(b); err != nil {
		_ = s.store.DeleteBook(r.Context(), b.ID)
		_ = s.books.Remove(b.ID)
		return nil, err
	}
	s.auth.Audit(r.Context(), bookEvent(bindery.AuditBookCreated, p, c, b, detail))
	return b, nil
}

// writeMetadata stores md as the book's metadata.yaml (atomically, with
// the same checks as an upload) and mirrors the title in the database.
// An existing file is edited, not replaced: only the entries that change
// are rewritten, and the author's comments, order and layout stay
// (manuscript.EditMetadata).
func (s *Server) writeMetadata(r *http.Request, b *bindery.Book, md manuscript.Metadata) error {
	var src []byte
	f, _, err := s.books.Get(b.ID, bookfs.MetadataFile)
	switch {
	case err == nil:
		src, err = io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		if err != nil {
			return err
		}
	case bindery.ErrorCode(err) != bindery.ENOTFOUND:
		return err
	}
	data, err := manuscript.EditMetadata(src, md)
	if err != nil {
		return err
	}
	if _, err := s.books.Put(r.Context(), b.ID, bookfs.MetadataFile, bytes.NewReader(data)); err != nil {
		return err
	}
	if b.Title != md.Title {
		b.Title, b.UpdatedAt = md.Title, s.now()
		return s.store.UpdateBookTitle(r.Context(), b.ID, b.Title, b.UpdatedAt)
	}
	return nil
}

// checkMetadataInput trims and bounds metadata sent through the API.
func checkMetadataInput(md *manuscript.Metadata) error {
	md.Title = strings.TrimSpace(md.Title)
	if md.Title == "" || utf8.RuneCountInString(md.Title) > maxTitleLength {
		return bindery.Errorf(bindery.EINVALID, "A book needs a title of 1 to %d characters.", maxTitleLength)
	}
	// The title is shown in listings, the catalog and the OPDS feed: no
	// character that reorders or hides the text around it.
	if bad, found := bindery.TitleRune(md.Title); found {
		return bindery.Errorf(bindery.EINVALID, "A book's title may not contain %s: it would display as something else.", bindery.DescribeRune(bad))
	}
	if len(md.Authors) > maxListLength || len(md.Subjects) > maxListLength {
		return bindery.Errorf(bindery.EINVALID, "At most %d authors and %d subjects.", maxListLength, maxListLength)
	}
	for _, f := range []string{md.Subtitle, md.Language, md.Identifier, md.ISBN, md.Publisher, md.Date, md.Rights,
		md.Description, md.Cover, md.PDF.PageSize, md.PDF.FontFamily, md.PDF.FontSize, md.EPUB.CoverImage, md.EPUB.Stylesheet} {
		if len(f) > maxFieldLength || !utf8.ValidString(f) {
			return bindery.Errorf(bindery.EINVALID, "A metadata field is too long or not valid text.")
		}
	}
	return nil
}

// readMetadata returns the book's parsed metadata.yaml, or the problem.
func (s *Server) readMetadata(id int64) (*manuscript.Metadata, string, error) {
	f, _, err := s.books.Get(id, bookfs.MetadataFile)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return nil, "metadata.yaml is missing", nil
	} else if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, "", err
	}
	md, err := manuscript.ParseMetadata(data)
	if err != nil {
		return nil, err.Error(), nil
	}
	return &md, "", nil
}

// handleGetBook: GET /api/v1/books/{id}.
func (s *Server) handleGetBook(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	md, problem, err := s.readMetadata(b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	members, err := s.store.ListMembers(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := bookView{Book: b, Metadata: md, MetadataError: problem, Members: []memberView{}}
	for _, u := range members {
		v.Members = append(v.Members, viewMember(principal(r).User, u))
	}
	switch pub, err := s.store.Publication(r.Context(), b.ID); {
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
	md, problem, err := s.readMetadata(b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if md == nil {
		if problem != "metadata.yaml is missing" {
			s.writeError(w, r, bindery.Errorf(bindery.EUNPROCESSABLE, "The current metadata.yaml cannot be read (%s); upload a corrected file instead.", problem))
			return
		}
		md = &manuscript.Metadata{Title: b.Title}
	}
	if err := decodeJSON(w, r, md); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkMetadataInput(md); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.writeMetadata(r, b, *md); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	s.auth.Audit(r.Context(), bookEvent(bindery.AuditBookUpdated, p, c, b, "metadata"))
	writeJSON(w, http.StatusOK, bookView{Book: b, Metadata: md})
}

// handleDeleteBook: DELETE /api/v1/books/{id} (delete permission: admins).
func (s *Server) handleDeleteBook(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	if err := s.privacy.RemoveBook(r.Context(), b); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	s.auth.Audit(r.Context(), bookEvent(bindery.AuditBookDeleted, p, c, b, b.Title))
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
	if err := s.store.AddMember(r.Context(), b.ID, u.ID, s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	Disconnect(s.hub, auth.Revocation{UserID: u.ID}) // their sockets reconnect with the book
	_, c := s.callerClient(r)
	s.auth.Audit(r.Context(), memberEvent(bindery.AuditMemberAdded, p, c, b, u.ID, "added by an admin"))
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
	if err := s.store.RemoveMember(r.Context(), b.ID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	Disconnect(s.hub, auth.Revocation{UserID: id}) // their sockets still see the book's events
	p, c := s.callerClient(r)
	s.auth.Audit(r.Context(), memberEvent(bindery.AuditMemberRemoved, p, c, b, id, ""))
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

// memberEvent is an audit entry by p about member u of book b. The
// member is the target (by id, never by address), so that the entries
// about a person (bindery.AuditPerson) include being added to or removed
// from a book; the book is in the detail.
func memberEvent(action string, p *auth.Principal, c auth.Client, b *bindery.Book, userID int64, detail string) bindery.AuditEvent {
	d := "book " + strconv.FormatInt(b.ID, 10)
	if detail != "" {
		d += ", " + detail
	}
	e := bookEvent(action, p, c, b, d)
	e.Target = bindery.UserTarget(userID)
	return e
}
