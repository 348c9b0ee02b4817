package privacy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
)

// ExportFormat versions the layout of an export, so that scripts reading
// it can tell.
const ExportFormat = "bindery-export/1"

// Export is account.json in an export: everything held about a person,
// apart from the contents of their books, which sit beside it in the zip.
//
// Secrets are never exported, not even to their owner: password hash,
// session and token hashes, the TOTP secret and recovery-code hashes. Their
// existence and metadata are.
type Export struct {
	Format     string          `json:"format"`
	ExportedAt time.Time       `json:"exported_at"`
	Account    *bindery.User   `json:"account"`
	TwoFactor  exportTwoFactor `json:"two_factor"`
	Sessions   []exportSession `json:"sessions"`
	APITokens  []exportToken   `json:"api_tokens"`
	Books      []exportBook    `json:"books"` // owned or member of
	// Invitations to the account's address, not yet accepted nor declined.
	Invitations []exportInvitation    `json:"invitations"`
	Audit       []*bindery.AuditEvent `json:"audit_events"`
}

type exportTwoFactor struct {
	Enabled       bool       `json:"enabled"`
	EnabledAt     *time.Time `json:"enabled_at,omitempty"`
	RecoveryCodes int        `json:"recovery_codes_left"`
}

type exportSession struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	ClientAddr string    `json:"client_addr"`
	UserAgent  string    `json:"user_agent"`
}

type exportToken struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

type exportInvitation struct {
	ID        int64     `json:"id"`
	BookID    int64     `json:"book_id"`
	BookTitle string    `json:"book_title"`
	InvitedBy int64     `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

type exportBook struct {
	ID       int64       `json:"id"`
	Title    string      `json:"title"`
	Relation string      `json:"relation"`        // "owner" or "member"
	Files    []string    `json:"files,omitempty"` // paths in the zip (owned books)
	Runs     []exportRun `json:"runs,omitempty"`
}

type exportRun struct {
	ID        int64     `json:"id"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	Artifacts []string  `json:"artifacts,omitempty"` // paths in the zip
}

// maxAuditExport bounds the audit entries in one export (the newest are
// kept); the audit retention keeps the log itself bounded too.
const maxAuditExport = 100_000

// WriteExport writes the zip of everything held about u to w: account.json
// (see Export) and, for each book u owns, its source files under
// books/<id>/source/ and its runs' artifacts under books/<id>/runs/<run>/.
// Books u is only a member of are listed, not copied: they are somebody
// else's work.
func (s *Service) WriteExport(ctx context.Context, u *bindery.User, w io.Writer) error {
	ex := Export{Format: ExportFormat, ExportedAt: s.d.Now().UTC(), Account: u, Sessions: []exportSession{}, APITokens: []exportToken{}, Books: []exportBook{}}
	tf, err := s.d.Store.TwoFactorOf(ctx, u.ID)
	if err != nil {
		return err
	}
	ex.TwoFactor = exportTwoFactor{Enabled: tf.EnabledAt != nil, EnabledAt: tf.EnabledAt, RecoveryCodes: tf.RecoveryCodes}
	sessions, err := s.d.Store.ListSessions(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, x := range sessions {
		ex.Sessions = append(ex.Sessions, exportSession{ID: x.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt, ClientAddr: x.ClientAddr, UserAgent: x.UserAgent})
	}
	tokens, err := s.d.Store.ListAPITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		ex.APITokens = append(ex.APITokens, exportToken{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt})
	}
	invitations, err := s.d.Store.InvitationsFor(ctx, u.Email, ex.ExportedAt)
	if err != nil {
		return err
	}
	ex.Invitations = []exportInvitation{}
	for _, inv := range invitations {
		ex.Invitations = append(ex.Invitations, exportInvitation{ID: inv.ID, BookID: inv.BookID, BookTitle: inv.BookTitle, InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt})
	}
	if ex.Audit, err = s.auditAbout(ctx, u); err != nil {
		return err
	}

	zw := zip.NewWriter(w)
	books, err := s.d.Store.ListBooks(ctx, u.ID, false)
	if err != nil {
		return err
	}
	for _, b := range books {
		eb := exportBook{ID: b.ID, Title: b.Title, Relation: "member"}
		if b.OwnerID == u.ID {
			eb.Relation = "owner"
			if err := s.exportBook(ctx, zw, b, &eb); err != nil {
				return err
			}
		}
		ex.Books = append(ex.Books, eb)
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "account.json", Method: zip.Deflate, Modified: ex.ExportedAt})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ex); err != nil {
		return err
	}
	return zw.Close()
}

