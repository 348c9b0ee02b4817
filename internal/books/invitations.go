package books

import (
	"context"
	"strconv"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// Invitation limits: an invitation lasts two weeks, and a book has at
// most MaxPendingInvitations at a time (the table stays bounded whatever
// an owner sends).
const (
	InvitationTTL         = 14 * 24 * time.Hour
	MaxPendingInvitations = 100
)

// Invite invites the holder of address email to book b, by a (its owner
// or an admin: the caller checks). No account is looked up: the answer is
// the same whether or not one has the address. Whoever holds it sees the
// invitation once signed in, and decides.
func (s *Service) Invite(ctx context.Context, a Actor, b *bindery.Book, email string) (*bindery.Invitation, error) {
	email, err := bindery.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	now := s.d.Now()
	pending, err := s.d.Store.BookInvitations(ctx, b.ID, now)
	if err != nil {
		return nil, err
	}
	if len(pending) >= MaxPendingInvitations {
		return nil, bindery.Errorf(bindery.ECONFLICT, "This book has %d pending invitations; withdraw some first.", MaxPendingInvitations)
	}
	inv := &bindery.Invitation{BookID: b.ID, InvitedBy: a.User.ID, Email: email, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	if err := s.d.Store.CreateInvitation(ctx, inv); err != nil {
		return nil, err
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditMemberInvited, b, "invitation "+strconv.FormatInt(inv.ID, 10)))
	return inv, nil
}

// Invitations lists book id's pending invitations.
func (s *Service) Invitations(ctx context.Context, id int64) ([]*bindery.Invitation, error) {
	return s.d.Store.BookInvitations(ctx, id, s.d.Now())
}

// Withdraw withdraws invitation invID of book b, by a.
func (s *Service) Withdraw(ctx context.Context, a Actor, b *bindery.Book, invID int64) error {
	if err := s.d.Store.DeleteBookInvitation(ctx, b.ID, invID); err != nil {
		return err
	}
	s.d.Audit.Audit(ctx, a.event(bindery.AuditInvitationRevoked, b, "invitation "+strconv.FormatInt(invID, 10)))
	return nil
}

// Accept accepts invitation invID for a, who must hold the address it was
// sent to (any other id is ENOTFOUND): a becomes a member of the book, and
// their live connections reconnect to see it.
func (s *Service) Accept(ctx context.Context, a Actor, invID int64) (*bindery.Book, error) {
	inv, err := s.d.Store.AcceptInvitation(ctx, invID, a.User.Email, a.User.ID, s.d.Now())
	if err != nil {
		return nil, err
	}
	b, err := s.d.Store.BookByID(ctx, inv.BookID)
	if err != nil {
		return nil, err
	}
	s.d.Disconnect(a.User.ID)
	s.d.Audit.Audit(ctx, a.memberEvent(bindery.AuditMemberAdded, b, a.User.ID, "accepted invitation "+strconv.FormatInt(invID, 10)))
	return b, nil
}
