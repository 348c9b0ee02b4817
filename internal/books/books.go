// Package books is the one owner of a book in the code: its row, its
// folder and metadata.yaml, its files, its members, its published
// edition, its source archive, the audit entries of all of these, and its
// deletion. The HTTP handlers, the pipeline and privacy all call this
// Service; none of them touches a book's row and folder together, and
// none undoes half of a change by hand.
//
// How each change stays whole:
//   - a new book's folder is staged in full (bookfs.Staged) and moved into
//     place inside the transaction that inserts its row
//     (BookStore.CreateBookWith): the row commits only if the folder is in
//     place, and a folder whose row did not commit is an orphan that the
//     start-up reconciliation removes (privacy.Reconcile);
//   - a deletion removes files first and the row last, so that a crash
//     leaves a book that is still listed and can be deleted again;
//   - metadata.yaml is edited in its YAML node tree (manuscript.EditMetadata)
//     and written atomically, like every file (bookfs.Store.Put).
package books

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/manuscript"
)

// Metadata limits for edits through the API.
const (
	maxTitleLength = 500
	maxFieldLength = 10000
	maxListLength  = 100
	// maxMetadataBytes bounds a metadata.yaml read to show or edit it;
	// uploads are bounded by the book's file limit already.
	maxMetadataBytes = 1 << 20
)

// Auditor records audit entries (auth.Service).
type Auditor interface {
	Audit(ctx context.Context, e bindery.AuditEvent)
}

// Deps are what the Service works with.
type Deps struct {
	Store bindery.Store
	Files *bookfs.Store
	// Shared, when book files live in shared storage (several nodes),
	// keeps Files in step with it: synced before every read and change
	// of a book, every change pushed. nil on a single node.
	Shared  *bookfs.Shared
	Catalog *catalog.Catalog // the published editions
	Audit   Auditor
	// ArtifactsDir names the folder of a run's artifacts (the pipeline's).
	ArtifactsDir func(runID int64) string
	// Outputs is the shared storage of runs' artifacts (blob.RunKey)
	// when nodes share storage; nil on a single node.
	Outputs blob.Store
	// Emit stores and fans out an event of a book (book_published).
	Emit func(ctx context.Context, ev *bindery.Event)
	// Disconnect closes a user's live connections, so that they reconnect
	// with their new set of books after a membership change.
	Disconnect func(userID int64)
	// Deleted tells the other nodes that book id is gone, so that they
	// remove their copies of its files and outputs at once (nil: one
	// node, nothing to tell).
	Deleted func(id int64)
	Logger  *slog.Logger
	Now     func() time.Time
}

// Service is the book service.
type Service struct{ d Deps }

// New returns a Service.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Emit == nil {
		d.Emit = func(context.Context, *bindery.Event) {}
	}
	if d.Disconnect == nil {
		d.Disconnect = func(int64) {}
	}
	if d.Deleted == nil {
		d.Deleted = func(int64) {}
	}
	return &Service{d: d}
}

// Actor is who asks for a change, as the audit log records them.
type Actor struct {
	User   *bindery.User
	Client auth.Client
}

// event is an audit entry by a about book b.
func (a Actor) event(action string, b *bindery.Book, detail string) bindery.AuditEvent {
	e := bindery.AuditEvent{Action: action, Target: "book " + strconv.FormatInt(b.ID, 10), Detail: detail}
	if a.User != nil {
		e.ActorID = &a.User.ID
	}
	if a.Client.Addr.IsValid() {
		e.ClientAddr = a.Client.Addr.String()
	}
	return e
}

// memberEvent is an audit entry by a about member userID of book b. The
// member is the target (by id, never by address), so that the entries
// about a person (bindery.AuditPerson) include being added to or removed
// from a book; the book is in the detail.
func (a Actor) memberEvent(action string, b *bindery.Book, userID int64, detail string) bindery.AuditEvent {
	d := "book " + strconv.FormatInt(b.ID, 10)
	if detail != "" {
		d += ", " + detail
	}
	e := a.event(action, b, d)
	e.Target = bindery.UserTarget(userID)
	return e
}

// Limits are the limits of a book's files.
func (s *Service) Limits() bookfs.Limits { return s.d.Files.Limits() }

// ---- shared storage --------------------------------------------------------

// hold brings book id's folder in step with shared storage and keeps it
// so (this node's other changes of the book wait) until the returned
// function is called. On a single node it does nothing.
func (s *Service) hold(ctx context.Context, id int64) (release func(), err error) {
	if s.d.Shared == nil {
		return func() {}, nil
	}
	unlock := s.d.Shared.Lock(id)
	if err := s.d.Shared.Sync(ctx, id); err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}

