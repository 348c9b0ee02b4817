package sqlite

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

// The audit chain.
//
// Every audit entry stores prev_hash, the hash of the entry before it, and
// hash = HMAC-SHA-256(chain key, an unambiguous encoding of every field of
// the entry, prev_hash included; see entryHash). Editing any field of any
// entry, or deleting an entry from the middle, breaks the link at that
// point; VerifyAudit walks the log and names the first break.
//
// Why keyed: with a plain hash, whoever can write the database file could
// edit an entry and recompute every hash after it, and the chain would
// prove nothing. The chain key is 32 random bytes stored only encrypted
// with ENCRYPTION_KEY (Fernet, in audit_chain.key_enc, which `bindery keys
// rotate` re-encrypts), so a copy of or write access to the database alone
// is not enough to forge a hash.
//
// The limit: someone holding both the database and ENCRYPTION_KEY (the
// running server's host, typically) can recompute the whole chain and
// rewrite history undetectably. The mitigation is outside the database:
// copy the head (`bindery audit verify` prints it) or an export
// (`bindery audit export`) regularly to a place those writers cannot
// reach; a later rewrite no longer matches the copy.
//
// Retention deletes entries oldest-first. The chain then starts at an
// anchor: the first remaining id and its prev_hash, kept with the head
// (the last entry's id and hash) in the one-row table audit_chain under a
// MAC made with the chain key, so that neither can be moved to hide a
// deletion at either end. The DELETE trigger refuses any row that is not
// the oldest, or that is at or after the anchor: PurgeAudit moves the
// anchor first, in the same transaction.

// chainKeySize is the size of the chain key, in bytes.
const chainKeySize = 32

// Domain labels of the two MACs: an entry's hash and the state's MAC can
// never be confused with each other, nor with a future version.
const (
	entryLabel = "bindery audit entry v1"
	stateLabel = "bindery audit state v1"
)

// chainState is the row of audit_chain, with the key decrypted.
type chainState struct {
	key        []byte
	keyEnc     string
	anchorID   int64  // the id the chain starts at
	anchorPrev string // that entry's prev_hash ("" at the very start)
	headID     int64  // the last entry's id (anchorID-1 when empty)
	headHash   string // the last entry's hash (anchorPrev when empty)
	mac        string
}

// encoder builds the unambiguous byte string that is MACed: fixed-width
// integers and length-prefixed strings, so that no two different field
// lists encode alike ("ab","c" vs "a","bc").
type encoder []byte

// int writes n's two's-complement bits: a bijection, so negative values
// (never stored, but possible) still encode uniquely.
func (b *encoder) int(n int64) { *b = binary.BigEndian.AppendUint64(*b, uint64(n)) } // #nosec G115 -- reinterpreting the bits is the intent

func (b *encoder) str(s string) {
	*b = binary.BigEndian.AppendUint64(*b, uint64(len(s)))
	*b = append(*b, s...)
}

func (b *encoder) optInt(p *int64) {
	if p == nil {
		*b = append(*b, 0)
		return
	}
	*b = append(*b, 1)
	b.int(*p)
}

