package sqlite

import (
	"context"

	"github.com/bindery/bindery/internal/bindery"
)

// BookFiles lists book bookID's pointer rows, by path.
func (d *DB) BookFiles(ctx context.Context, bookID int64) ([]bindery.BookFile, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT book_id, path, blob_key, size, sha256, modified_at FROM book_files WHERE book_id = ? ORDER BY path`, bookID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []bindery.BookFile{}
	for rows.Next() {
		var f bindery.BookFile
		var at int64
		if err := rows.Scan(&f.BookID, &f.Path, &f.BlobKey, &f.Size, &f.SHA256, &at); err != nil {
			return nil, err
		}
		f.Modified = fromTS(at)
		out = append(out, f)
	}
	return out, rows.Err()
}

// PutBookFile creates or switches the row of f.Path.
func (d *DB) PutBookFile(ctx context.Context, f *bindery.BookFile) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO book_files (book_id, path, blob_key, size, sha256, modified_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (book_id, path) DO UPDATE SET blob_key = excluded.blob_key, size = excluded.size, sha256 = excluded.sha256, modified_at = excluded.modified_at`,
		f.BookID, f.Path, f.BlobKey, f.Size, f.SHA256, ts(f.Modified))
	if isForeignKey(err) {
		return bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
	}
	return err
}

// MoveBookFile renames the row of from to to.
func (d *DB) MoveBookFile(ctx context.Context, bookID int64, from, to string) error {
	res, err := d.db.ExecContext(ctx, `UPDATE book_files SET path = ? WHERE book_id = ? AND path = ?`, to, bookID, from)
	if isUnique(err) {
		return bindery.Errorf(bindery.ECONFLICT, "%s exists.", to)
	} else if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	return nil
}

// DeleteBookFile removes the row of path, if any.
func (d *DB) DeleteBookFile(ctx context.Context, bookID int64, path string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM book_files WHERE book_id = ? AND path = ?`, bookID, path)
	return err
}
