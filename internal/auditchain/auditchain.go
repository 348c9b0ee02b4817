// Package auditchain is the tamper evidence of the audit log, whatever
// database holds it: the encoding and the keyed hash of an entry, the MAC
// of the chain's anchor and head, appending, verifying and purging, and
// the pseudonym that names an anonymous actor. The stores (store/sqlite,
// store/postgres) only move rows: they implement Tx inside one of their
// transactions, so both compute and check the same chain, byte for byte.
//
// # The chain
//
// Every audit entry stores prev_hash, the hash of the entry before it, and
// hash = HMAC-SHA-256(chain key, an unambiguous encoding of every field of
// the entry, prev_hash included; see EntryHash). Editing any field of any
// entry, or deleting an entry from the middle, breaks the link at that
// point; Verify walks the log and names the first break.
//
// Why keyed: with a plain hash, whoever can write the database could edit
// an entry and recompute every hash after it, and the chain would prove
// nothing. The chain key is 32 random bytes stored only encrypted with
// ENCRYPTION_KEY (Fernet, in audit_chain.key_enc, which `bindery keys
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
// deletion at either end. The stores' DELETE triggers refuse any row at or
// after the anchor: Purge moves the anchor first, in the same transaction.
//
// # Concurrency
//
// Append reads the head and writes after it: the store must run it in a
// transaction that no other Append or Purge can interleave with (SQLite's
// immediate transactions; PostgreSQL's transaction-scoped advisory lock,
// which also serialises several nodes). Verify needs only a consistent
// snapshot.
package auditchain

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/secretbox"
)

// KeySize is the size of the chain key, in bytes.
const KeySize = 32

// Domain labels of the two MACs: an entry's hash and the state's MAC can
// never be confused with each other, nor with a future version.
const (
	entryLabel = "bindery audit entry v1"
	stateLabel = "bindery audit state v1"
)

// State is the row of audit_chain, with the key decrypted (Key is nil in
// what Tx.LoadState returns: Load decrypts it).
type State struct {
	Key        []byte
	KeyEnc     string
	AnchorID   int64  // the id the chain starts at
	AnchorPrev string // that entry's prev_hash ("" at the very start)
	HeadID     int64  // the last entry's id (AnchorID-1 when empty)
	HeadHash   string // the last entry's hash (AnchorPrev when empty)
	MAC        string
}

// Tx is what the chain needs from a store, inside one transaction.
type Tx interface {
	// LoadState returns the stored anchor and head record (Key unset), or
	// ok false when there is none.
	LoadState(ctx context.Context) (st State, ok bool, err error)
	// InsertState creates the record (the store has none yet).
	InsertState(ctx context.Context, st *State) error
	// SaveState writes AnchorID, AnchorPrev, HeadID, HeadHash and MAC.
	SaveState(ctx context.Context, st *State) error
	// LastID is the last id the store ever handed out for an audit entry
	// (0 when none), kept apart from the log (SQLite's sqlite_sequence, a
	// counter row in PostgreSQL) and never decreasing: an entry deleted
	// from the end leaves it behind, which is how a truncated tail shows
	// even without the head.
	LastID(ctx context.Context) (int64, error)
	// Insert stores e as it is, with its ID, PrevHash and Hash, and moves
	// LastID up to e.ID.
	Insert(ctx context.Context, e *bindery.AuditEvent) error
	// Walk calls fn with every entry whose id is below before (every
	// entry when before is 0), in id order, and stops at fn's first error.
	Walk(ctx context.Context, before int64, fn func(*bindery.AuditEvent) error) error
	// FirstSince returns the smallest id of an entry stamped at or after
	// t; ok false when there is none.
	FirstSince(ctx context.Context, t time.Time) (id int64, ok bool, err error)
	// DeleteBefore deletes the entries whose id is below id.
	DeleteBefore(ctx context.Context, id int64) error
}

// TS is how the stores keep a time, and how the hash sees it: Unix
// nanoseconds, UTC.
func TS(t time.Time) int64 { return t.UTC().UnixNano() }

// FromTS is the inverse of TS.
func FromTS(n int64) time.Time { return time.Unix(0, n).UTC() }

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

