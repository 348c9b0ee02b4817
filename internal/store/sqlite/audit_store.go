package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/bindery"
)

// AppendAudit appends e to the chain (auditchain.Append) and sets its ID,
// PrevHash and Hash. Reading the head and inserting happen in one
// transaction, and the database's transactions are immediate (see
// OpenPool), so concurrent appends are serialised and each links to the
// one before. It fails when the chain's anchor record does not verify.
func (d *DB) AppendAudit(ctx context.Context, e *bindery.AuditEvent) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		return auditchain.Append(ctx, chainTx{tx}, d.secrets, e)
	})
}

// Audit list limits.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
	auditPage         = 500 // entries per query of EachAudit
)

// auditColumns are read by every audit query, in scanAudit's order.
const auditColumns = `id, at, action, actor_id, subject, client_addr, target, detail, prev_hash, hash`

func scanAudit(row scanner) (*bindery.AuditEvent, error) {
	var e bindery.AuditEvent
	var at int64
	var actor sql.NullInt64
	if err := row.Scan(&e.ID, &at, &e.Action, &actor, &e.Subject, &e.ClientAddr, &e.Target, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.At = fromTS(at)
	if actor.Valid {
		id := actor.Int64
		e.ActorID = &id
	}
	return &e, nil
}

// auditWhere turns the filter's selecting fields (not the paging ones)
// into SQL conditions.
func auditWhere(f bindery.AuditFilter) ([]string, []any) {
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
	if p := f.About; p != nil {
		var or []string
		if p.UserID != 0 {
			or = append(or, "actor_id = ?", "target = ?")
			args = append(args, p.UserID, bindery.UserTarget(p.UserID))
		}
		var subjects []string
		for _, s := range p.Subjects {
			if s != "" {
				subjects = append(subjects, "?")
				args = append(args, s)
			}
		}
		if len(subjects) > 0 {
			or = append(or, "subject IN ("+strings.Join(subjects, ", ")+")")
		}
		if len(or) == 0 {
			or = []string{"0"} // nobody: matches nothing
		}
		where = append(where, "("+strings.Join(or, " OR ")+")")
	}
	return where, args
}

// ListAudit returns matching entries, newest first.
func (d *DB) ListAudit(ctx context.Context, f bindery.AuditFilter) ([]*bindery.AuditEvent, error) {
	where, args := auditWhere(f)
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	} else if limit > maxAuditLimit {
		limit = maxAuditLimit
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	return d.queryAudit(ctx, q, append(args, limit)...)
}

// EachAudit calls fn with every matching entry, oldest first, reading
// auditPage entries per query: no connection is held while fn runs.
// Entries appended during the walk are included.
func (d *DB) EachAudit(ctx context.Context, f bindery.AuditFilter, fn func(*bindery.AuditEvent) error) error {
	where, args := auditWhere(f)
	where = append(where, "id > ?")
	q := `SELECT ` + auditColumns + ` FROM audit_log WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id LIMIT ?`
	var after int64
	for {
		page, err := d.queryAudit(ctx, q, append(args, after, auditPage)...)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < auditPage {
			return nil
		}
		after = page[len(page)-1].ID
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (d *DB) queryAudit(ctx context.Context, q string, args ...any) ([]*bindery.AuditEvent, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bindery.AuditEvent
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