// fresh brings book id's folder in step with shared storage, for a read.
func (s *Service) fresh(ctx context.Context, id int64) error {
	release, err := s.hold(ctx, id)
	if err == nil {
		release()
	}
	return err
}

// pushed shares files of book id just written here (the caller holds
// the book). When that fails, the local write is undone too (discard):
// the caller reports the change as failed, and so it must be.
func (s *Service) pushed(ctx context.Context, id int64, names ...string) error {
	if s.d.Shared == nil {
		return nil
	}
	err := s.d.Shared.Push(ctx, id, names...)
	if err != nil {
		s.discard(id, names...)
	}
	return err
}

// discard undoes local changes of book id's files that shared storage
// refused (bookfs.Shared.Discard); the caller holds the book.
func (s *Service) discard(id int64, names ...string) {
	if err := s.d.Shared.Discard(id, names...); err != nil {
		s.d.Logger.Error("undoing a change that shared storage refused failed; this node shares it at its next sync of the book", "book_id", id, "err", err)
	}
}

// Sync brings book id's folder in step with shared storage (nothing to
// do on a single node): a run calls it before it reads the book from Dir.
func (s *Service) Sync(ctx context.Context, id int64) error { return s.fresh(ctx, id) }

// Dir is book id's folder, which builds read (through an os.Root) after
// Sync.
func (s *Service) Dir(id int64) string { return s.d.Files.Dir(id) }

// ---- creation -------------------------------------------------------------

// Create makes a new book owned by a with the standard folder layout and a
// metadata.yaml written from md (checked with CheckMetadata first).
func (s *Service) Create(ctx context.Context, a Actor, md manuscript.Metadata) (*bindery.Book, error) {
	if err := CheckMetadata(&md); err != nil {
		return nil, err
	}
	st, err := s.d.Files.NewStage()
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	data, err := manuscript.EditMetadata(nil, md)
	if err != nil {
		return nil, err
	}
	if _, err := st.Put(ctx, bookfs.MetadataFile, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	return s.create(ctx, a, md.Title, "", st)
}

// Imported is a book made from an archive.
type Imported struct {
	Book     *bindery.Book
	Metadata manuscript.Metadata
	Files    []bookfs.File
	Skipped  []string // entries that are not book files
}

// Import makes a new book owned by a from a .zip or .tar.gz of a book
// folder. The archive is unpacked and checked entry by entry into a
// hidden staging folder (bookfs.Stage: the rules of single uploads, real
// inflated sizes, no links or devices); only then is the book created.
// Nothing is left of a refused archive.
func (s *Service) Import(ctx context.Context, a Actor, archive io.Reader) (*Imported, error) {
	st, err := s.d.Files.Stage(ctx, archive)
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	data, err := st.ReadFile(bookfs.MetadataFile)
	if err != nil {
		return nil, bindery.Errorf(bindery.EUNPROCESSABLE, "The archive holds no metadata.yaml at the top of the book folder.")
	}
	md, err := manuscript.ParseMetadata(data)
	if err != nil {
		return nil, bindery.Errorf(bindery.EUNPROCESSABLE, "metadata.yaml: %s", err)
	}
	if err := CheckMetadata(&md); err != nil {
		return nil, bindery.Errorf(bindery.EUNPROCESSABLE, "metadata.yaml: %s", bindery.ErrorMessage(err))
	}
	b, err := s.create(ctx, a, md.Title, "imported, "+strconv.Itoa(len(st.Files))+" files", st)
	if err != nil {
		return nil, err
	}
	return &Imported{Book: b, Metadata: md, Files: st.Files, Skipped: st.Skipped}, nil
}

// create inserts the row of a new book of a and moves the staged folder
// into place in the same transaction, then audits it (detail: how it was
// made).
func (s *Service) create(ctx context.Context, a Actor, title, detail string, st *bookfs.Staged) (*bindery.Book, error) {
	now := s.d.Now()
	b := &bindery.Book{OwnerID: a.User.ID, Title: title, CreatedAt: now, UpdatedAt: now}
	if err := s.d.Store.CreateBookWith(ctx, b, func(b *bindery.Book) error { return st.Commit(b.ID) }); err != nil {
		return nil, err
	}
	if s.d.Shared != nil {
		// After the commit: the rows need the book's. A failure loses
		// nothing: the files are in this node's folder, and its next
		// Sync of the book pushes what was not.
		unlock := s.d.Shared.Lock(b.ID)
		err := s.d.Shared.PushAll(ctx, b.ID)
		unlock()
		if err != nil {
			s.d.Logger.Error("sharing a new book's files failed; they stay on this node until its next sync of the book", "book_id", b.ID, "err", err)
		}
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditBookCreated, b, detail))
	return b, nil
}

