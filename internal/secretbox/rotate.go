package secretbox

import (
	"context"
	"fmt"
	"math"
)

// RotateBatch is how many rows Rotate asks for, and commits, at a time.
const RotateBatch = 200

// Row is one encrypted value as stored.
type Row struct {
	ID    int64  // primary key, or any key that orders the rows
	Token string // the stored token
}

// Update is the new value of a row.
type Update struct {
	ID  int64
	Old string // the token read: write New only if the row still holds it
	New string // the token re-encrypted with the current key
	// Index is the blind index of the plaintext under the current key,
	// set only for an IndexedSource: store it with New.
	Index string
}

// RowSource is one encrypted column, implemented by the store for
// `bindery keys rotate`; Rotate does the cryptography, the store the SQL.
type RowSource interface {
	// Rows returns up to limit rows with ID greater than after, in
	// increasing ID order (the first call passes math.MinInt64); fewer than limit (possibly none) means the end.
	// Rows whose value is NULL or empty need not be returned.
	Rows(ctx context.Context, after int64, limit int) ([]Row, error)

	// Commit stores updates in one transaction: all or none. Each update
	// is a compare-and-swap, `UPDATE t SET col = New WHERE id = ID AND col
	// = Old`, so that a value the application wrote meanwhile (already
	// under the current key) is kept, not overwritten with stale data; such
	// rows are skipped silently. It returns the number of rows changed.
	Commit(ctx context.Context, updates []Update) (int, error)
}

// IndexedSource is a RowSource of e-mail addresses that also have a blind
// index column. Rotate fills Update.Index for it, since the index key
// changes with the encryption key (see BlindIndexes).
type IndexedSource interface {
	RowSource
	BlindIndexed() bool
}

// Rotate re-encrypts with the current key every value of src that only a
// previous key decrypts, a batch at a time, and returns how many rows were
// changed. Run it once per encrypted column.
//
// It is safe to interrupt and to run again: each batch is committed on its
// own, values already under the current key are skipped, and updates are
// compare-and-swaps. After a run that returns no error, and once the
// server writing new values runs with the same current key, the previous
// keys can be dropped.
//
// A value no key decrypts stops the rotation with an error naming the row
// (never its content): dropping the previous keys then would lose data, so
// the operator must first find the key that made it or clear the value.
// Rotate returns promptly with ctx.Err() once ctx is done, after the batch
// in progress is committed or abandoned whole.
func Rotate(ctx context.Context, src RowSource, kr *Keyring) (rotated int, err error) {
	indexed := false
	if is, ok := src.(IndexedSource); ok {
		indexed = is.BlindIndexed()
	}
	after := int64(math.MinInt64)
	for {
		if err := ctx.Err(); err != nil {
			return rotated, err
		}
		rows, err := src.Rows(ctx, after, RotateBatch)
		if err != nil {
			return rotated, fmt.Errorf("secretbox: rotate: read rows after %d: %w", after, err)
		}
		var updates []Update
		for _, r := range rows {
			if r.ID <= after {
				return rotated, fmt.Errorf("secretbox: rotate: row source returned row %d after row %d: rows must be in increasing ID order", r.ID, after)
			}
			after = r.ID
			if r.Token == "" {
				continue
			}
			msg, i, err := kr.open(r.Token)
			if err != nil {
				return rotated, fmt.Errorf("secretbox: rotate: row %d: %w", r.ID, err)
			}
			if i == 0 {
				continue
			}
			u := Update{ID: r.ID, Old: r.Token}
			if u.New, err = kr.Encrypt(msg); err != nil {
				return rotated, err
			}
			if indexed {
				u.Index = kr.BlindIndex(string(msg))
			}
			clear(msg)
			updates = append(updates, u)
		}
		if len(updates) > 0 {
			n, err := src.Commit(ctx, updates)
			if err != nil {
				return rotated, fmt.Errorf("secretbox: rotate: commit rows up to %d: %w", after, err)
			}
			rotated += n
		}
		if len(rows) < RotateBatch {
			return rotated, nil
		}
	}
}
