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
