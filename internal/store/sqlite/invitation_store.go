package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// indexArgs returns the blind indexes of email under every key of the
// keyring (until `bindery keys rotate` has run, older rows carry an index
// under a previous key), as query arguments, and the matching "?, ?".
func (d *DB) indexArgs(email string) ([]any, string) {
	idx := d.secrets.BlindIndexes(email)
	args := make([]any, len(idx))
	for i, v := range idx {
		args[i] = v
	}
	return args, "?" + strings.Repeat(", ?", len(idx)-1)
}

// CreateInvitation implements bindery.InvitationStore.
func (d *DB) CreateInvitation(ctx context.Context, inv *bindery.Invitation) error {
	enc, err := d.seal(inv.Email)
	if err != nil {
		return err
	}
	idx, marks := d.indexArgs(inv.Email)
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM book_invitations WHERE book_id = ? AND (expires_at <= ? OR email_index IN (`+marks+`))`,
			append([]any{inv.BookID, ts(inv.CreatedAt)}, idx...)...); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO book_invitations (book_id, invited_by, email_index, email_enc, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			inv.BookID, inv.InvitedBy, d.secrets.BlindIndex(inv.Email), enc, ts(inv.CreatedAt), ts(inv.ExpiresAt))
		if isForeignKey(err) {
			return bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
		} else if err != nil {
			return err
		}
		inv.ID, err = res.LastInsertId()
		return err
	})
}

// invitationRow reads one invitation: id, book, inviter, address, times
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
	rows, err := d.db.QueryContext(ctx, q, args...)
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
	return d.invitations(ctx, false, `SELECT `+invitationColumns+` FROM book_invitations i WHERE i.book_id = ? AND i.expires_at > ? ORDER BY i.id`, bookID, ts(now))
}

// DeleteBookInvitation implements bindery.InvitationStore.
func (d *DB) DeleteBookInvitation(ctx context.Context, bookID, id int64) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM book_invitations WHERE id = ? AND book_id = ?`, id, bookID)
	return rowsAffected(res, err, "Invitation not found.")
}

// InvitationsFor implements bindery.InvitationStore. Rows whose decrypted
// address differs from email (a blind-index collision: not going to
// happen) are left out: a look-up never returns somebody else's.
func (d *DB) InvitationsFor(ctx context.Context, email string, now time.Time) ([]*bindery.Invitation, error) {
	idx, marks := d.indexArgs(email)
	all, err := d.invitations(ctx, true, `SELECT `+invitationColumns+`, b.title FROM book_invitations i JOIN books b ON b.id = i.book_id
		WHERE i.email_index IN (`+marks+`) AND i.expires_at > ? AND NOT i.declined ORDER BY i.id`, append(idx, ts(now))...)
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

// invitationFor reads invitation id inside tx if it is addressed to email
// and not declined.
func (d *DB) invitationFor(ctx context.Context, tx *sql.Tx, id int64, email string) (*bindery.Invitation, error) {
	idx, marks := d.indexArgs(email)
	inv, err := d.scanInvitation(tx.QueryRowContext(ctx, `SELECT `+invitationColumns+` FROM book_invitations i WHERE i.id = ? AND NOT i.declined AND i.email_index IN (`+marks+`)`,
		append([]any{id}, idx...)...), false)
	if err == nil && inv.Email != email {
		err = sql.ErrNoRows
	}
	return inv, notFound(err, "Invitation not found.")
}

// AcceptInvitation implements bindery.InvitationStore.
func (d *DB) AcceptInvitation(ctx context.Context, id int64, email string, userID int64, now time.Time) (*bindery.Invitation, error) {
	var inv *bindery.Invitation
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if inv, err = d.invitationFor(ctx, tx, id, email); err != nil {
			return err
		}
		if !now.Before(inv.ExpiresAt) {
			return bindery.Errorf(bindery.ENOTFOUND, "Invitation not found.")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO book_members (book_id, user_id, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, inv.BookID, userID, ts(now)); err != nil {
			if isForeignKey(err) {
				return bindery.Errorf(bindery.ENOTFOUND, "Invitation not found.")
			}
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM book_invitations WHERE id = ?`, id)
		return err
	})
	return inv, err
}

// DeclineInvitation implements bindery.InvitationStore: the row is kept,
// marked declined, until it expires (see the migration for why).
func (d *DB) DeclineInvitation(ctx context.Context, id int64, email string) (*bindery.Invitation, error) {
	var inv *bindery.Invitation
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if inv, err = d.invitationFor(ctx, tx, id, email); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE book_invitations SET declined = 1 WHERE id = ?`, id)
		return err
	})
	return inv, err
}
