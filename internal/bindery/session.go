package bindery

import (
	"context"
	"time"
)

// Session is a signed-in browser. The bearer secret (the cookie value) is
// never stored: only its SHA-256 (TokenHash), so a leaked database does not
// let anyone sign in. ID is a separate random handle that can be shown to
// the user and used to revoke the session without exposing the secret.
type Session struct {
	ID         string    `json:"id"`
	UserID     int64     `json:"-"`
	TokenHash  []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"` // absolute limit; the idle limit is LastSeenAt + idle
	ClientAddr string    `json:"client_addr"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"` // set by handlers for the caller's own session
}

// APIToken is a long-lived credential for scripts (Authorization: Bearer).
// Like sessions, only the SHA-256 of the secret is stored.
type APIToken struct {
	ID         string     `json:"id"`
	UserID     int64      `json:"-"`
	Name       string     `json:"name"`
	TokenHash  []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// SessionStore persists sessions and API tokens. Look-ups by hash return
// ENOTFOUND for unknown hashes; expiry is the caller's business (the store
// has no clock), except for the Delete…Expired sweeps.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// SessionByTokenHash returns the session and its user in one query.
	SessionByTokenHash(ctx context.Context, hash []byte) (*Session, *User, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	ListSessions(ctx context.Context, userID int64) ([]*Session, error)
	// DeleteSession removes the session id only if it belongs to userID
	// (ENOTFOUND otherwise), so a user cannot revoke another's session.
	DeleteSession(ctx context.Context, userID int64, id string) error
	// DeleteUserSessions removes every session of userID except exceptID
	// ("" removes all) and returns how many went.
	DeleteUserSessions(ctx context.Context, userID int64, exceptID string) (int, error)
	DeleteAllSessions(ctx context.Context) (int, error)
	// CountActiveSessions counts sessions unexpired at now and seen since
	// idleSince.
	CountActiveSessions(ctx context.Context, now, idleSince time.Time) (int, error)
	// DeleteExpiredSessions removes sessions past their absolute expiry or
	// idle since before idleBefore.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)

	CreateAPIToken(ctx context.Context, t *APIToken) error
	APITokenByHash(ctx context.Context, hash []byte) (*APIToken, *User, error)
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
	ListAPITokens(ctx context.Context, userID int64) ([]*APIToken, error)
	DeleteAPIToken(ctx context.Context, userID int64, id string) error
	// DeleteUserAPITokens removes every API token of userID and returns
	// how many went.
	DeleteUserAPITokens(ctx context.Context, userID int64) (int, error)
	DeleteExpiredAPITokens(ctx context.Context, now time.Time) (int, error)

	// AddSetupToken adds a first-admin set-up token (and forgets the ones
	// expired at now). Several may be pending: each server of a cluster
	// prints its own link at start-up, and every printed link works.
	AddSetupToken(ctx context.Context, hash []byte, expiresAt, now time.Time) error
	// ConsumeSetupToken reports whether a set-up token with this hash
	// existed and was unexpired at now. It deletes that token, and when it
	// was valid every other one too, in one serialised step: the first
	// admin is made once, whichever link and server are used.
	ConsumeSetupToken(ctx context.Context, hash []byte, now time.Time) (bool, error)
}