// ---- metadata -------------------------------------------------------------

// CheckMetadata trims and bounds metadata sent through the API.
func CheckMetadata(md *manuscript.Metadata) error {
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

// MissingMetadata is the problem Metadata reports for a book without a
// metadata.yaml.
const MissingMetadata = "metadata.yaml is missing"

// Metadata returns book id's parsed metadata.yaml; when it cannot be
// parsed, md is nil and problem says why (MissingMetadata, or the parse
// error at its line). err is for failures to read at all.
func (s *Service) Metadata(ctx context.Context, id int64) (md *manuscript.Metadata, problem string, err error) {
	if err := s.fresh(ctx, id); err != nil {
		return nil, "", err
	}
	return s.metadata(id)
}

// metadata is Metadata of the folder as it is on this node.
func (s *Service) metadata(id int64) (md *manuscript.Metadata, problem string, err error) {
	data, err := s.readMetadata(id)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return nil, MissingMetadata, nil
	} else if err != nil {
		return nil, "", err
	}
	m, err := manuscript.ParseMetadata(data)
	if err != nil {
		return nil, err.Error(), nil
	}
	return &m, "", nil
}

// readMetadata returns the bytes of book id's metadata.yaml (ENOTFOUND
// when it has none).
func (s *Service) readMetadata(id int64) ([]byte, error) {
	f, _, err := s.d.Files.Get(id, bookfs.MetadataFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxMetadataBytes))
}

// SetMetadata makes md (checked with CheckMetadata) book b's metadata, by
// a. An existing metadata.yaml is edited, not replaced: only the entries
// that change are rewritten, and the author's comments, order and layout
// stay (manuscript.EditMetadata). The title is mirrored in the book's row.
func (s *Service) SetMetadata(ctx context.Context, a Actor, b *bindery.Book, md *manuscript.Metadata) error {
	if err := CheckMetadata(md); err != nil {
		return err
	}
	release, err := s.hold(ctx, b.ID)
	if err != nil {
		return err
	}
	defer release()
	if err := s.writeMetadata(ctx, b, *md); err != nil {
		return err
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditBookUpdated, b, "metadata"))
	return nil
}

// writeMetadata edits book b's metadata.yaml to say md; the caller holds
// the book.
func (s *Service) writeMetadata(ctx context.Context, b *bindery.Book, md manuscript.Metadata) error {
	src, err := s.readMetadata(b.ID)
	if err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
		return err
	}
	data, err := manuscript.EditMetadata(src, md)
	if err != nil {
		return err
	}
	if _, err := s.d.Files.Put(ctx, b.ID, bookfs.MetadataFile, bytes.NewReader(data)); err != nil {
		return err
	}
	if err := s.pushed(ctx, b.ID, bookfs.MetadataFile); err != nil {
		return err
	}
	if b.Title != md.Title {
		b.Title, b.UpdatedAt = md.Title, s.d.Now()
		return s.d.Store.UpdateBookTitle(ctx, b.ID, b.Title, b.UpdatedAt)
	}
	return nil
}

// SetCover stores image data as book b's cover under name and points
// metadata.yaml at it (md is the book's metadata as the caller holds it,
// e.g. a run's parse; it is returned with the cover set). One entry of
// the author's file changes; the rest stays as written.
func (s *Service) SetCover(ctx context.Context, b *bindery.Book, md manuscript.Metadata, name string, data []byte) (manuscript.Metadata, error) {
	release, err := s.hold(ctx, b.ID)
	if err != nil {
		return md, err
	}
	defer release()
	if _, err := s.d.Files.Put(ctx, b.ID, name, bytes.NewReader(data)); err != nil {
		return md, err
	}
	if err := s.pushed(ctx, b.ID, name); err != nil {
		return md, err
	}
	md.Cover = name
	return md, s.writeMetadata(ctx, b, md)
}

// ---- files ----------------------------------------------------------------

// Root opens book id's folder for reading (previews): an os.Root
// confined to it. The caller closes it.
func (s *Service) Root(ctx context.Context, id int64) (*os.Root, error) {
	if err := s.fresh(ctx, id); err != nil {
		return nil, err
	}
	return s.d.Files.Open(id)
}

// Files lists book id's files.
func (s *Service) Files(ctx context.Context, id int64) ([]bookfs.File, error) {
	if err := s.fresh(ctx, id); err != nil {
		return nil, err
	}
	return s.d.Files.List(id)
}

