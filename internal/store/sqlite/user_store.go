package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// userColumns are read by every query that returns a user, with the table
// aliased u. The address and name are decrypted by userRow.user.
const userColumns = `u.id, u.email_enc, u.name_enc, u.role, u.password_hash, u.created_at, u.updated_at, u.totp_enabled_at IS NOT NULL`

type scanner interface{ Scan(...any) error }

// userRow is a user as stored, before decryption.
type userRow struct {
	u                 bindery.User
	emailEnc, nameEnc string
	created, updated  int64
}

// dest returns the scan destinations matching userColumns.
func (r *userRow) dest() []any {
	return []any{&r.u.ID, &r.emailEnc, &r.nameEnc, &r.u.Role, &r.u.PasswordHash, &r.created, &r.updated, &r.u.TwoFactor}
}

// user decrypts r. A value that no key of the keyring opens is an error
// naming the user, never the value: the key that made it is missing.
func (d *DB) user(r *userRow) (*bindery.User, error) {
	u := r.u
	u.CreatedAt, u.UpdatedAt = fromTS(r.created), fromTS(r.updated)
	var err error
	if u.Email, err = d.open(r.emailEnc); err != nil {
		return nil, errUndecryptable("user", u.ID, err)
	}
	if u.Name, err = d.open(r.nameEnc); err != nil {
		return nil, errUndecryptable("user", u.ID, err)
	}
	return &u, nil
}

func (d *DB) scanUser(s scanner) (*bindery.User, error) {
	var r userRow
	if err := s.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return d.user(&r)
}

// CreateUser inserts u and sets its ID. ECONFLICT if the e-mail is taken.
func (d *DB) CreateUser(ctx context.Context, u *bindery.User) error {
	email, err := d.seal(u.Email)
	if err != nil {
		return err
	}
	name, err := d.seal(u.Name)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO users (email_index, email_enc, name_enc, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		d.secrets.BlindIndex(u.Email), email, name, u.Role, u.PasswordHash, ts(u.CreatedAt), ts(u.UpdatedAt))
	if isUnique(err) {
		return bindery.Errorf(bindery.ECONFLICT, "A user with that e-mail address already exists.")
	} else if err != nil {
		return err
	}
	u.ID, err = res.LastInsertId()
	return err
}

// UserByID returns the user with id, or ENOTFOUND.
func (d *DB) UserByID(ctx context.Context, id int64) (*bindery.User, error) {
	u, err := d.scanUser(d.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
	return u, notFound(err, "User not found.")
}

// UserByEmail returns the user with the (normalised) e-mail, or ENOTFOUND.
// It looks the address up by its blind index under every key of the
// keyring: until `bindery keys rotate` has run, some rows are still
// indexed under a previous key.
func (d *DB) UserByEmail(ctx context.Context, email string) (*bindery.User, error) {
	idx := d.secrets.BlindIndexes(email)
	args := make([]any, len(idx))
	for i, v := range idx {
		args[i] = v
	}
	q := `SELECT ` + userColumns + ` FROM users u WHERE u.email_index IN (?` + strings.Repeat(", ?", len(idx)-1) + `)`
	u, err := d.scanUser(d.db.QueryRowContext(ctx, q, args...))
	if err == nil && u.Email != email {
		// An HMAC-SHA-256 collision: not going to happen, but a look-up
		// must never return somebody else.
		err = sql.ErrNoRows
	}
	return u, notFound(err, "User not found.")
}

// ListUsers returns every user ordered by id.
func (d *DB) ListUsers(ctx context.Context) ([]*bindery.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bindery.User
	for rows.Next() {
		u, err := d.scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers returns the number of users.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// UpdateUserRole sets the role of user id.
func (d *DB) UpdateUserRole(ctx context.Context, id int64, role bindery.Role, at time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ?`, role, ts(at), id)
	return rowsAffected(res, err, "User not found.")
}

// UpdateUserName sets the display name of user id ("" removes it).
func (d *DB) UpdateUserName(ctx context.Context, id int64, name string, at time.Time) error {
	enc, err := d.seal(name)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, `UPDATE users SET name_enc = ?, updated_at = ? WHERE id = ?`, enc, ts(at), id)
	return rowsAffected(res, err, "User not found.")
}

// UpdateUserPassword sets the password hash of user id.
func (d *DB) UpdateUserPassword(ctx context.Context, id int64, hash string, at time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, ts(at), id)
	return rowsAffected(res, err, "User not found.")
}

// DeleteUser deletes user id; sessions, tokens, memberships and recovery
// codes go with it, and secure_delete overwrites the freed rows.
// ECONFLICT while the user still owns books: manuscripts are never deleted
// as a side effect.
//
// Invitations addressed to the user's address go too (they hold the
// address, encrypted): the blind index is the user's, under the current
// key — or, before `bindery keys rotate`, the key that indexed the row.
func (d *DB) DeleteUser(ctx context.Context, id int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM book_invitations WHERE email_index IN (SELECT email_index FROM users WHERE id = ?)`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if isForeignKey(err) {
			return bindery.Errorf(bindery.ECONFLICT, "This user still owns books; transfer or delete them first.")
		}
		return rowsAffected(res, err, "User not found.")
	})
}
