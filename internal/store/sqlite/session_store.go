package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// CreateSession inserts s.
func (d *DB) CreateSession(ctx context.Context, s *bindery.Session) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, client_addr, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.TokenHash, ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.ExpiresAt), s.ClientAddr, s.UserAgent)
	return err
}

const sessionColumns = `s.id, s.user_id, s.token_hash, s.created_at, s.last_seen_at, s.expires_at, s.client_addr, s.user_agent`

const sessionByHashQuery = `SELECT ` + sessionColumns + `, ` + userColumns + `
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`

func scanSession(sc scanner, extra ...any) (*bindery.Session, error) {
	var s bindery.Session
	var created, seen, expires int64
	dest := append([]any{&s.ID, &s.UserID, &s.TokenHash, &created, &seen, &expires, &s.ClientAddr, &s.UserAgent}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromTS(created), fromTS(seen), fromTS(expires)
	return &s, nil
}

// SessionByTokenHash returns the session with this token hash and its user.
func (d *DB) SessionByTokenHash(ctx context.Context, hash []byte) (*bindery.Session, *bindery.User, error) {
	var r userRow
	s, err := scanSession(d.sessionByHash.QueryRowContext(ctx, hash), r.dest()...)
	if err != nil {
		return nil, nil, notFound(err, "Session not found.")
	}
	u, err := d.user(&r)
	return s, u, err
}

// TouchSession records activity on session id.
func (d *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, ts(at), id)
	return err
}

// ListSessions returns the sessions of userID, newest first.
func (d *DB) ListSessions(ctx context.Context, userID int64) ([]*bindery.Session, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.user_id = ? ORDER BY s.created_at DESC, s.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bindery.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// DeleteSession deletes session id of userID, ENOTFOUND if there is none.
func (d *DB) DeleteSession(ctx context.Context, userID int64, id string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE id = ? AND user_id = ?`, id, userID)
	return rowsAffected(res, err, "Session not found.")
}

// DeleteUserSessions deletes userID's sessions except exceptID.
func (d *DB) DeleteUserSessions(ctx context.Context, userID int64, exceptID string) (int, error) {
	return affected(d.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id != ?`, userID, exceptID))
}

// DeleteAllSessions deletes every session.
func (d *DB) DeleteAllSessions(ctx context.Context) (int, error) {
	return affected(d.db.ExecContext(ctx, `DELETE FROM sessions`))
}

// DeleteExpiredSessions deletes sessions expired at now or idle since
// before idleBefore.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	return affected(d.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`, ts(now), ts(idleBefore)))
}

func affected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CreateAPIToken inserts t.
func (d *DB) CreateAPIToken(ctx context.Context, t *bindery.APIToken) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.UserID, t.Name, t.TokenHash, ts(t.CreatedAt), ts(t.ExpiresAt))
	return err
}

const tokenColumns = `t.id, t.user_id, t.name, t.token_hash, t.created_at, t.expires_at, t.last_used_at`

const tokenByHashQuery = `SELECT ` + tokenColumns + `, ` + userColumns + `
	FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`

func scanToken(sc scanner, extra ...any) (*bindery.APIToken, error) {
	var t bindery.APIToken
	var created, expires int64
	var used sql.NullInt64
	if err := sc.Scan(append([]any{&t.ID, &t.UserID, &t.Name, &t.TokenHash, &created, &expires, &used}, extra...)...); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = fromTS(created), fromTS(expires)
	if used.Valid {
		at := fromTS(used.Int64)
		t.LastUsedAt = &at
	}
	return &t, nil
}

// APITokenByHash returns the token with this hash and its user.
func (d *DB) APITokenByHash(ctx context.Context, hash []byte) (*bindery.APIToken, *bindery.User, error) {
	var r userRow
	t, err := scanToken(d.tokenByHash.QueryRowContext(ctx, hash), r.dest()...)
	if err != nil {
		return nil, nil, notFound(err, "Token not found.")
	}
	u, err := d.user(&r)
	return t, u, err
}

// TouchAPIToken records use of token id.
func (d *DB) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := d.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ts(at), id)
	return err
}

// ListAPITokens returns userID's tokens, newest first.
func (d *DB) ListAPITokens(ctx context.Context, userID int64) ([]*bindery.APIToken, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.user_id = ? ORDER BY t.created_at DESC, t.id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bindery.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteAPIToken deletes token id of userID, ENOTFOUND if there is none.
func (d *DB) DeleteAPIToken(ctx context.Context, userID int64, id string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	return rowsAffected(res, err, "Token not found.")
}

// DeleteUserAPITokens deletes every token of userID.
func (d *DB) DeleteUserAPITokens(ctx context.Context, userID int64) (int, error) {
	return affected(d.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE user_id = ?`, userID))
}

// DeleteExpiredAPITokens deletes tokens expired at now.
func (d *DB) DeleteExpiredAPITokens(ctx context.Context, now time.Time) (int, error) {
	return affected(d.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE expires_at <= ?`, ts(now)))
}

// AddSetupToken adds a set-up token and forgets the expired ones.
func (d *DB) AddSetupToken(ctx context.Context, hash []byte, expiresAt, now time.Time) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM setup_tokens WHERE expires_at <= ?`, ts(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?, ?)`, hash, ts(expiresAt))
		return err
	})
}

// ConsumeSetupToken deletes the token and reports whether it was valid at
// now; a valid one ends every other pending token with it. One immediate
// transaction: two racing requests cannot both succeed.
func (d *DB) ConsumeSetupToken(ctx context.Context, hash []byte, now time.Time) (bool, error) {
	valid := false
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var expires int64
		err := tx.QueryRowContext(ctx, `DELETE FROM setup_tokens WHERE token_hash = ? RETURNING expires_at`, hash).Scan(&expires)
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return err
		}
		if valid = now.Before(fromTS(expires)); valid {
			_, err = tx.ExecContext(ctx, `DELETE FROM setup_tokens`)
		}
		return err
	})
	return valid, err
}

// CountActiveSessions counts sessions valid at now and seen since idleSince.
func (d *DB) CountActiveSessions(ctx context.Context, now, idleSince time.Time) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE expires_at > ? AND last_seen_at >= ?`, ts(now), ts(idleSince)).Scan(&n)
	return n, err
}