// Hashes maps every file of book id to the SHA-256 of its bytes.
func (s *Service) Hashes(ctx context.Context, id int64) (map[string]string, error) {
	if err := s.fresh(ctx, id); err != nil {
		return nil, err
	}
	return s.d.Files.Hashes(ctx, id)
}

// Open opens a file of book id for reading.
func (s *Service) Open(ctx context.Context, id int64, name string) (*os.File, bookfs.File, error) {
	if err := s.fresh(ctx, id); err != nil {
		return nil, bookfs.File{}, err
	}
	return s.d.Files.Get(id, name)
}

// ErrUploadAborted is returned by PutFile when the body ended early (the
// client went away or cancelled): nothing was stored.
var ErrUploadAborted = bindery.Errorf(bindery.EINVALID, "The upload ended before the file was complete; nothing was stored.")

// PutFile stores body as file name of book b (checked as its type
// requires, atomically), by a. A new metadata.yaml also renames the book
// (unless its title carries a character that reorders or hides text) and
// moves back files an automatic placement put elsewhere than it names.
//
// With shared storage the book is brought in step first, but not held
// while the body streams in (a slow client would hold up every read of
// the book on this node): only the push and what follows it are. A sync
// meanwhile pushes the new file itself, or replaces it with a version
// another node wrote after it — the last written wins, as on one node.
func (s *Service) PutFile(ctx context.Context, a Actor, b *bindery.Book, name string, body io.Reader) (bookfs.File, error) {
	if err := s.fresh(ctx, b.ID); err != nil {
		return bookfs.File{}, err
	}
	f, err := s.d.Files.Put(ctx, b.ID, name, body)
	var aborted *bookfs.AbortError
	if errors.As(err, &aborted) {
		// An abort, logged as such, not an internal error.
		s.d.Logger.Info("upload aborted by the client", "book_id", b.ID, "file", name)
		return f, ErrUploadAborted
	}
	if err != nil {
		return f, err
	}
	if s.d.Shared != nil {
		unlock := s.d.Shared.Lock(b.ID)
		defer unlock()
	}
	if err := s.pushed(ctx, b.ID, name); err != nil {
		return f, err
	}
	if name == bookfs.MetadataFile {
		md, _, err := s.metadata(b.ID)
		if err == nil && md != nil {
			if md.Title != "" && md.Title != b.Title {
				if _, bad := bindery.TitleRune(md.Title); !bad {
					b.Title, b.UpdatedAt = md.Title, s.d.Now()
					if err := s.d.Store.UpdateBookTitle(ctx, b.ID, b.Title, b.UpdatedAt); err != nil {
						return f, err
					}
				}
			}
			s.unplace(ctx, b.ID, md)
		}
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditFileWritten, b, name))
	return f, nil
}

// DeleteFile removes file name of book b, by a.
func (s *Service) DeleteFile(ctx context.Context, a Actor, b *bindery.Book, name string) error {
	release, err := s.hold(ctx, b.ID)
	if err != nil {
		return err
	}
	defer release()
	if err := s.d.Files.Delete(b.ID, name); err != nil {
		return err
	}
	if s.d.Shared != nil {
		if err := s.d.Shared.Forget(ctx, b.ID, name); err != nil {
			s.discard(b.ID, name) // the next sync puts the file back
			return err
		}
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditFileDeleted, b, name))
	return nil
}

// ExportSource writes book id's folder to w as a zip; importing it gives
// the same folder byte for byte.
func (s *Service) ExportSource(ctx context.Context, id int64, w io.Writer) error {
	if err := s.fresh(ctx, id); err != nil {
		return err
	}
	return s.d.Files.WriteZip(ctx, id, w)
}

// ---- members --------------------------------------------------------------

// Members lists the members of book id.
func (s *Service) Members(ctx context.Context, id int64) ([]*bindery.User, error) {
	return s.d.Store.ListMembers(ctx, id)
}

// AddMember makes userID a member of book b, by a (detail: how, for the
// audit log). Their live connections reconnect to see the book's events.
func (s *Service) AddMember(ctx context.Context, a Actor, b *bindery.Book, userID int64, detail string) error {
	if err := s.d.Store.AddMember(ctx, b.ID, userID, s.d.Now()); err != nil {
		return err
	}
	s.d.Disconnect(userID)
	s.d.Audit.Audit(ctx, a.memberEvent(bindery.AuditMemberAdded, b, userID, detail))
	return nil
}

