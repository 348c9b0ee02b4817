-- SQLite's version 6 (a Go step there, which scrubs addresses out of
-- existing entries and chains them): no address in the log, a subject
-- pseudonym for anonymous actors, the chain columns, and the one-row
-- table of the chain's key, anchor and head (package auditchain). A
-- PostgreSQL database has no entries from before the chain: prev_hash and
-- hash are NOT NULL without a default, so this step fails, rather than
-- leave an unchained entry, if it ever had. The chain's record, with a new
-- random key, is made by the Go half of this step (db.go, afterSQL).

ALTER TABLE audit_log DROP COLUMN actor_email;
-- For anonymous actors: a keyed pseudonym of the account they claimed
-- ('acct:' + 16 hex digits), never the address.
ALTER TABLE audit_log ADD COLUMN subject TEXT NOT NULL DEFAULT '';
-- HMAC-SHA-256 chain: hash covers every column and prev_hash, the
-- previous entry's hash.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL;
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL;

CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE INDEX audit_log_subject ON audit_log (subject, id) WHERE subject != '';
CREATE INDEX audit_log_at ON audit_log (at);

-- The chain's key (32 random bytes, Fernet-encrypted with ENCRYPTION_KEY),
-- where the chain starts after retention (anchor) and ends (head), under
-- a MAC with the chain key.
CREATE TABLE audit_chain (
    id          BIGINT  PRIMARY KEY CHECK (id = 1),
    key_enc     TEXT    NOT NULL,
    anchor_id   BIGINT  NOT NULL,
    anchor_prev TEXT    NOT NULL,
    head_id     BIGINT  NOT NULL,
    head_hash   TEXT    NOT NULL,
    mac         TEXT    NOT NULL
);
CREATE FUNCTION audit_chain_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_chain cannot be deleted';
END $$;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_keep();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_keep();

-- Retention removes the oldest entries, and only after moving the chain's
-- anchor past them (PurgeAudit, one transaction): any delete at or after
-- the anchor, or with no anchor at all, is refused. (SQLite also refuses
-- a row that is not the oldest; rows before the anchor are outside the
-- chain, and PurgeAudit deletes them all in one statement, whose row
-- order PostgreSQL does not promise.)
CREATE FUNCTION audit_log_retention_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id >= COALESCE((SELECT anchor_id FROM audit_chain WHERE id = 1), 0) THEN
        RAISE EXCEPTION 'audit_log is append-only: only retention removes entries, oldest first';
    END IF;
    RETURN OLD;
END $$;
DROP TRIGGER audit_log_no_delete ON audit_log;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_retention_only();
