package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
)

// CreateInvitation implements bindery.InvitationStore: it replaces the
// book's invitation to the same address (found by its blind index under
// every key of the keyring) and drops the book's expired ones.
func (d *DB) CreateInvitation(ctx context.Context, inv *bindery.Invitation) error {
	enc, err := d.seal(inv.Email)
	if err != nil {
		return err
	}
	return d.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM book_invitations WHERE book_id = $1 AND (expires_at <= $2 OR email_index = ANY($3))`,
			inv.BookID, ts(inv.CreatedAt), d.secrets.BlindIndexes(inv.Email)); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO book_invitations (book_id, invited_by, email_index, email_enc, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			inv.BookID, inv.InvitedBy, d.secrets.BlindIndex(inv.Email), enc, ts(inv.CreatedAt), ts(inv.ExpiresAt)).Scan(&inv.ID)
		if isForeignKey(err) {
			return bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
		}
		return err
	})
}

// scanInvitation reads one invitation: id, book, inviter, address, times
// and (for the invitee's list) the book's title.
func (d *DB) scanInvitation(s scanner, withTitle bool) (*bindery.Invitation, error) {
	var inv bindery.Invitation
	var enc string
	var created, expires int64
	dest := []any{&inv.ID, &inv.BookID, &inv.InvitedBy, &enc, &created, &expires}
	if withTitle {
		dest = append(dest, &inv.BookTitle)
	}
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt = fromTS(created), fromTS(expires)
	var err error
	if inv.Email, err = d.open(enc); err != nil {
		return nil, errUndecryptable("invitation", inv.ID, err)
	}
	return &inv, nil
}

const invitationColumns = `i.id, i.book_id, i.invited_by, i.email_enc, i.created_at, i.expires_at`

func (d *DB) invitations(ctx context.Context, withTitle bool, q string, args ...any) ([]*bindery.Invitation, error) {
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*bindery.Invitation{}
	for rows.Next() {
		inv, err := d.scanInvitation(rows, withTitle)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// BookInvitations implements bindery.InvitationStore.
func (d *DB) BookInvitations(ctx context.Context, bookID int64, now time.Time) ([]*bindery.Invitation, error) {
	return d.invitations(ctx, false, `SELECT `+invitationColumns+` FROM book_invitations i WHERE i.book_id = $1 AND i.expires_at > $2 ORDER BY i.id`, bookID, ts(now))
}

// DeleteBookInvitation implements bindery.InvitationStore.
func (d *DB) DeleteBookInvitation(ctx context.Context, bookID, id int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM book_invitations WHERE id = $1 AND book_id = $2`, id, bookID)
	return rowsAffected(tag, err, "Invitation not found.")
}

// InvitationsFor implements bindery.InvitationStore. Rows whose decrypted
// address differs from email (a blind-index collision: not going to
// happen) are left out: a look-up never returns somebody else's.
func (d *DB) InvitationsFor(ctx context.Context, email string, now time.Time) ([]*bindery.Invitation, error) {
	all, err := d.invitations(ctx, true, `SELECT `+invitationColumns+`, b.title FROM book_invitations i JOIN books b ON b.id = i.book_id
		WHERE i.email_index = ANY($1) AND i.expires_at > $2 AND NOT i.declined ORDER BY i.id`, d.secrets.BlindIndexes(email), ts(now))
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, inv := range all {
		if inv.Email == email {
			out = append(out, inv)
		}
	}
	return out, nil
}

// invitationFor reads and locks invitation id inside tx if it is
// addressed to email and not declined: FOR UPDATE, so that an accept and
// a decline racing on two nodes are one after the other.
func (d *DB) invitationFor(ctx context.Context, tx pgx.Tx, id int64, email string) (*bindery.Invitation, error) {
	inv, err := d.scanInvitation(tx.QueryRow(ctx, `SELECT `+invitationColumns+` FROM book_invitations i WHERE i.id = $1 AND NOT i.declined AND i.email_index = ANY($2) FOR UPDATE`,
		id, d.secrets.BlindIndexes(email)), false)
	if err == nil && inv.Email != email {
		err = pgx.ErrNoRows
	}
	return inv, notFound(err, "Invitation not found.")
}

// AcceptInvitation implements bindery.InvitationStore.
func (d *DB) AcceptInvitation(ctx context.Context, id int64, email string, userID int64, now time.Time) (*bindery.Invitation, error) {
	var inv *bindery.Invitation
	err := d.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if inv, err = d.invitationFor(ctx, tx, id, email); err != nil {
			return err
		}
		if !now.Before(inv.ExpiresAt) {
			return bindery.Errorf(bindery.ENOTFOUND, "Invitation not found.")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO book_members (book_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, inv.BookID, userID, ts(now)); err != nil {
			if isForeignKey(err) {
				return bindery.Errorf(bindery.ENOTFOUND, "Invitation not found.")
			}
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM book_invitations WHERE id = $1`, id)
		return err
	})
	return inv, err
}

// DeclineInvitation implements bindery.InvitationStore: the row is kept,
// marked declined, until it expires (see the migration for why).
func (d *DB) DeclineInvitation(ctx context.Context, id int64, email string) (*bindery.Invitation, error) {
	var inv *bindery.Invitation
	err := d.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if inv, err = d.invitationFor(ctx, tx, id, email); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE book_invitations SET declined = true WHERE id = $1`, id)
		return err
	})
	return inv, err
}