// RemoveMember removes userID from book b, by a. Their live connections
// close, so that they stop seeing the book's events at once.
func (s *Service) RemoveMember(ctx context.Context, a Actor, b *bindery.Book, userID int64) error {
	if err := s.d.Store.RemoveMember(ctx, b.ID, userID); err != nil {
		return err
	}
	s.d.Disconnect(userID)
	s.d.Audit.Audit(ctx, a.memberEvent(bindery.AuditMemberRemoved, b, userID, ""))
	return nil
}

// ---- publication ----------------------------------------------------------

// Published returns book id's current edition, or ENOTFOUND.
func (s *Service) Published(ctx context.Context, id int64) (*bindery.Publication, error) {
	return s.d.Store.Publication(ctx, id)
}

// Publish makes run runID of book b its published edition, by a. Only a
// run of this book whose quality stage passed and which is not a draft
// can be published (catalog.Catalog.PublishRun, which audits it).
func (s *Service) Publish(ctx context.Context, a Actor, b *bindery.Book, runID int64) (*bindery.Publication, error) {
	run, err := s.d.Store.RunByID(ctx, runID)
	if err != nil || run.BookID != b.ID {
		return nil, bindery.Errorf(bindery.ENOTFOUND, "Run not found.")
	}
	pub, err := s.PublishRun(ctx, run, a.User.ID, nil)
	if err != nil {
		return nil, err
	}
	s.d.Emit(context.WithoutCancel(ctx), &bindery.Event{Type: bindery.EventBookPublished, RunID: run.ID, BookID: run.BookID})
	return pub, nil
}

// PublishRun publishes run (of its book) by user by, with the pipeline's
// commit point (catalog.Catalog.PublishRun, which audits it). The caller
// emits book_published: the pipeline does, under its run's lease.
func (s *Service) PublishRun(ctx context.Context, run *bindery.Run, by int64, commit func(context.Context) error) (*bindery.Publication, error) {
	if err := s.fresh(ctx, run.BookID); err != nil { // the catalog reads metadata.yaml and the cover
		return nil, err
	}
	return s.d.Catalog.PublishRun(ctx, run.ID, by, commit)
}

// ---- ownership and deletion ----------------------------------------------

// Transfer gives book b of owner from to heir, by a (when from's account
// is deleted).
func (s *Service) Transfer(ctx context.Context, a Actor, b *bindery.Book, from, heir *bindery.User) error {
	if err := s.d.Store.TransferBook(ctx, b.ID, heir.ID, s.d.Now()); err != nil {
		return err
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditBookUpdated, b, fmt.Sprintf("transferred from user:%d to user:%d", from.ID, heir.ID)))
	return nil
}

// Delete deletes book b everywhere, by a (detail: why, for the audit
// log): its runs' artifacts, its published edition, its folder, then its
// rows (runs, events, members and publication cascade). Files go first:
// if the process dies half-way, the book is still listed and can be
// deleted again, rather than files left behind that nothing points to.
func (s *Service) Delete(ctx context.Context, a Actor, b *bindery.Book, detail string) error {
	if err := s.Remove(ctx, b); err != nil {
		return err
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditBookDeleted, b, detail))
	return nil
}

// Remove is Delete without the audit entry: for finishing a deletion a
// crash interrupted (audited when it began).
func (s *Service) Remove(ctx context.Context, b *bindery.Book) error {
	runs, err := s.d.Store.RunIDsOfBook(ctx, b.ID)
	if err != nil {
		return err
	}
	for _, id := range runs {
		if err := removeAll(s.d.ArtifactsDir(id)); err != nil {
			return fmt.Errorf("artifacts of run %d: %w", id, err)
		}
		if s.d.Outputs != nil {
			if err := blob.DeletePrefix(ctx, s.d.Outputs, blob.RunPrefix(id)); err != nil {
				return fmt.Errorf("artifacts of run %d: %w", id, err)
			}
		}
	}
	if err := s.d.Catalog.RemoveEditions(ctx, b.ID); err != nil {
		return fmt.Errorf("published copy of book %d: %w", b.ID, err)
	}
	if err := s.d.Files.Remove(b.ID); err != nil {
		return fmt.Errorf("folder of book %d: %w", b.ID, err)
	}
	if s.d.Shared != nil {
		if err := s.d.Shared.RemoveBook(ctx, b.ID); err != nil {
			return fmt.Errorf("shared files of book %d: %w", b.ID, err)
		}
	}
	if err := s.d.Store.DeleteBook(ctx, b.ID); err != nil {
		return err
	}
	s.d.Deleted(b.ID)
	return nil
}

func removeAll(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
