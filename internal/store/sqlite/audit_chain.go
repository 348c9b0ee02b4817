package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/bindery"
)

// The audit chain (see package auditchain for what it proves and how):
// this file only moves its rows. The one-row table audit_chain holds the
// chain key (encrypted) and the MACed anchor and head; sqlite_sequence
// holds the last id AUTOINCREMENT handed out for audit_log, which is the
// chain's LastID.

// chainTx is auditchain.Tx over one SQLite transaction.
type chainTx struct{ tx *sql.Tx }

var _ auditchain.Tx = chainTx{}

// LoadState implements auditchain.Tx.
func (c chainTx) LoadState(ctx context.Context) (auditchain.State, bool, error) {
	var st auditchain.State
	err := c.tx.QueryRowContext(ctx, `SELECT key_enc, anchor_id, anchor_prev, head_id, head_hash, mac FROM audit_chain WHERE id = 1`).
		Scan(&st.KeyEnc, &st.AnchorID, &st.AnchorPrev, &st.HeadID, &st.HeadHash, &st.MAC)
	if err == sql.ErrNoRows {
		return st, false, nil
	}
	return st, err == nil, err
}

// InsertState implements auditchain.Tx.
func (c chainTx) InsertState(ctx context.Context, st *auditchain.State) error {
	_, err := c.tx.ExecContext(ctx, `INSERT INTO audit_chain (id, key_enc, anchor_id, anchor_prev, head_id, head_hash, mac) VALUES (1, ?, ?, ?, ?, ?, ?)`,
		st.KeyEnc, st.AnchorID, st.AnchorPrev, st.HeadID, st.HeadHash, st.MAC)
	return err
}

// SaveState implements auditchain.Tx.
func (c chainTx) SaveState(ctx context.Context, st *auditchain.State) error {
	_, err := c.tx.ExecContext(ctx, `UPDATE audit_chain SET anchor_id = ?, anchor_prev = ?, head_id = ?, head_hash = ?, mac = ? WHERE id = 1`,
		st.AnchorID, st.AnchorPrev, st.HeadID, st.HeadHash, st.MAC)
	return err
}

// LastID implements auditchain.Tx: the AUTOINCREMENT counter, which an
// explicit id moves too.
func (c chainTx) LastID(ctx context.Context) (int64, error) { return auditSeq(ctx, c.tx) }

// Insert implements auditchain.Tx.
func (c chainTx) Insert(ctx context.Context, e *bindery.AuditEvent) error {
	var actor sql.NullInt64
	if e.ActorID != nil {
		actor = sql.NullInt64{Int64: *e.ActorID, Valid: true}
	}
	_, err := c.tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, action, actor_id, subject, client_addr, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, ts(e.At), e.Action, actor, e.Subject, e.ClientAddr, e.Target, e.Detail, e.PrevHash, e.Hash)
	return err
}

// Walk implements auditchain.Tx.
func (c chainTx) Walk(ctx context.Context, before int64, fn func(*bindery.AuditEvent) error) error {
	q, args := `SELECT `+auditColumns+` FROM audit_log ORDER BY id`, []any{}
	if before > 0 {
		q, args = `SELECT `+auditColumns+` FROM audit_log WHERE id < ? ORDER BY id`, []any{before}
	}
	rows, err := c.tx.QueryContext(ctx, q, args...)
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
	var keep sql.NullInt64
	err := c.tx.QueryRowContext(ctx, `SELECT MIN(id) FROM audit_log WHERE at >= ?`, ts(t)).Scan(&keep)
	return keep.Int64, keep.Valid, err
}

// DeleteBefore implements auditchain.Tx.
func (c chainTx) DeleteBefore(ctx context.Context, id int64) error {
	_, err := c.tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id < ?`, id)
	return err
}

// querier is what auditSeq reads through: a transaction or the pool.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// auditSeq is the last id AUTOINCREMENT handed out for audit_log (0 when
// none): a row deleted from the end leaves it behind, which is how a
// truncated tail shows even without the head.
func auditSeq(ctx context.Context, q querier) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)`).Scan(&seq)
	return seq, err
}

// VerifyAudit recomputes the chain (auditchain.Verify) in one read
// transaction: a consistent snapshot; appends are not blocked.
func (d *DB) VerifyAudit(ctx context.Context) (bindery.AuditVerification, error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return bindery.AuditVerification{}, err
	}
	defer tx.Rollback()
	return auditchain.Verify(ctx, chainTx{tx}, d.secrets)
}

// PurgeAudit implements bindery.AuditChain (auditchain.Purge) in one
// transaction, immediate like every write here (see OpenPool), so that no
// append interleaves.
func (d *DB) PurgeAudit(ctx context.Context, before, at time.Time) (int, error) {
	n := 0
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = auditchain.Purge(ctx, chainTx{tx}, d.secrets, before, at)
		return err
	})
	return n, err
}
