package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

// auditSchema is the audit log from version 6 on: no address, a subject
// pseudonym for anonymous actors, the chain columns, and the one-row
// table of the chain's key, anchor and head. The table is built under a
// temporary name and renamed by the migration.
const auditSchema = `
-- The audit log has no foreign key to users: entries outlive accounts,
-- and name them only by id (actor_id, target 'user:<id>').
CREATE TABLE audit_log_chained (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    actor_id    INTEGER,
    -- For anonymous actors: a keyed pseudonym of the account they
    -- claimed ('acct:' + 16 hex digits), never the address.
    subject     TEXT    NOT NULL DEFAULT '',
    client_addr TEXT    NOT NULL DEFAULT '',
    target      TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    -- HMAC-SHA-256 chain (audit_chain.go): hash covers every column and
    -- prev_hash, the previous entry's hash.
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);

-- The chain's key (32 random bytes, Fernet-encrypted with ENCRYPTION_KEY),
-- where the chain starts after retention (anchor) and ends (head), under
-- a MAC with the chain key.
CREATE TABLE audit_chain (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    key_enc     TEXT    NOT NULL,
    anchor_id   INTEGER NOT NULL,
    anchor_prev TEXT    NOT NULL,
    head_id     INTEGER NOT NULL,
    head_hash   TEXT    NOT NULL,
    mac         TEXT    NOT NULL
);
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain cannot be deleted');
END;`

// auditSchemaAfter runs once the new table has its final name.
const auditSchemaAfter = `
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);
CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id) WHERE subject != '';
CREATE INDEX audit_log_at ON audit_log (at);

-- Append-only: the application cannot rewrite history, whatever bug or
-- injected statement tries.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- Retention removes the oldest entries, and only after moving the chain's
-- anchor past them (PurgeAudit, one transaction): any other delete is
-- refused.
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.id != (SELECT MIN(id) FROM audit_log)
  OR OLD.id >= COALESCE((SELECT anchor_id FROM audit_chain WHERE id = 1), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: only retention removes entries, oldest first');
END;`

// migrateAuditChain (version 6) takes personal data out of the audit log
// and chains it. The table is rebuilt (SQLite cannot drop a column with
// its constraints; see migrate for why foreign keys are off):
//
//   - actor_email goes. For an entry with an actor_id it was redundant and
//     is dropped; for an anonymous actor (a failed sign-in) it becomes the
//     subject, auditchain.Pseudonym(kr, address): the same function the auth service
//     uses, so old and new failures against one account match.
//   - Addresses that earlier versions wrote into target and detail (the
//     user an admin created, changed or deleted; a book's new member)
//     become "user:<id>" when an account still has that address, or the
//     pseudonym when none does.
//   - Every entry is then chained, in id order, under a new chain key, and
//     the AUTOINCREMENT counter is carried over (a truncation before the
//     migration stays visible to VerifyAudit).
//
// The old table's pages are overwritten with zeros when it is dropped
// (secure_delete, see OpenPool), so the addresses do not linger in the
// file's free pages.
func migrateAuditChain(ctx context.Context, tx *sql.Tx, kr *secretbox.Keyring) error {
	if _, err := tx.ExecContext(ctx, auditSchema); err != nil {
		return err
	}
	oldSeq, err := auditSeq(ctx, tx)
	if err != nil {
		return err
	}
	var first sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(id) FROM audit_log`).Scan(&first); err != nil {
		return err
	}
	anchor := oldSeq + 1 // an empty log: the chain starts at the next id
	if first.Valid {
		anchor = first.Int64
	}
	st, err := auditchain.New(ctx, chainTx{tx}, kr, anchor, "")
	if err != nil {
		return err
	}
	scrub := addressScrubber(ctx, tx, kr)
	var after int64
	for {
		page, err := oldAuditPage(ctx, tx, after)
		if err != nil {
			return err
		}
		for _, o := range page {
			e := o.event
			if e.ActorID == nil && o.email != "" {
				e.Subject = auditchain.Pseudonym(kr, o.email)
			}
			if e.Target, err = scrub(e.Target); err != nil {
				return err
			}
			if e.Detail, err = scrub(e.Detail); err != nil {
				return err
			}
			e.PrevHash = st.HeadHash
			e.Hash = auditchain.EntryHash(st.Key, &e)
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log_chained (id, at, action, actor_id, subject, client_addr, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.ID, ts(e.At), e.Action, o.actor, e.Subject, e.ClientAddr, e.Target, e.Detail, e.PrevHash, e.Hash); err != nil {
				return fmt.Errorf("audit entry %d: %w", e.ID, err)
			}
			st.HeadID, st.HeadHash = e.ID, e.Hash
			after = e.ID
		}
		if len(page) < auditPage {
			break
		}
	}
	if err := st.Save(ctx, chainTx{tx}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE audit_log; ALTER TABLE audit_log_chained RENAME TO audit_log;`); err != nil {
		return err
	}
	// DROP took the old counter with it; the rename carried the new one.
	if _, err := tx.ExecContext(ctx, `DELETE FROM sqlite_sequence WHERE name = 'audit_log'`); err != nil {
		return err
	}
	if seq := max(oldSeq, st.HeadID); seq > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES ('audit_log', ?)`, seq); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, auditSchemaAfter)
	return err
}

// oldEntry is an entry of the version-1 audit log.
type oldEntry struct {
	event bindery.AuditEvent
	actor sql.NullInt64
	email string
}

func oldAuditPage(ctx context.Context, tx *sql.Tx, after int64) ([]oldEntry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, at, action, actor_id, actor_email, client_addr, target, detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`, after, auditPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []oldEntry
	for rows.Next() {
		var o oldEntry
		var at int64
		e := &o.event
		if err := rows.Scan(&e.ID, &at, &e.Action, &o.actor, &o.email, &e.ClientAddr, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromTS(at)
		if o.actor.Valid {
			id := o.actor.Int64
			e.ActorID = &id
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// addressLike matches what earlier versions wrote as an address: anything
// around an @ up to a space or punctuation that cannot be in one.
var addressLike = regexp.MustCompile(`[^\s@<>()\[\],;:"']+@[^\s@<>()\[\],;:"']+`)

// addressScrubber returns a function that replaces every address in a
// text with "user:<id>" of the account that has it, or its pseudonym.
func addressScrubber(ctx context.Context, tx *sql.Tx, kr *secretbox.Keyring) func(string) (string, error) {
	return func(s string) (string, error) {
		var err error
		out := addressLike.ReplaceAllStringFunc(s, func(addr string) string {
			for _, idx := range kr.BlindIndexes(addr) {
				var id int64
				switch e := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email_index = ?`, idx).Scan(&id); {
				case e == nil:
					return bindery.UserTarget(id)
				case e != sql.ErrNoRows:
					err = e
				}
			}
			return auditchain.Pseudonym(kr, addr)
		})
		return out, err
	}
}
