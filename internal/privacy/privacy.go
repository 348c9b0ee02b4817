// Package privacy carries out people's rights over their data (GDPR
// articles 15, 17 and 20): an export of everything Bindery holds about a
// person, and the deletion of their account, with their books transferred
// or deleted as they choose.
//
// It also owns the deletion of a book, because a book's data is spread
// over the database, its folder, its runs' artifacts and its published
// copy, and deleting it anywhere (a request, an account deletion) must
// remove every piece.
package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/books"
)

// Deps are what the Service needs.
type Deps struct {
	Store bindery.Store
	Auth  *auth.Service
	Books *bookfs.Store
	// Library reads and deletes books (books.Service: files, edition,
	// rows; in step with shared storage).
	Library *books.Service
	// ArtifactsDir and PublishedDir name the folders of a run's artifacts
	// and of a book's published copy.
	ArtifactsDir func(runID int64) string
	PublishedDir func(bookID int64) string
	// Outputs is the shared storage of runs' artifacts (blob.RunKey)
	// when nodes share storage; nil on a single node.
	Outputs blob.Store
	// Pseudonyms returns the audit log's pseudonyms of an address (under
	// the current and previous keys), to find the failed sign-ins that
	// claimed it.
	Pseudonyms func(email string) []string
	Logger     *slog.Logger
	Now        func() time.Time
}

// Service exports and deletes.
type Service struct{ d Deps }

// New returns a Service.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}
}

// BooksPlan says what happens to the books a deleted account owns: given
// to another user (TransferTo, a user id), or deleted. With neither, an
// account that owns books is not deleted.
type BooksPlan struct {
	TransferTo int64
	Delete     bool
}

// ownedBooks returns the books u owns.
func (s *Service) ownedBooks(ctx context.Context, u *bindery.User) ([]*bindery.Book, error) {
	all, err := s.d.Store.ListBooks(ctx, u.ID, false)
	if err != nil {
		return nil, err
	}
	var out []*bindery.Book
	for _, b := range all {
		if b.OwnerID == u.ID {
			out = append(out, b)
		}
	}
	return out, nil
}

// DeleteAccount deletes u's account after dealing with the books u owns as
// plan says. actor is u when people delete themselves (the caller has
// re-authenticated them), an admin, or nil for the command line.
//
// Afterwards nothing holds u's e-mail address or name: the account row
// (where they were encrypted) is gone and overwritten (secure_delete), the
// write-ahead log is checkpointed, sessions, tokens, memberships and
// recovery codes are deleted with it, and the audit log refers to people
// only by id or pseudonym.
func (s *Service) DeleteAccount(ctx context.Context, actor, u *bindery.User, plan BooksPlan, c auth.Client) error {
	if err := s.d.Auth.CheckDeletable(ctx, u); err != nil {
		return err
	}
	owned, err := s.ownedBooks(ctx, u)
	if err != nil {
		return err
	}
	var heir *bindery.User
	switch {
	case len(owned) == 0:
	case plan.TransferTo != 0 && plan.Delete:
		return bindery.Errorf(bindery.EINVALID, "Choose either to transfer the books or to delete them, not both.")
	case plan.TransferTo != 0:
		if plan.TransferTo == u.ID {
			return bindery.Errorf(bindery.EINVALID, "The books cannot be transferred to the account being deleted.")
		}
		if heir, err = s.d.Store.UserByID(ctx, plan.TransferTo); bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return bindery.Errorf(bindery.EUNPROCESSABLE, "The user to transfer the books to does not exist.")
		} else if err != nil {
			return err
		}
		if !heir.Role.Can(bindery.PermWrite) {
			return bindery.Errorf(bindery.EUNPROCESSABLE, "Books can only be transferred to a user who may write (author, editor or admin).")
		}
	case !plan.Delete:
		return bindery.Errorf(bindery.ECONFLICT, "This account owns %d book(s): say whether to transfer them to another user or to delete them.", len(owned))
	}
	for _, b := range owned {
		if heir != nil {
			if err := s.d.Library.Transfer(ctx, books.Actor{User: actor, Client: c}, b, u, heir); err != nil {
				return err
			}
			continue
		}
		if err := s.d.Library.Delete(ctx, books.Actor{User: actor, Client: c}, b, fmt.Sprintf("with the account user:%d", u.ID)); err != nil {
			return err
		}
	}
	if err := s.d.Auth.DeleteAccount(ctx, actor, u, c); err != nil {
		return err
	}
	if cp, ok := s.d.Store.(interface{ Checkpoint(context.Context) error }); ok {
		if err := cp.Checkpoint(ctx); err != nil {
			s.d.Logger.Warn("write-ahead log not checkpointed after an account deletion; it will be at the next automatic checkpoint", "err", err)
		}
	}
	return nil
}
