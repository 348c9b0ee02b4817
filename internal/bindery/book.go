package bindery

import (
	"context"
	"time"
)

// Book is a manuscript managed by the server. Its files (metadata.yaml,
// chapters, assets) live in the book's folder; Title mirrors metadata.yaml
// for listings.
type Book struct {
	ID        int64     `json:"id"`
	OwnerID   int64     `json:"owner_id"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BookStore persists books and their members. Look-ups return ENOTFOUND for
// unknown books; never (nil, nil).
type BookStore interface {
	CreateBook(ctx context.Context, b *Book) error
	// CreateBookWith inserts b, sets its ID and calls then in the same
	// transaction: the row exists only if then returns nil (and the
	// commit succeeds). then makes what must exist with the row — the
	// book's folder — so that no caller undoes a half-made book by hand.
	CreateBookWith(ctx context.Context, b *Book, then func(*Book) error) error
	BookByID(ctx context.Context, id int64) (*Book, error)
	// ListBooks returns every book when all is set (admins), else the
	// books userID owns or is a member of; ordered by id.
	ListBooks(ctx context.Context, userID int64, all bool) ([]*Book, error)
	UpdateBookTitle(ctx context.Context, id int64, title string, at time.Time) error
	DeleteBook(ctx context.Context, id int64) error
	// TransferBook gives book id to userID (when its owner's account is
	// deleted); ENOTFOUND for an unknown book or user.
	TransferBook(ctx context.Context, id, userID int64, at time.Time) error

	// AddMember is idempotent; ENOTFOUND when the book or user is unknown.
	AddMember(ctx context.Context, bookID, userID int64, at time.Time) error
	RemoveMember(ctx context.Context, bookID, userID int64) error
	ListMembers(ctx context.Context, bookID int64) ([]*User, error)
	IsMember(ctx context.Context, bookID, userID int64) (bool, error)
}

// BookFile is the pointer row of one file of a book kept in shared
// storage (BINDERY_S3_…): the file's bytes are the blob BlobKey, whose
// name is their SHA-256, so switching the row is what makes a new version
// visible, whole, to every node (see package blob).
type BookFile struct {
	BookID   int64
	Path     string // clean slash path in the book folder (bookfs.CleanPath)
	BlobKey  string // books/<book id>/files/<sha256>
	Size     int64
	SHA256   string // lowercase hex of the bytes
	Modified time.Time
}

// BookFileStore keeps the pointer rows of books' files in shared storage.
// Rows go with their book (deleting the book deletes them).
type BookFileStore interface {
	// BookFiles lists book bookID's rows, by path.
	BookFiles(ctx context.Context, bookID int64) ([]BookFile, error)
	// PutBookFile creates the row of f.Path or switches it to f's blob.
	// ENOTFOUND when the book does not exist.
	PutBookFile(ctx context.Context, f *BookFile) error
	// MoveBookFile renames the row of from to to in one step: ENOTFOUND
	// when from has no row, ECONFLICT when to has one.
	MoveBookFile(ctx context.Context, bookID int64, from, to string) error
	// DeleteBookFile removes the row of path; removing a missing row is
	// not an error (a retry, or the same deletion from two nodes).
	DeleteBookFile(ctx context.Context, bookID int64, path string) error
}
