package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
)

// CreateSession inserts s.
func (d *DB) CreateSession(ctx context.Context, s *bindery.Session) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, expires_at, client_addr, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.UserID, s.TokenHash, ts(s.CreatedAt), ts(s.LastSeenAt), ts(s.ExpiresAt), s.ClientAddr, s.UserAgent)
	return err
}

const sessionColumns = `s.id, s.user_id, s.token_hash, s.created_at, s.last_seen_at, s.expires_at, s.client_addr, s.user_agent`

// sessionByHashQuery is on the hot path of every signed-in request; pgx
// prepares and caches it per connection.
const sessionByHashQuery = `SELECT ` + sessionColumns + `, ` + userColumns + `
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`

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
	s, err := scanSession(d.pool.QueryRow(ctx, sessionByHashQuery, hash), r.dest()...)
	if err != nil {
		return nil, nil, notFound(err, "Session not found.")
	}
	u, err := d.user(&r)
	return s, u, err
}

// TouchSession records activity on session id.
func (d *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	_, err := d.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, ts(at), id)
	return err
}

// ListSessions returns the sessions of userID, newest first.
func (d *DB) ListSessions(ctx context.Context, userID int64) ([]*bindery.Session, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.user_id = $1 ORDER BY s.created_at DESC, s.id`, userID)
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
	tag, err := d.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1 AND user_id = $2`, id, userID)
	return rowsAffected(tag, err, "Session not found.")
}

// DeleteUserSessions deletes userID's sessions except exceptID.
func (d *DB) DeleteUserSessions(ctx context.Context, userID int64, exceptID string) (int, error) {
	return affected(d.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id != $2`, userID, exceptID))
}

// DeleteAllSessions deletes every session.
func (d *DB) DeleteAllSessions(ctx context.Context) (int, error) {
	return affected(d.pool.Exec(ctx, `DELETE FROM sessions`))
}

// DeleteExpiredSessions deletes sessions expired at now or idle since
// before idleBefore.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error) {
	return affected(d.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at < $2`, ts(now), ts(idleBefore)))
}

// CountActiveSessions counts sessions valid at now and seen since idleSince.
func (d *DB) CountActiveSessions(ctx context.Context, now, idleSince time.Time) (int, error) {
	var n int
	err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE expires_at > $1 AND last_seen_at >= $2`, ts(now), ts(idleSince)).Scan(&n)
	return n, err
}

// CreateAPIToken inserts t.
func (d *DB) CreateAPIToken(ctx context.Context, t *bindery.APIToken) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.ID, t.UserID, t.Name, t.TokenHash, ts(t.CreatedAt), ts(t.ExpiresAt))
	return err
}

const tokenColumns = `t.id, t.user_id, t.name, t.token_hash, t.created_at, t.expires_at, t.last_used_at`

const tokenByHashQuery = `SELECT ` + tokenColumns + `, ` + userColumns + `
	FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`

func scanToken(sc scanner, extra ...any) (*bindery.APIToken, error) {
	var t bindery.APIToken
	var created, expires int64
	var used *int64
	if err := sc.Scan(append([]any{&t.ID, &t.UserID, &t.Name, &t.TokenHash, &created, &expires, &used}, extra...)...); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = fromTS(created), fromTS(expires)
	t.LastUsedAt = optTS(used)
	return &t, nil
}

// APITokenByHash returns the token with this hash and its user.
func (d *DB) APITokenByHash(ctx context.Context, hash []byte) (*bindery.APIToken, *bindery.User, error) {
	var r userRow
	t, err := scanToken(d.pool.QueryRow(ctx, tokenByHashQuery, hash), r.dest()...)
	if err != nil {
		return nil, nil, notFound(err, "Token not found.")
	}
	u, err := d.user(&r)
	return t, u, err
}

// TouchAPIToken records use of token id.
func (d *DB) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	_, err := d.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, ts(at), id)
	return err
}

// ListAPITokens returns userID's tokens, newest first.
func (d *DB) ListAPITokens(ctx context.Context, userID int64) ([]*bindery.APIToken, error) {
	rows, err := d.pool.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.created_at DESC, t.id`, userID)
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
	tag, err := d.pool.Exec(ctx, `DELETE FROM api_tokens WHERE id = $1 AND user_id = $2`, id, userID)
	return rowsAffected(tag, err, "Token not found.")
}

// DeleteUserAPITokens deletes every token of userID.
func (d *DB) DeleteUserAPITokens(ctx context.Context, userID int64) (int, error) {
	return affected(d.pool.Exec(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, userID))
}

// DeleteExpiredAPITokens deletes tokens expired at now.
func (d *DB) DeleteExpiredAPITokens(ctx context.Context, now time.Time) (int, error) {
	return affected(d.pool.Exec(ctx, `DELETE FROM api_tokens WHERE expires_at <= $1`, ts(now)))
}

// AddSetupToken adds a set-up token and forgets the expired ones.
func (d *DB) AddSetupToken(ctx context.Context, hash []byte, expiresAt, now time.Time) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM setup_tokens WHERE expires_at <= $1`, ts(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO setup_tokens (token_hash, expires_at) VALUES ($1, $2)`, hash, ts(expiresAt))
		return err
	})
}

// ConsumeSetupToken deletes the token and reports whether it was valid at
// now; a valid one ends every other pending token with it. Serialised by
// an advisory lock: two racing requests, on any nodes and with different
// links, cannot both succeed.
func (d *DB) ConsumeSetupToken(ctx context.Context, hash []byte, now time.Time) (bool, error) {
	valid := false
	err := d.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockSetup); err != nil {
			return err
		}
		var expires int64
		err := tx.QueryRow(ctx, `DELETE FROM setup_tokens WHERE token_hash = $1 RETURNING expires_at`, hash).Scan(&expires)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if valid = now.Before(fromTS(expires)); valid {
			_, err = tx.Exec(ctx, `DELETE FROM setup_tokens`)
		}
		return err
	})
	return valid, err
}
