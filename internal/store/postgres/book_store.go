package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
)

const bookColumns = `b.id, b.owner_id, b.title, b.created_at, b.updated_at`

func scanBook(s scanner) (*bindery.Book, error) {
	var b bindery.Book
	var created, updated int64
	if err := s.Scan(&b.ID, &b.OwnerID, &b.Title, &created, &updated); err != nil {
		return nil, err
	}
	b.CreatedAt, b.UpdatedAt = fromTS(created), fromTS(updated)
	return &b, nil
}

// CreateBook inserts b and sets its ID.
func (d *DB) CreateBook(ctx context.Context, b *bindery.Book) error {
	err := d.pool.QueryRow(ctx, `INSERT INTO books (owner_id, title, created_at, updated_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		b.OwnerID, b.Title, ts(b.CreatedAt), ts(b.UpdatedAt)).Scan(&b.ID)
	if isForeignKey(err) {
		return bindery.Errorf(bindery.ENOTFOUND, "User not found.")
	}
	return err
}

// CreateBookWith inserts b, sets its ID and calls then inside the same
// transaction: the row is committed only when then returns nil.
func (d *DB) CreateBookWith(ctx context.Context, b *bindery.Book, then func(*bindery.Book) error) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO books (owner_id, title, created_at, updated_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			b.OwnerID, b.Title, ts(b.CreatedAt), ts(b.UpdatedAt)).Scan(&b.ID)
		if isForeignKey(err) {
			return bindery.Errorf(bindery.ENOTFOUND, "User not found.")
		} else if err != nil {
			return err
		}
		if err := then(b); err != nil {
			b.ID = 0
			return err
		}
		return nil
	})
}

// BookByID returns book id, or ENOTFOUND.
func (d *DB) BookByID(ctx context.Context, id int64) (*bindery.Book, error) {
	b, err := scanBook(d.pool.QueryRow(ctx, `SELECT `+bookColumns+` FROM books b WHERE b.id = $1`, id))
	return b, notFound(err, "Book not found.")
}

// ListBooks returns all books, or those userID owns or belongs to.
func (d *DB) ListBooks(ctx context.Context, userID int64, all bool) ([]*bindery.Book, error) {
	q := `SELECT ` + bookColumns + ` FROM books b ORDER BY b.id`
	args := []any{}
	if !all {
		q = `SELECT ` + bookColumns + ` FROM books b WHERE b.owner_id = $1
			OR EXISTS (SELECT 1 FROM book_members m WHERE m.book_id = b.id AND m.user_id = $1) ORDER BY b.id`
		args = append(args, userID)
	}
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*bindery.Book{}
	for rows.Next() {
		b, err := scanBook(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// UpdateBookTitle sets the title of book id.
func (d *DB) UpdateBookTitle(ctx context.Context, id int64, title string, at time.Time) error {
	tag, err := d.pool.Exec(ctx, `UPDATE books SET title = $1, updated_at = $2 WHERE id = $3`, title, ts(at), id)
	return rowsAffected(tag, err, "Book not found.")
}

// DeleteBook deletes book id and its memberships.
func (d *DB) DeleteBook(ctx context.Context, id int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM books WHERE id = $1`, id)
	return rowsAffected(tag, err, "Book not found.")
}

// TransferBook makes userID the owner of book id (and no longer a mere
// member of it).
func (d *DB) TransferBook(ctx context.Context, id, userID int64, at time.Time) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE books SET owner_id = $1, updated_at = $2 WHERE id = $3`, userID, ts(at), id)
		if isForeignKey(err) {
			return bindery.Errorf(bindery.ENOTFOUND, "User not found.")
		}
		if err := rowsAffected(tag, err, "Book not found."); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM book_members WHERE book_id = $1 AND user_id = $2`, id, userID)
		return err
	})
}

// AddMember makes userID a member of bookID (idempotent).
func (d *DB) AddMember(ctx context.Context, bookID, userID int64, at time.Time) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO book_members (book_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, bookID, userID, ts(at))
	if isForeignKey(err) {
		return bindery.Errorf(bindery.ENOTFOUND, "Book or user not found.")
	}
	return err
}

// RemoveMember ends userID's membership of bookID; ENOTFOUND if none.
func (d *DB) RemoveMember(ctx context.Context, bookID, userID int64) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM book_members WHERE book_id = $1 AND user_id = $2`, bookID, userID)
	return rowsAffected(tag, err, "That user is not a member of this book.")
}

// ListMembers returns the members of bookID, ordered by id.
func (d *DB) ListMembers(ctx context.Context, bookID int64) ([]*bindery.User, error) {
	return d.users(ctx, `SELECT `+userColumns+`
		FROM users u JOIN book_members m ON m.user_id = u.id WHERE m.book_id = $1 ORDER BY u.id`, bookID)
}

// IsMember reports whether userID is a member of bookID.
func (d *DB) IsMember(ctx context.Context, bookID, userID int64) (bool, error) {
	var ok bool
	err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM book_members WHERE book_id = $1 AND user_id = $2)`, bookID, userID).Scan(&ok)
	return ok, err
}
