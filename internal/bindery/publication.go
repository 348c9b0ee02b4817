package bindery

import (
	"context"
	"time"
)

// Publication is the published edition of a book.
type Publication struct {
	BookID      int64     `json:"book_id"`
	RunID       int64     `json:"run_id"`
	PublishedBy int64     `json:"published_by"`
	PublishedAt time.Time `json:"published_at"`
	Title       string    `json:"title"`
	Authors     []string  `json:"authors"`
	Language    string    `json:"language,omitempty"`
	Description string    `json:"description,omitempty"`
	Files       []string  `json:"files"` // artifact names: book.epub, book.pdf, cover.png…
}

// PublicationStore persists publications, one per book.
type PublicationStore interface {
	// PutPublication creates or replaces the book's publication and
	// appends audit to the audit chain, in one transaction: a crash
	// cannot leave an edition switched without its audit entry, nor an
	// entry for a switch that did not happen.
	PutPublication(ctx context.Context, p *Publication, audit *AuditEvent) error
	// Publication returns the book's publication, or ENOTFOUND.
	Publication(ctx context.Context, bookID int64) (*Publication, error)
	// ListPublications returns every publication, newest first.
	ListPublications(ctx context.Context) ([]*Publication, error)
}
