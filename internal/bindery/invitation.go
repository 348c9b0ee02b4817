package bindery

import (
	"context"
	"time"
)

// Invitation asks the holder of an e-mail address to become a member of a
// book. It is how a book's owner adds people (admins may still add an
// account directly).
//
// Invitations exist so that adding a member reveals nothing: the owner
// names an address, not an account, and gets the same answer whether or
// not an account has that address — the server does not even look. The
// account holder, if there is one, sees the invitation in their own list
// and accepts or declines it; nobody becomes a member without consent.
// The address is personal data: stored encrypted, found by its blind
// index, like accounts' addresses.
type Invitation struct {
	ID        int64     `json:"id"`
	BookID    int64     `json:"book_id"`
	BookTitle string    `json:"book_title,omitempty"` // filled for the invitee's list
	InvitedBy int64     `json:"invited_by"`
	Email     string    `json:"email,omitempty"` // shown to the book's managers only
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// InvitationStore persists invitations. Every look-up on behalf of an
// invitee takes the invitee's (normalised) address and matches it exactly:
// an invitation id alone never lets anyone else accept or decline it.
type InvitationStore interface {
	// CreateInvitation stores inv and sets its ID. A pending invitation
	// of the same book to the same address is replaced (one per pair);
	// expired invitations of the book are dropped on the way.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// BookInvitations lists the unexpired invitations of bookID, with
	// their addresses, oldest first — declined ones included, looking
	// the same as the others: a decline must not tell the inviter that
	// an account has the address.
	BookInvitations(ctx context.Context, bookID int64, now time.Time) ([]*Invitation, error)
	// DeleteBookInvitation withdraws invitation id of bookID; ENOTFOUND
	// when bookID has no such invitation.
	DeleteBookInvitation(ctx context.Context, bookID, id int64) error
	// InvitationsFor lists the unexpired invitations to email, with the
	// books' titles, oldest first.
	InvitationsFor(ctx context.Context, email string, now time.Time) ([]*Invitation, error)
	// AcceptInvitation makes userID a member of the book of invitation id
	// and deletes the invitation, in one transaction, if the invitation
	// is addressed to email and unexpired at now; ENOTFOUND otherwise.
	AcceptInvitation(ctx context.Context, id int64, email string, userID int64, now time.Time) (*Invitation, error)
	// DeclineInvitation marks invitation id declined if it is addressed
	// to email (and not declined yet); ENOTFOUND otherwise. A declined
	// invitation is no longer listed to, nor accepted by, the addressee;
	// it expires like the others. A new invitation to the same address
	// replaces it.
	DeclineInvitation(ctx context.Context, id int64, email string) (*Invitation, error)
}
