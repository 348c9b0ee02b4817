package postgres

import (
	"context"
	"encoding/json"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/jackc/pgx/v5"
)

// PutPublication creates or replaces a book's publication and appends
// its audit entry, in one transaction.
func (d *DB) PutPublication(ctx context.Context, p *bindery.Publication, audit *bindery.AuditEvent) error {
	authors, err := json.Marshal(p.Authors)
	if err != nil {
		return err
	}
	files, err := json.Marshal(p.Files)
	if err != nil {
		return err
	}
	return d.tx(ctx, func(tx pgx.Tx) error {
		// The audit lock first, as AppendAudit takes it.
		if err := lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO publications (book_id, run_id, published_by, published_at, title, authors, language, description, files)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (book_id) DO UPDATE SET run_id = excluded.run_id, published_by = excluded.published_by, published_at = excluded.published_at,
		title = excluded.title, authors = excluded.authors, language = excluded.language, description = excluded.description, files = excluded.files`,
			p.BookID, p.RunID, p.PublishedBy, ts(p.PublishedAt), p.Title, string(authors), p.Language, p.Description, string(files))
		if isForeignKey(err) {
			return bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
		} else if err != nil {
			return err
		}
		return auditchain.Append(ctx, chainTx{tx}, d.secrets, audit)
	})
}

const publicationColumns = `book_id, run_id, published_by, published_at, title, authors, language, description, files`

func scanPublication(s scanner) (*bindery.Publication, error) {
	var p bindery.Publication
	var at int64
	var authors, files string
	if err := s.Scan(&p.BookID, &p.RunID, &p.PublishedBy, &at, &p.Title, &authors, &p.Language, &p.Description, &files); err != nil {
		return nil, err
	}
	p.PublishedAt = fromTS(at)
	if err := json.Unmarshal([]byte(authors), &p.Authors); err != nil {
		return nil, err
	}
	return &p, json.Unmarshal([]byte(files), &p.Files)
}

// Publication returns book bookID's publication, or ENOTFOUND.
func (d *DB) Publication(ctx context.Context, bookID int64) (*bindery.Publication, error) {
	p, err := scanPublication(d.pool.QueryRow(ctx, `SELECT `+publicationColumns+` FROM publications WHERE book_id = $1`, bookID))
	return p, notFound(err, "Book not published.")
}

// ListPublications returns every publication, newest first.
func (d *DB) ListPublications(ctx context.Context) ([]*bindery.Publication, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+publicationColumns+` FROM publications ORDER BY published_at DESC, book_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*bindery.Publication{}
	for rows.Next() {
		p, err := scanPublication(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