// exportBook copies an owned book's files and artifacts into the zip.
func (s *Service) exportBook(ctx context.Context, zw *zip.Writer, b *bindery.Book, eb *exportBook) error {
	base := fmt.Sprintf("books/%d", b.ID)
	files, err := s.d.Library.Files(ctx, b.ID)
	if err != nil {
		return err
	}
	for _, fi := range files {
		name := path.Join(base, "source", fi.Path)
		if err := s.copyIn(zw, name, func() (io.ReadCloser, error) {
			f, _, err := s.d.Library.Open(ctx, b.ID, fi.Path)
			return f, err
		}); err != nil {
			return err
		}
		eb.Files = append(eb.Files, name)
	}
	runs, err := s.d.Store.ListRuns(ctx, b.ID, 0)
	if err != nil {
		return err
	}
	for _, r := range runs {
		er := exportRun{ID: r.ID, State: string(r.State), CreatedAt: r.CreatedAt}
		dir := s.d.ArtifactsDir(r.ID)
		open := func(a string) (io.ReadCloser, error) {
			f, _, err := bookfs.OpenPlain(dir, a)
			return f, err
		}
		names := bookfs.ListPlain(dir)
		if len(names) == 0 && s.d.Outputs != nil {
			// Built on another node: the copies in shared storage.
			for info, err := range s.d.Outputs.List(ctx, blob.RunPrefix(r.ID)) {
				if err != nil {
					return err
				}
				names = append(names, strings.TrimPrefix(info.Key, blob.RunPrefix(r.ID)))
			}
			open = func(a string) (io.ReadCloser, error) {
				obj, _, err := s.d.Outputs.Open(ctx, blob.RunKey(r.ID, a))
				return obj, err
			}
		}
		for _, a := range names {
			name := path.Join(base, "runs", fmt.Sprint(r.ID), a)
			if err := s.copyIn(zw, name, func() (io.ReadCloser, error) { return open(a) }); err != nil {
				return err
			}
			er.Artifacts = append(er.Artifacts, name)
		}
		eb.Runs = append(eb.Runs, er)
	}
	return ctx.Err()
}

func (s *Service) copyIn(zw *zip.Writer, name string, open func() (io.ReadCloser, error)) error {
	r, err := open()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: s.d.Now()})
	if err != nil {
		return err
	}
	_, err = io.Copy(w, r)
	return err
}

// auditAbout returns the audit entries about u — as actor, as target, or
// as the claimed account of failed sign-ins — oldest first.
func (s *Service) auditAbout(ctx context.Context, u *bindery.User) ([]*bindery.AuditEvent, error) {
	who := &bindery.AuditPerson{UserID: u.ID}
	if s.d.Pseudonyms != nil {
		who.Subjects = s.d.Pseudonyms(u.Email)
	}
	out := []*bindery.AuditEvent{}
	err := s.d.Store.EachAudit(ctx, bindery.AuditFilter{About: who}, func(e *bindery.AuditEvent) error {
		if len(out) >= maxAuditExport {
			return errEnough
		}
		out = append(out, e)
		return nil
	})
	if err == errEnough {
		err = nil
	}
	return out, err
}

var errEnough = errors.New("enough")