// EntryHash is the hash of e: every stored field, prev_hash included, in
// a fixed order. e.At counts in nanoseconds, as stored.
func EntryHash(key []byte, e *bindery.AuditEvent) string {
	var b encoder
	b.str(entryLabel)
	b.int(e.ID)
	b.int(TS(e.At))
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
func (st *State) stateMAC() string {
	var b encoder
	b.str(stateLabel)
	b.int(st.AnchorID)
	b.str(st.AnchorPrev)
	b.int(st.HeadID)
	b.str(st.HeadHash)
	return mac(st.Key, b)
}

// Valid reports whether the state's MAC is right.
func (st *State) Valid() bool {
	return hmac.Equal([]byte(st.MAC), []byte(st.stateMAC()))
}

// Save writes the anchor and head through tx with a fresh MAC.
func (st *State) Save(ctx context.Context, tx Tx) error {
	st.MAC = st.stateMAC()
	return tx.SaveState(ctx, st)
}

// ErrState is returned by appends and purges when the anchor and head
// record does not verify: writing on top of it would authenticate whatever
// someone put there.
var ErrState = errors.New("the audit chain's anchor and head record does not verify (tampering?); run `bindery audit verify`")

// New creates the chain state with a fresh random key, for a log whose
// next entry will be anchorID, following anchorPrev, and inserts it.
func New(ctx context.Context, tx Tx, kr *secretbox.Keyring, anchorID int64, anchorPrev string) (*State, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	enc, err := kr.Encrypt(key)
	if err != nil {
		return nil, err
	}
	st := &State{Key: key, KeyEnc: enc, AnchorID: anchorID, AnchorPrev: anchorPrev, HeadID: anchorID - 1, HeadHash: anchorPrev}
	st.MAC = st.stateMAC()
	return st, tx.InsertState(ctx, st)
}

// Load reads and decrypts the chain state. It returns bindery.ENOTFOUND
// when there is no state row. The MAC is not checked here (see Valid).
func Load(ctx context.Context, tx Tx, kr *secretbox.Keyring) (*State, error) {
	st, ok, err := tx.LoadState(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, bindery.Errorf(bindery.ENOTFOUND, "The audit chain has no anchor record.")
	}
	if st.Key, err = kr.Decrypt(st.KeyEnc); err != nil {
		return nil, fmt.Errorf("audit chain key 1: an encrypted value does not decrypt with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS (was the key changed without keeping the old one?): %w", err)
	}
	if len(st.Key) != KeySize {
		return nil, fmt.Errorf("audit chain key: %d bytes, want %d", len(st.Key), KeySize)
	}
	return &st, nil
}

// writable loads the state for an append or a purge. A log that never had
// an entry gets its state made here (first use); a missing state with
// entries, or one whose MAC fails, is refused (ErrState): appending would
// launder the tampering.
func writable(ctx context.Context, tx Tx, kr *secretbox.Keyring) (*State, error) {
	st, err := Load(ctx, tx, kr)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		seq, err := tx.LastID(ctx)
		if err != nil {
			return nil, err
		}
		if seq != 0 {
			return nil, ErrState
		}
		return New(ctx, tx, kr, 1, "")
	} else if err != nil {
		return nil, err
	}
	if !st.Valid() {
		return nil, ErrState
	}
	return st, nil
}

// Append chains e after the head and inserts it, then moves the head, and
// sets e's ID, PrevHash and Hash. It fails when the chain's anchor record
// does not verify. The caller serialises appends (see the package doc).
func Append(ctx context.Context, tx Tx, kr *secretbox.Keyring, e *bindery.AuditEvent) error {
	st, err := writable(ctx, tx, kr)
	if err != nil {
		return err
	}
	return appendEntry(ctx, tx, st, e)
}

// appendEntry chains e after st's head. The id is chosen here (the next
// value after the last ever handed out) because it is part of the hash.
func appendEntry(ctx context.Context, tx Tx, st *State, e *bindery.AuditEvent) error {
	seq, err := tx.LastID(ctx)
	if err != nil {
		return err
	}
	e.ID = max(seq, st.HeadID) + 1
	e.PrevHash = st.HeadHash
	e.At = FromTS(TS(e.At)) // what is stored, so e.Hash matches a re-read
	e.Hash = EntryHash(st.Key, e)
	if err := tx.Insert(ctx, e); err != nil {
		return err
	}
	st.HeadID, st.HeadHash = e.ID, e.Hash
	return st.Save(ctx, tx)
}

// Walker checks entries one by one, oldest first, from the anchor.
type Walker struct {
	key    []byte
	nextID int64  // the id the next entry should have
	prev   string // the hash the next entry should link to
	n      int    // entries verified
}

// NewWalker starts a walk at st's anchor.
func NewWalker(st *State) *Walker {
	return &Walker{key: st.Key, nextID: st.AnchorID, prev: st.AnchorPrev}
}

