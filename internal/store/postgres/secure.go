package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

// seal encrypts a value for storage; "" stays "" (nothing to hide, and an
// empty column reads as "not set").
func (d *DB) seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	return d.secrets.Encrypt([]byte(plain))
}

// open decrypts a stored value; "" stays "".
func (d *DB) open(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	b, err := d.secrets.Decrypt(token)
	return string(b), err
}

// errUndecryptable names the row whose value no key opens: the key that
// encrypted it is not in ENCRYPTION_KEY / ENCRYPTION_KEY_PREVIOUS.
func errUndecryptable(what string, id int64, err error) error {
	return fmt.Errorf("%s %d: an encrypted value does not decrypt with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS (was the key changed without keeping the old one?): %w", what, id, err)
}

// TwoFactorOf returns the second-factor state of user id.
func (d *DB) TwoFactorOf(ctx context.Context, id int64) (*bindery.TwoFactor, error) {
	var enc string
	var enabled *int64
	var tf bindery.TwoFactor
	err := d.pool.QueryRow(ctx, `SELECT totp_secret_enc, totp_enabled_at, totp_last_step FROM users WHERE id = $1`, id).Scan(&enc, &enabled, &tf.LastStep)
	if err != nil {
		return nil, notFound(err, "User not found.")
	}
	if tf.Secret, err = d.open(enc); err != nil {
		return nil, errUndecryptable("user", id, err)
	}
	tf.EnabledAt = optTS(enabled)
	if err := d.pool.QueryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1`, id).Scan(&tf.RecoveryCodes); err != nil {
		return nil, err
	}
	return &tf, nil
}

// SetTwoFactorSecret stores a new, not yet enabled, secret for user id.
// ECONFLICT when the second factor is already on: it must be turned off
// (with a code) before another secret replaces it.
func (d *DB) SetTwoFactorSecret(ctx context.Context, id int64, secret string, at time.Time) error {
	enc, err := d.seal(secret)
	if err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, `UPDATE users SET totp_secret_enc = $1, totp_last_step = 0, updated_at = $2 WHERE id = $3 AND totp_enabled_at IS NULL`, enc, ts(at), id)
	if err := rowsAffected(tag, err, ""); err != nil {
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			if _, err := d.UserByID(ctx, id); err != nil {
				return err
			}
			return bindery.Errorf(bindery.ECONFLICT, "Two-factor sign-in is already on; turn it off first.")
		}
		return err
	}
	return nil
}

// EnableTwoFactor turns the pending secret on, records step as used and
// replaces the recovery codes with hashes, in one transaction.
func (d *DB) EnableTwoFactor(ctx context.Context, id int64, step int64, recoveryHashes []string, at time.Time) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET totp_enabled_at = $1, totp_last_step = $2, updated_at = $1 WHERE id = $3 AND totp_enabled_at IS NULL AND totp_secret_enc != ''`, ts(at), step, id)
		if err := rowsAffected(tag, err, "There is no pending two-factor enrolment; start again."); err != nil {
			return err
		}
		return replaceRecoveryCodes(ctx, tx, id, recoveryHashes)
	})
}

// ReplaceRecoveryCodes discards the unused recovery codes of user id and
// stores the new hashes.
func (d *DB) ReplaceRecoveryCodes(ctx context.Context, id int64, hashes []string) error {
	return d.tx(ctx, func(tx pgx.Tx) error { return replaceRecoveryCodes(ctx, tx, id, hashes) })
}

func replaceRecoveryCodes(ctx context.Context, tx pgx.Tx, id int64, hashes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, id); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)`, id, h); err != nil {
			return err
		}
	}
	return nil
}

// DisableTwoFactor removes the secret and the recovery codes of user id.
func (d *DB) DisableTwoFactor(ctx context.Context, id int64, at time.Time) error {
	return d.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET totp_secret_enc = '', totp_enabled_at = NULL, totp_last_step = 0, updated_at = $1 WHERE id = $2`, ts(at), id)
		if err := rowsAffected(tag, err, "User not found."); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, id)
		return err
	})
}

// UseTwoFactorStep records step as the last accepted time step of user id
// if it is later than the one recorded, and reports whether it was: a
// conditional UPDATE, which PostgreSQL re-checks against the row as a
// racing transaction left it, so two requests with the same code cannot
// both win.
func (d *DB) UseTwoFactorStep(ctx context.Context, id int64, step int64) (bool, error) {
	n, err := affected(d.pool.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_enabled_at IS NOT NULL AND totp_last_step < $1`, step, id))
	return n == 1, err
}

// UseRecoveryCode deletes the recovery code with this hash and reports
// whether there was one: each code works once, even under a race.
func (d *DB) UseRecoveryCode(ctx context.Context, id int64, hash string) (bool, error) {
	n, err := affected(d.pool.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2`, id, hash))
	return n == 1, err
}

