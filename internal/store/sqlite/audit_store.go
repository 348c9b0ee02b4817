package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
)

// AppendAudit appends e and sets its ID.
func (d *DB) AppendAudit(ctx context.Context, e *bindery.AuditEvent) error {
	var actor sql.NullInt64
	if e.ActorID != nil {
		actor = sql.NullInt64{Int64: *e.ActorID, Valid: true}
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO audit_log (at, action, actor_id, actor_email, client_addr, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ts(e.At), e.Action, actor, e.ActorEmail, e.ClientAddr, e.Target, e.Detail)
	if err != nil {
		return err
	}
	e.ID, err = res.LastInsertId()
	return err
}

// Audit list limits.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// ListAudit returns matching entries, newest first.
func (d *DB) ListAudit(ctx context.Context, f bindery.AuditFilter) ([]*bindery.AuditEvent, error) {
	var where []string
	var args []any
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.ActorID != 0 {
		where, args = append(where, "actor_id = ?"), append(args, f.ActorID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, ts(f.Since))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	} else if limit > maxAuditLimit {
		limit = maxAuditLimit
	}
	q := `SELECT id, at, action, actor_id, actor_email, client_addr, target, detail FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	rows, err := d.db.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bindery.AuditEvent
	for rows.Next() {
		var e bindery.AuditEvent
		var at int64
		var actor sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Action, &actor, &e.ActorEmail, &e.ClientAddr, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromTS(at)
		if actor.Valid {
			id := actor.Int64
			e.ActorID = &id
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}
