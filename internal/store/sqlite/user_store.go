package sqlite

import (
	"context"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

const userColumns = `id, email, role, password_hash, created_at, updated_at`

type scanner interface{ Scan(...any) error }

func scanUser(s scanner) (*bindery.User, error) {
	var u bindery.User
	var created, updated int64
	if err := s.Scan(&u.ID, &u.Email, &u.Role, &u.PasswordHash, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromTS(created), fromTS(updated)
	return &u, nil
}

// CreateUser inserts u and sets its ID. ECONFLICT if the e-mail is taken.
func (d *DB) CreateUser(ctx context.Context, u *bindery.User) error {
	res, err := d.db.ExecContext(ctx, `INSERT INTO users (email, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		u.Email, u.Role, u.PasswordHash, ts(u.CreatedAt), ts(u.UpdatedAt))
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
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	return u, notFound(err, "User not found.")
}

// UserByEmail returns the user with the (normalised) e-mail, or ENOTFOUND.
func (d *DB) UserByEmail(ctx context.Context, email string) (*bindery.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	return u, notFound(err, "User not found.")
}

// ListUsers returns every user ordered by id.
func (d *DB) ListUsers(ctx context.Context) ([]*bindery.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bindery.User
	for rows.Next() {
		u, err := scanUser(rows)
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

// UpdateUserPassword sets the password hash of user id.
func (d *DB) UpdateUserPassword(ctx context.Context, id int64, hash string, at time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, ts(at), id)
	return rowsAffected(res, err, "User not found.")
}

// DeleteUser deletes user id; sessions, tokens and memberships go with it.
// ECONFLICT while the user still owns books: manuscripts are never deleted
// as a side effect.
func (d *DB) DeleteUser(ctx context.Context, id int64) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	if isForeignKey(err) {
		return bindery.Errorf(bindery.ECONFLICT, "This user still owns books; transfer or delete them first.")
	}
	return rowsAffected(res, err, "User not found.")
}
