package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/bindery/bindery/internal/secretbox"
)

// migrateEncryptedAccounts (version 5) moves the personal data of accounts
// out of the clear: the e-mail address becomes a Fernet token plus a keyed
// blind index (so that sign-in still finds the account by address and the
// address stays unique), and accounts gain an encrypted display name and
// the columns of the second factor. Accounts, recovery codes and stored
// third-party credentials are created here too.
//
// SQLite cannot drop a UNIQUE column, so the table is rebuilt (create,
// copy, drop, rename — see migrate for why foreign keys are off).
func migrateEncryptedAccounts(ctx context.Context, tx *sql.Tx, kr *secretbox.Keyring) error {
	if _, err := tx.ExecContext(ctx, `
CREATE TABLE users_encrypted (
    id              INTEGER PRIMARY KEY,
    -- HMAC-SHA-256 of the normalised address under a key derived from
    -- ENCRYPTION_KEY: equal addresses collide (UNIQUE, look-up), nothing
    -- else about the address can be read from it.
    email_index     TEXT    NOT NULL UNIQUE,
    email_enc       TEXT    NOT NULL,             -- Fernet
    name_enc        TEXT    NOT NULL DEFAULT '',  -- Fernet, '' when no name
    role            TEXT    NOT NULL CHECK (role IN ('admin', 'author', 'editor', 'viewer')),
    password_hash   TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- The TOTP secret (Fernet), set at enrolment and used once enabled.
    totp_secret_enc TEXT    NOT NULL DEFAULT '',
    totp_enabled_at INTEGER,
    -- The last time step accepted: a code is good once (RFC 6238 §5.2).
    totp_last_step  INTEGER NOT NULL DEFAULT 0
);

-- Only hashes of the recovery codes; each row is one unused code.
CREATE TABLE recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- Third-party credentials entered through the API (the Ideogram key),
-- encrypted. Keys given in the environment are never copied here.
CREATE TABLE credentials (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    value_enc  TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);`); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, email, role, password_hash, created_at, updated_at FROM users ORDER BY id`)
	if err != nil {
		return err
	}
	type row struct {
		id, created, updated int64
		email, role, hash    string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.email, &r.role, &r.hash, &r.created, &r.updated); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range all {
		enc, err := kr.Encrypt([]byte(r.email))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users_encrypted (id, email_index, email_enc, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.id, kr.BlindIndex(r.email), enc, r.role, r.hash, r.created, r.updated); err != nil {
			return fmt.Errorf("user %d: %w", r.id, err)
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE users; ALTER TABLE users_encrypted RENAME TO users;`)
	return err
}
