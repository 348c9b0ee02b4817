package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
)

// userColumns are read by every query that returns a user, with the table
// aliased u. The address and name are decrypted by DB.user.
const userColumns = `u.id, u.email_enc, u.name_enc, u.role, u.password_hash, u.created_at, u.updated_at, u.totp_enabled_at IS NOT NULL`

// userRow is a user as stored, before decryption.
type userRow struct {
	u                 bindery.User
	role              string
	emailEnc, nameEnc string
	created, updated  int64
}

// dest returns the scan destinations matching userColumns.
func (r *userRow) dest() []any {
	return []any{&r.u.ID, &r.emailEnc, &r.nameEnc, &r.role, &r.u.PasswordHash, &r.created, &r.updated, &r.u.TwoFactor}
}

// user decrypts r. A value that no key of the keyring opens is an error
// naming the user, never the value: the key that made it is missing.
func (d *DB) user(r *userRow) (*bindery.User, error) {
	u := r.u
	u.Role = bindery.Role(r.role)
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
	err = d.pool.QueryRow(ctx, `INSERT INTO users (email_index, email_enc, name_enc, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		d.secrets.BlindIndex(u.Email), email, name, string(u.Role), u.PasswordHash, ts(u.CreatedAt), ts(u.UpdatedAt)).Scan(&u.ID)
	if isUnique(err) {
		return bindery.Errorf(bindery.ECONFLICT, "A user with that e-mail address already exists.")
	}
	return err
}

// UserByID returns the user with id, or ENOTFOUND.
func (d *DB) UserByID(ctx context.Context, id int64) (*bindery.User, error) {
	u, err := d.scanUser(d.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = $1`, id))
	return u, notFound(err, "User not found.")
}

// UserByEmail returns the user with the (normalised) e-mail, or ENOTFOUND.
// It looks the address up by its blind index under every key of the
// keyring: until `bindery keys rotate` has run, some rows are still
// indexed under a previous key.
func (d *DB) UserByEmail(ctx context.Context, email string) (*bindery.User, error) {
	u, err := d.scanUser(d.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.email_index = ANY($1) LIMIT 1`, d.secrets.BlindIndexes(email)))
	if err == nil && u.Email != email {
		// An HMAC-SHA-256 collision: not going to happen, but a look-up
		// must never return somebody else.
		err = pgx.ErrNoRows
	}
	return u, notFound(err, "User not found.")
}

// ListUsers returns every user ordered by id.
func (d *DB) ListUsers(ctx context.Context) ([]*bindery.User, error) {
	return d.users(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.id`)
}

func (d *DB) users(ctx context.Context, q string, args ...any) ([]*bindery.User, error) {
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*bindery.User{}
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
	err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// UpdateUserRole sets the role of user id.
func (d *DB) UpdateUserRole(ctx context.Context, id int64, role bindery.Role, at time.Time) error {
	tag, err := d.pool.Exec(ctx, `UPDATE users SET role = $1, updated_at = $2 WHERE id = $3`, string(role), ts(at), id)
	return rowsAffected(tag, err, "User not found.")
}

// UpdateUserName sets the display name of user id ("" removes it).
func (d *DB) UpdateUserName(ctx context.Context, id int64, name string, at time.Time) error {
	enc, err := d.seal(name)
	if err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `UPDATE users SET name_enc = $1, updated_at = $2 WHERE id = $3`, enc, ts(at), id)
	return rowsAffected(tag, err, "User not found.")
}

// UpdateUserPassword sets the password hash of user id.
func (d *DB) UpdateUserPassword(ctx context.Context, id int64, hash string, at time.Time) error {
	tag, err := d.pool.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, ts(at), id)
	return rowsAffected(tag, err, "User not found.")
}

// DeleteUser deletes user id; sessions, tokens, memberships and recovery
// codes go with it (ON DELETE CASCADE). ECONFLICT while the user still
// owns books: manuscripts are never deleted as a side effect.
//
// Invitations addressed to the user's address go too (they hold the
// address, encrypted), found by the user's blind index.
func (d *DB) DeleteUser(ctx context.Context, id int64) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM book_invitations WHERE email_index IN (SELECT email_index FROM users WHERE id = $1)`, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if isForeignKey(err) {
			return bindery.Errorf(bindery.ECONFLICT, "This user still owns books; transfer or delete them first.")
		}
		return rowsAffected(tag, err, "User not found.")
	})
}
