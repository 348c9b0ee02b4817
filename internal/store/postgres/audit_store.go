package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/bindery"
)

// chainTx is auditchain.Tx over one PostgreSQL transaction. The one-row
// table audit_chain holds the chain key (encrypted) and the MACed anchor
// and head; audit_log_seq, moved by a trigger on every insert, is the
// chain's LastID (SQLite's sqlite_sequence).
type chainTx struct{ tx pgx.Tx }

var _ auditchain.Tx = chainTx{}

// LoadState implements auditchain.Tx.
func (c chainTx) LoadState(ctx context.Context) (auditchain.State, bool, error) {
	var st auditchain.State
	err := c.tx.QueryRow(ctx, `SELECT key_enc, anchor_id, anchor_prev, head_id, head_hash, mac FROM audit_chain WHERE id = 1`).
		Scan(&st.KeyEnc, &st.AnchorID, &st.AnchorPrev, &st.HeadID, &st.HeadHash, &st.MAC)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, false, nil
	}
	return st, err == nil, err
}

// InsertState implements auditchain.Tx.
func (c chainTx) InsertState(ctx context.Context, st *auditchain.State) error {
	_, err := c.tx.Exec(ctx, `INSERT INTO audit_chain (id, key_enc, anchor_id, anchor_prev, head_id, head_hash, mac) VALUES (1, $1, $2, $3, $4, $5, $6)`,
		st.KeyEnc, st.AnchorID, st.AnchorPrev, st.HeadID, st.HeadHash, st.MAC)
	return err
}

// SaveState implements auditchain.Tx.
func (c chainTx) SaveState(ctx context.Context, st *auditchain.State) error {
	_, err := c.tx.Exec(ctx, `UPDATE audit_chain SET anchor_id = $1, anchor_prev = $2, head_id = $3, head_hash = $4, mac = $5 WHERE id = 1`,
		st.AnchorID, st.AnchorPrev, st.HeadID, st.HeadHash, st.MAC)
	return err
}

// LastID implements auditchain.Tx.
func (c chainTx) LastID(ctx context.Context) (int64, error) {
	var seq int64
	err := c.tx.QueryRow(ctx, `SELECT COALESCE((SELECT seq FROM audit_log_seq WHERE id = 1), 0)`).Scan(&seq)
	return seq, err
}