// Step verifies e against the walk so far, and returns the break it finds
// or nil (and then advances past e).
func (w *Walker) Step(e *bindery.AuditEvent) *bindery.AuditBreak {
	switch {
	case e.ID < w.nextID:
		return &bindery.AuditBreak{ID: e.ID, Reason: bindery.AuditBreakEdited, Detail: fmt.Sprintf("entry %d is out of sequence: the chain expects %d next", e.ID, w.nextID)}
	case !hmac.Equal([]byte(EntryHash(w.key, e)), []byte(e.Hash)):
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

// errStop ends a Walk at the first break.
var errStop = errors.New("stop")

// Verify recomputes the chain from the anchor to the head and reports the
// first break. tx must be a consistent snapshot (one read transaction):
//
//   - AuditBreakAnchor: the anchor and head record was changed or deleted
//     (its MAC fails): nothing after it can be trusted;
//   - AuditBreakEdited: an entry's fields do not match its hash;
//   - AuditBreakMissing: an entry does not link to the one before it
//     (entries deleted from the middle, or from the start past the anchor);
//   - AuditBreakTruncated: the log ends before the recorded head, or before
//     the last id the store handed out (Tx.LastID).
//
// An undecryptable chain key is an error, not a break: the key that
// encrypted it is missing from the keyring.
func Verify(ctx context.Context, tx Tx, kr *secretbox.Keyring) (bindery.AuditVerification, error) {
	var v bindery.AuditVerification
	st, err := Load(ctx, tx, kr)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		v.Broken = &bindery.AuditBreak{Reason: bindery.AuditBreakAnchor, Detail: "the audit chain's anchor and head record is missing"}
		return v, nil
	} else if err != nil {
		return v, err
	}
	v.AnchorID = st.AnchorID
	if !st.Valid() {
		v.Broken = &bindery.AuditBreak{Reason: bindery.AuditBreakAnchor, Detail: "the audit chain's anchor and head record does not match its MAC: it was changed outside Bindery"}
		return v, nil
	}
	w := NewWalker(st)
	err = tx.Walk(ctx, 0, func(e *bindery.AuditEvent) error {
		if v.Broken = w.Step(e); v.Broken != nil {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return v, err
	}
	v.Entries, v.HeadID, v.Head = w.n, w.nextID-1, w.prev
	if v.Broken != nil {
		return v, nil
	}
	seq, err := tx.LastID(ctx)
	if err != nil {
		return v, err
	}
	last := w.nextID - 1
	switch {
	case st.HeadID > last || seq > last:
		end := max(st.HeadID, seq)
		v.Broken = &bindery.AuditBreak{ID: last + 1, Reason: bindery.AuditBreakTruncated, Detail: "the log ends early: " + missing(last+1, end)}
	case st.HeadID < last:
		v.Broken = &bindery.AuditBreak{ID: st.HeadID + 1, Reason: bindery.AuditBreakAnchor, Detail: fmt.Sprintf("the recorded head is entry %d but the log goes on to %d", st.HeadID, last)}
	case st.HeadHash != w.prev:
		v.Broken = &bindery.AuditBreak{ID: last, Reason: bindery.AuditBreakEdited, Detail: fmt.Sprintf("entry %d is not the one recorded as the head", last)}
	}
	return v, nil
}

// Purge deletes the entries older than before as a prefix of the chain,
// after checking that the prefix itself verifies (retention must not
// erase the evidence of tampering: a broken prefix is an error and nothing
// is deleted), moves the anchor to the first entry kept, and appends an
// AuditPurged entry stamped at, all through tx (one transaction, serialised
// like Append). It returns how many entries it deleted.
func Purge(ctx context.Context, tx Tx, kr *secretbox.Keyring, before, at time.Time) (int, error) {
	st, err := writable(ctx, tx, kr)
	if err != nil {
		return 0, err
	}
	// The first entry to keep; everything before it is older than before
	// (ids and times grow together, and where a clock stepped back the
	// purge stops early rather than skip an entry).
	end := st.HeadID + 1
	if keep, ok, err := tx.FirstSince(ctx, before); err != nil {
		return 0, err
	} else if ok {
		end = keep
	}
	if end <= st.AnchorID {
		return 0, nil
	}
	w := NewWalker(st)
	var broken *bindery.AuditBreak
	err = tx.Walk(ctx, end, func(e *bindery.AuditEvent) error {
		if broken = w.Step(e); broken != nil {
			return errStop
		}
		return nil
	})
	if broken != nil {
		return 0, fmt.Errorf("not purging the audit log: the chain is broken at entry %d (%s): %s", broken.ID, broken.Reason, broken.Detail)
	} else if err != nil {
		return 0, err
	}
	if w.nextID != end {
		return 0, fmt.Errorf("not purging the audit log: %s", missing(w.nextID, end-1))
	}
	n := w.n
	// Move the anchor first: the DELETE trigger refuses rows at or after
	// it.
	st.AnchorID, st.AnchorPrev = end, w.prev
	if err := st.Save(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.DeleteBefore(ctx, end); err != nil {
		return 0, err
	}
	err = appendEntry(ctx, tx, st, &bindery.AuditEvent{At: at, Action: bindery.AuditPurged,
		Detail: fmt.Sprintf("%d entries older than %s; the chain now starts at entry %d", n, before.UTC().Format(time.RFC3339), end)})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Pseudonym is how the audit log names the account an anonymous actor
// claimed (a failed sign-in): "acct:" and the first 16 hex digits (64
// bits) of the address's blind index under the keyring's current key.
// Like the index it is keyed, so it cannot be reversed or recomputed
// without ENCRYPTION_KEY, and it is equal for equal addresses (after
// NormalizeEmail's trimming and lower-casing), so failures against one
// account can be correlated. The server's auth service and the SQLite
// migration that removed addresses from the log both use it, so old and
// new entries match.
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