func mac(key []byte, b encoder) string {
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// entryHash is the hash of e: every stored field, prev_hash included, in
// a fixed order. e.At counts in nanoseconds, as stored.
func entryHash(key []byte, e *bindery.AuditEvent) string {
	var b encoder
	b.str(entryLabel)
	b.int(e.ID)
	b.int(ts(e.At))
	b.str(e.Action)
	b.optInt(e.ActorID)
	b.str(e.Subject)
	b.str(e.ClientAddr)
	b.str(e.Target)
	b.str(e.Detail)
	b.str(e.PrevHash)
	return mac(key, b)
}

// stateMAC authenticates the anchor and the head.
func (st *chainState) stateMAC() string {
	var b encoder
	b.str(stateLabel)
	b.int(st.anchorID)
	b.str(st.anchorPrev)
	b.int(st.headID)
	b.str(st.headHash)
	return mac(st.key, b)
}

// errChainState is returned by appends and purges when the anchor and head
// record does not verify: writing on top of it would authenticate whatever
// someone put there.
var errChainState = errors.New("the audit chain's anchor and head record does not verify (tampering?); run `bindery audit verify`")

// newChain creates the chain state with a fresh random key, for a log
// whose next entry will be anchorID, following anchorPrev.
func newChain(ctx context.Context, tx *sql.Tx, kr *secretbox.Keyring, anchorID int64, anchorPrev string) (*chainState, error) {
	key := make([]byte, chainKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	enc, err := kr.Encrypt(key)
	if err != nil {
		return nil, err
	}
	st := &chainState{key: key, keyEnc: enc, anchorID: anchorID, anchorPrev: anchorPrev, headID: anchorID - 1, headHash: anchorPrev}
	st.mac = st.stateMAC()
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_chain (id, key_enc, anchor_id, anchor_prev, head_id, head_hash, mac) VALUES (1, ?, ?, ?, ?, ?, ?)`,
		st.keyEnc, st.anchorID, st.anchorPrev, st.headID, st.headHash, st.mac)
	return st, err
}

// querier is what loadChain reads through: a transaction or the pool.
type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// loadChain reads and decrypts the chain state. It returns
// bindery.ENOTFOUND when there is no state row. The MAC is not checked
// here (see valid).
func loadChain(ctx context.Context, q querier, kr *secretbox.Keyring) (*chainState, error) {
	st := &chainState{}
	err := q.QueryRowContext(ctx, `SELECT key_enc, anchor_id, anchor_prev, head_id, head_hash, mac FROM audit_chain WHERE id = 1`).
		Scan(&st.keyEnc, &st.anchorID, &st.anchorPrev, &st.headID, &st.headHash, &st.mac)
	if err != nil {
		return nil, notFound(err, "The audit chain has no anchor record.")
	}
	if st.key, err = kr.Decrypt(st.keyEnc); err != nil {
		return nil, errUndecryptable("audit chain key", 1, err)
	}
	if len(st.key) != chainKeySize {
		return nil, fmt.Errorf("audit chain key: %d bytes, want %d", len(st.key), chainKeySize)
	}
	return st, nil
}

// valid reports whether the state's MAC is right.
func (st *chainState) valid() bool {
	return hmac.Equal([]byte(st.mac), []byte(st.stateMAC()))
}

// save writes the anchor and head with a fresh MAC.
func (st *chainState) save(ctx context.Context, tx *sql.Tx) error {
	st.mac = st.stateMAC()
	_, err := tx.ExecContext(ctx, `UPDATE audit_chain SET anchor_id = ?, anchor_prev = ?, head_id = ?, head_hash = ?, mac = ? WHERE id = 1`,
		st.anchorID, st.anchorPrev, st.headID, st.headHash, st.mac)
	return err
}

// writableChain loads the state for an append or a purge, inside tx. A
// log that never had an entry gets its state made here (first use); a
// missing state with entries, or one whose MAC fails, is refused
// (errChainState): appending would launder the tampering.
func writableChain(ctx context.Context, tx *sql.Tx, kr *secretbox.Keyring) (*chainState, error) {
	st, err := loadChain(ctx, tx, kr)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		seq, err := auditSeq(ctx, tx)
		if err != nil {
			return nil, err
		}
		if seq != 0 {
			return nil, errChainState
		}
		return newChain(ctx, tx, kr, 1, "")
	} else if err != nil {
		return nil, err
	}
	if !st.valid() {
		return nil, errChainState
	}
	return st, nil
}

// auditSeq is the last id AUTOINCREMENT handed out for audit_log (0 when
// none): a row deleted from the end leaves it behind, which is how a
// truncated tail shows even without the head.
func auditSeq(ctx context.Context, q querier) (int64, error) {
	var seq int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)`).Scan(&seq)
	return seq, err
}

// appendEntry chains e after the head and inserts it, then moves the head.
// The id is chosen here (the next AUTOINCREMENT value, never reusing one
// handed out) because it is part of the hash.
func appendEntry(ctx context.Context, tx *sql.Tx, st *chainState, e *bindery.AuditEvent) error {
	seq, err := auditSeq(ctx, tx)
	if err != nil {
		return err
	}
	e.ID = max(seq, st.headID) + 1
	e.PrevHash = st.headHash
	e.At = fromTS(ts(e.At)) // what is stored, so e.Hash matches a re-read
	e.Hash = entryHash(st.key, e)
	var actor sql.NullInt64
	if e.ActorID != nil {
		actor = sql.NullInt64{Int64: *e.ActorID, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, action, actor_id, subject, client_addr, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, ts(e.At), e.Action, actor, e.Subject, e.ClientAddr, e.Target, e.Detail, e.PrevHash, e.Hash); err != nil {
		return err
	}
	st.headID, st.headHash = e.ID, e.Hash
	return st.save(ctx, tx)
}

// chainWalker checks entries one by one, oldest first, from the anchor.
type chainWalker struct {
	key    []byte
	nextID int64  // the id the next entry should have
	prev   string // the hash the next entry should link to
	n      int    // entries verified
}

func newWalker(st *chainState) *chainWalker {
	return &chainWalker{key: st.key, nextID: st.anchorID, prev: st.anchorPrev}
}

// step verifies e against the walk so far, and returns the break it finds
// or nil (and then advances past e).
func (w *chainWalker) step(e *bindery.AuditEvent) *bindery.AuditBreak {
	switch {
	case e.ID < w.nextID:
		return &bindery.AuditBreak{ID: e.ID, Reason: bindery.AuditBreakEdited, Detail: fmt.Sprintf("entry %d is out of sequence: the chain expects %d next", e.ID, w.nextID)}
	case !hmac.Equal([]byte(entryHash(w.key, e)), []byte(e.Hash)):
		return &bindery.AuditBreak{ID: e.ID, Reason: bindery.AuditBreakEdited, Detail: fmt.Sprintf("entry %d does not match its hash: it was changed after it was written", e.ID)}
	case e.PrevHash != w.prev || e.ID != w.nextID:
		return &bindery.AuditBreak{ID: e.ID, Reason: bindery.AuditBreakMissing, Detail: fmt.Sprintf("entry %d does not follow the one before it: %s", e.ID, missing(w.nextID, e.ID-1))}
	}
	w.n++
	w.nextID, w.prev = e.ID+1, e.Hash
	return nil
}

// missing describes the id range from..to as missing.
func missing(from, to int64) string {
	switch {
	case to < from:
		return "it links to another entry than the one before it"
	case to == from:
		return fmt.Sprintf("entry %d is missing", from)
	}
	return fmt.Sprintf("entries %d to %d are missing", from, to)
}

// VerifyAudit recomputes the chain from the anchor to the head, in one
// read transaction (a consistent snapshot; appends are not blocked), and
// reports the first break:
//
//   - AuditBreakAnchor: the anchor and head record was changed or deleted
//     (its MAC fails): nothing after it can be trusted;
//   - AuditBreakEdited: an entry's fields do not match its hash;
//   - AuditBreakMissing: an entry does not link to the one before it
//     (entries deleted from the middle, or from the start past the anchor);
//   - AuditBreakTruncated: the log ends before the recorded head, or before
//     the last id SQLite handed out (sqlite_sequence).
//
// An undecryptable chain key is an error, not a break: the key that
// encrypted it is missing from the keyring.
func (d *DB) VerifyAudit(ctx context.Context) (bindery.AuditVerification, error) {
	var v bindery.AuditVerification
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return v, err
	}
	defer tx.Rollback()
	st, err := loadChain(ctx, tx, d.secrets)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		v.Broken = &bindery.AuditBreak{Reason: bindery.AuditBreakAnchor, Detail: "the audit chain's anchor and head record is missing"}
		return v, nil
	} else if err != nil {
		return v, err
	}
	v.AnchorID = st.anchorID
	if !st.valid() {
		v.Broken = &bindery.AuditBreak{Reason: bindery.AuditBreakAnchor, Detail: "the audit chain's anchor and head record does not match its MAC: it was changed outside Bindery"}
		return v, nil
	}
	w := newWalker(st)
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY id`)
	if err != nil {
		return v, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return v, err
		}
		if v.Broken = w.step(e); v.Broken != nil {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return v, err
	}
	rows.Close()
	v.Entries, v.HeadID, v.Head = w.n, w.nextID-1, w.prev
	if v.Broken != nil {
		return v, nil
	}
	seq, err := auditSeq(ctx, tx)
	if err != nil {
		return v, err
	}
	last := w.nextID - 1
	switch {
	case st.headID > last || seq > last:
		end := max(st.headID, seq)
		v.Broken = &bindery.AuditBreak{ID: last + 1, Reason: bindery.AuditBreakTruncated, Detail: "the log ends early: " + missing(last+1, end)}
	case st.headID < last:
		v.Broken = &bindery.AuditBreak{ID: st.headID + 1, Reason: bindery.AuditBreakAnchor, Detail: fmt.Sprintf("the recorded head is entry %d but the log goes on to %d", st.headID, last)}
	case st.headHash != w.prev:
		v.Broken = &bindery.AuditBreak{ID: last, Reason: bindery.AuditBreakEdited, Detail: fmt.Sprintf("entry %d is not the one recorded as the head", last)}
	}
	return v, nil
}

// PurgeAudit deletes the entries older than before as a prefix of the
// chain, after checking that the prefix itself verifies (retention must
// not erase the evidence of tampering: a broken prefix is an error and
// nothing is deleted), moves the anchor to the first entry kept, and
// appends an AuditPurged entry stamped at, in one transaction.
func (d *DB) PurgeAudit(ctx context.Context, before, at time.Time) (int, error) {
	n := 0
	err := d.tx(ctx, func(tx *sql.Tx) error {
		st, err := writableChain(ctx, tx, d.secrets)
		if err != nil {
			return err
		}
		// The first entry to keep; everything before it is older than
		// before (ids and times grow together, and where a clock stepped
		// back the purge stops early rather than skip an entry).
		var keep sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(id) FROM audit_log WHERE at >= ?`, ts(before)).Scan(&keep); err != nil {
			return err
		}
		end := st.headID + 1
		if keep.Valid {
			end = keep.Int64
		}
		if end <= st.anchorID {
			return nil
		}
		w := newWalker(st)
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE id < ? ORDER BY id`, end)
		if err != nil {
			return err
		}
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if b := w.step(e); b != nil {
				rows.Close()
				return fmt.Errorf("not purging the audit log: the chain is broken at entry %d (%s): %s", b.ID, b.Reason, b.Detail)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if w.nextID != end {
			return fmt.Errorf("not purging the audit log: %s", missing(w.nextID, end-1))
		}
		n = w.n
		// Move the anchor first: the DELETE trigger refuses rows at or
		// after it.
		st.anchorID, st.anchorPrev = end, w.prev
		if err := st.save(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id < ?`, end); err != nil {
			return err
		}
		return appendEntry(ctx, tx, st, &bindery.AuditEvent{At: at, Action: bindery.AuditPurged,
			Detail: fmt.Sprintf("%d entries older than %s; the chain now starts at entry %d", n, before.UTC().Format(time.RFC3339), end)})
	})
	return n, err
}

// Pseudonym is how the audit log names the account an anonymous actor
// claimed (a failed sign-in): "acct:" and the first 16 hex digits (64
// bits) of the address's blind index under the keyring's current key.
// Like the index it is keyed, so it cannot be reversed or recomputed
// without ENCRYPTION_KEY, and it is equal for equal addresses (after
// NormalizeEmail's trimming and lower-casing), so failures against one
// account can be correlated. The server's auth service and the migration
// that removed addresses from the log both use it, so old and new entries
// match.
func Pseudonym(kr *secretbox.Keyring, email string) string {
	return pseudonymOf(kr.BlindIndex(email))
}

// Pseudonyms returns the pseudonyms of email under every key of the
// keyring, current first: what selects the entries about a person
// (bindery.AuditPerson.Subjects), since entries written before a key
// rotation carry the pseudonym under the previous key.
func Pseudonyms(kr *secretbox.Keyring, email string) []string {
	idx := kr.BlindIndexes(email)
	out := make([]string, len(idx))
	for i, x := range idx {
		out[i] = pseudonymOf(x)
	}
	return out
}

func pseudonymOf(index string) string { return "acct:" + index[:16] }