// Insert implements auditchain.Tx; the trigger moves audit_log_seq.
func (c chainTx) Insert(ctx context.Context, e *bindery.AuditEvent) error {
	_, err := c.tx.Exec(ctx, `INSERT INTO audit_log (id, at, action, actor_id, subject, client_addr, target, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, ts(e.At), e.Action, e.ActorID, e.Subject, e.ClientAddr, e.Target, e.Detail, e.PrevHash, e.Hash)
	return err
}

// Walk implements auditchain.Tx.
func (c chainTx) Walk(ctx context.Context, before int64, fn func(*bindery.AuditEvent) error) error {
	q, args := `SELECT `+auditColumns+` FROM audit_log ORDER BY id`, []any{}
	if before > 0 {
		q, args = `SELECT `+auditColumns+` FROM audit_log WHERE id < $1 ORDER BY id`, []any{before}
	}
	rows, err := c.tx.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FirstSince implements auditchain.Tx.
func (c chainTx) FirstSince(ctx context.Context, t time.Time) (int64, bool, error) {
	var keep *int64
	if err := c.tx.QueryRow(ctx, `SELECT MIN(id) FROM audit_log WHERE at >= $1`, ts(t)).Scan(&keep); err != nil || keep == nil {
		return 0, false, err
	}
	return *keep, true, nil
}

// DeleteBefore implements auditchain.Tx.
func (c chainTx) DeleteBefore(ctx context.Context, id int64) error {
	_, err := c.tx.Exec(ctx, `DELETE FROM audit_log WHERE id < $1`, id)
	return err
}

// AppendAudit appends e to the chain (auditchain.Append) and sets its ID,
// PrevHash and Hash. The audit lock, taken first and held to the commit,
// serialises appends and purges across every pool and node: each append
// reads the head the previous one committed and links to it. It fails
// when the chain's anchor record does not verify.
func (d *DB) AppendAudit(ctx context.Context, e *bindery.AuditEvent) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		return auditchain.Append(ctx, chainTx{tx}, d.secrets, e)
	})
}

// VerifyAudit recomputes the chain (auditchain.Verify) in one REPEATABLE
// READ, read-only transaction: one snapshot for the record and every
// entry, without blocking appends.
func (d *DB) VerifyAudit(ctx context.Context) (bindery.AuditVerification, error) {
	var v bindery.AuditVerification
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		v, err = auditchain.Verify(ctx, chainTx{tx}, d.secrets)
		return err
	})
	return v, err
}

// PurgeAudit implements bindery.AuditChain (auditchain.Purge) in one
// transaction under the audit lock, like an append.
func (d *DB) PurgeAudit(ctx context.Context, before, at time.Time) (int, error) {
	n := 0
	err := d.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockAudit); err != nil {
			return err
		}
		var err error
		n, err = auditchain.Purge(ctx, chainTx{tx}, d.secrets, before, at)
		return err
	})
	return n, err
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
	if err := row.Scan(&e.ID, &at, &e.Action, &e.ActorID, &e.Subject, &e.ClientAddr, &e.Target, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.At = fromTS(at)
	return &e, nil
}

// auditQuery builds the numbered placeholders of an audit query.
type auditQuery struct {
	where []string
	args  []any
}

func (q *auditQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// auditWhere turns the filter's selecting fields (not the paging ones)
// into SQL conditions.
func auditWhere(f bindery.AuditFilter) *auditQuery {
	q := &auditQuery{}
	if f.Action != "" {
		q.where = append(q.where, "action = "+q.arg(f.Action))
	}
	if f.ActorID != 0 {
		q.where = append(q.where, "actor_id = "+q.arg(f.ActorID))
	}
	if !f.Since.IsZero() {
		q.where = append(q.where, "at >= "+q.arg(ts(f.Since)))
	}
	if p := f.About; p != nil {
		var or []string
		if p.UserID != 0 {
			or = append(or, "actor_id = "+q.arg(p.UserID), "target = "+q.arg(bindery.UserTarget(p.UserID)))
		}
		var subjects []string
		for _, s := range p.Subjects {
			if s != "" {
				subjects = append(subjects, s)
			}
		}
		if len(subjects) > 0 {
			or = append(or, "subject = ANY("+q.arg(subjects)+")")
		}
		if len(or) == 0 {
			or = []string{"false"} // nobody: matches nothing
		}
		q.where = append(q.where, "("+strings.Join(or, " OR ")+")")
	}
	return q
}

// ListAudit returns matching entries, newest first.
func (d *DB) ListAudit(ctx context.Context, f bindery.AuditFilter) ([]*bindery.AuditEvent, error) {
	q := auditWhere(f)
	if f.BeforeID > 0 {
		q.where = append(q.where, "id < "+q.arg(f.BeforeID))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	} else if limit > maxAuditLimit {
		limit = maxAuditLimit
	}
	sql := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(q.where) > 0 {
		sql += " WHERE " + strings.Join(q.where, " AND ")
	}
	sql += " ORDER BY id DESC LIMIT " + q.arg(limit)
	return d.queryAudit(ctx, sql, q.args...)
}

// EachAudit calls fn with every matching entry, oldest first, reading
// auditPage entries per query: no connection is held while fn runs.
// Entries appended during the walk are included.
func (d *DB) EachAudit(ctx context.Context, f bindery.AuditFilter, fn func(*bindery.AuditEvent) error) error {
	q := auditWhere(f)
	n := len(q.args)
	// The last two arguments change per page: "after" and the page size.
	q.where = append(q.where, "id > $"+strconv.Itoa(n+1))
	sql := `SELECT ` + auditColumns + ` FROM audit_log WHERE ` + strings.Join(q.where, " AND ") + ` ORDER BY id LIMIT $` + strconv.Itoa(n+2)
	var after int64
	for {
		page, err := d.queryAudit(ctx, sql, append(q.args[:n:n], after, auditPage)...)
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
	rows, err := d.pool.Query(ctx, q, args...)
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