// UseChallenge records a used sign-in challenge; see
// bindery.TwoFactorStore. The PRIMARY KEY makes the insert the atomic
// check: of racing callers, one inserts the row and the others wait for
// it and then find it.
func (d *DB) UseChallenge(ctx context.Context, idHash []byte, expiresAt, now time.Time) (bool, error) {
	won := false
	err := d.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM used_challenges WHERE expires_at <= $1`, ts(now)); err != nil {
			return err
		}
		n, err := affected(tx.Exec(ctx, `INSERT INTO used_challenges (id_hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, idHash, ts(expiresAt)))
		won = n == 1
		return err
	})
	return won, err
}

// PutCredential stores (or replaces) the third-party credential name,
// encrypted.
func (d *DB) PutCredential(ctx context.Context, name, value string, at time.Time) error {
	enc, err := d.seal(value)
	if err != nil {
		return err
	}
	_, err = d.pool.Exec(ctx, `INSERT INTO credentials (name, value_enc, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value_enc = excluded.value_enc, updated_at = excluded.updated_at`, name, enc, ts(at))
	return err
}

// Credential returns the stored credential name, or ENOTFOUND.
func (d *DB) Credential(ctx context.Context, name string) (string, time.Time, error) {
	var id, at int64
	var enc string
	if err := d.pool.QueryRow(ctx, `SELECT id, value_enc, updated_at FROM credentials WHERE name = $1`, name).Scan(&id, &enc, &at); err != nil {
		return "", time.Time{}, notFound(err, "No such credential.")
	}
	v, err := d.open(enc)
	if err != nil {
		return "", time.Time{}, errUndecryptable("credential", id, err)
	}
	return v, fromTS(at), nil
}

// DeleteCredential removes the stored credential name, ENOTFOUND if absent.
func (d *DB) DeleteCredential(ctx context.Context, name string) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM credentials WHERE name = $1`, name)
	return rowsAffected(tag, err, "No such credential.")
}

// encryptedColumns lists every column holding Fernet tokens: what
// `bindery keys rotate` walks. A new encrypted column must be added here,
// or rotation would leave it under a key about to be dropped (a test reads
// the schema and fails on any *_enc column missing from this list).
var encryptedColumns = []column{
	{table: "users", id: "id", value: "email_enc", index: "email_index"},
	{table: "users", id: "id", value: "name_enc"},
	{table: "users", id: "id", value: "totp_secret_enc"},
	{table: "credentials", id: "id", value: "value_enc"},
	{table: "audit_chain", id: "id", value: "key_enc"},
	{table: "book_invitations", id: "id", value: "email_enc", index: "email_index"},
}

// column is one encrypted column, a secretbox.RowSource for Rotate.
type column struct {
	db                      *DB
	table, id, value, index string
}

func (c column) String() string { return c.table + "." + c.value }

// Rows implements secretbox.RowSource.
func (c column) Rows(ctx context.Context, after int64, limit int) ([]secretbox.Row, error) {
	rows, err := c.db.pool.Query(ctx, `SELECT `+c.id+`, `+c.value+` FROM `+c.table+` WHERE `+c.id+` > $1 AND `+c.value+` != '' ORDER BY `+c.id+` LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []secretbox.Row
	for rows.Next() {
		var r secretbox.Row
		if err := rows.Scan(&r.ID, &r.Token); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Commit implements secretbox.RowSource: compare-and-swap updates in one
// transaction.
func (c column) Commit(ctx context.Context, updates []secretbox.Update) (int, error) {
	q := `UPDATE ` + c.table + ` SET ` + c.value + ` = $1 WHERE ` + c.id + ` = $2 AND ` + c.value + ` = $3`
	if c.index != "" {
		q = `UPDATE ` + c.table + ` SET ` + c.value + ` = $1, ` + c.index + ` = $4 WHERE ` + c.id + ` = $2 AND ` + c.value + ` = $3`
	}
	n := 0
	err := c.db.tx(ctx, func(tx pgx.Tx) error {
		for _, u := range updates {
			args := []any{u.New, u.ID, u.Old}
			if c.index != "" {
				args = append(args, u.Index)
			}
			k, err := affected(tx.Exec(ctx, q, args...))
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// BlindIndexed implements secretbox.IndexedSource.
func (c column) BlindIndexed() bool { return c.index != "" }

// RotateKeys re-encrypts every encrypted value under the current key (and
// re-computes blind indexes), column by column; see secretbox.Rotate for
// why it is safe to interrupt and run again, and to run while the servers
// are up. report is told the count per column as each finishes. Once all
// are done, the database's key check moves to the current key.
func (d *DB) RotateKeys(ctx context.Context, report func(column string, rotated int)) error {
	for _, c := range encryptedColumns {
		c.db = d
		n, err := secretbox.Rotate(ctx, c, d.secrets)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		if report != nil {
			report(c.String(), n)
		}
	}
	return d.recordCurrentKey(ctx)
}

// encryptedColumnNames returns "table.column" for every *_enc column in
// the schema (for the test that keeps encryptedColumns complete).
func (d *DB) encryptedColumnNames(ctx context.Context) ([]string, error) {
	rows, err := d.pool.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name LIKE '%\_enc' ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		out = append(out, t+"."+c)
	}
	return out, rows.Err()
}
