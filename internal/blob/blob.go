// Package blob stores opaque byte objects under slash-path keys: book
// sources, run artifacts, published editions and the image cache, on one
// node's disk (Local, the default) or in an S3-compatible bucket shared by
// several nodes (S3). Both backends pass one behaviour suite
// (blob/blobtest), so the callers above never know which one they have.
//
// # Atomicity and pointer rows
//
// Every Put is atomic as seen by readers: a reader opens the whole old
// object or the whole new one, never a mix or a prefix, and an upload that
// fails or is cancelled leaves nothing visible (Local: temporary file,
// fsync, rename; S3: an object exists only once its upload completed). That
// is enough for a single object, but a caller that changes what the rest of
// Bindery sees (a new edition, a new artifact, a new version of a source
// file) must not overwrite in place: it stores the bytes with PutContent,
// which names them by their SHA-256, and only after PutContent returned
// does it switch a database row (the "pointer row") to the new key, in the
// same transaction as whatever else changes with it. Readers resolve the
// row, then open the key; because a content key is never rewritten with
// other bytes, a reader that resolved the old row keeps reading the old,
// complete object for as long as it holds it open, and the key itself is
// a strong ETag.
//
// # Garbage collection (the caller's contract)
//
// Content objects are never deleted by the code that switched a pointer
// away from them, because a reader may have resolved the old row a moment
// before. A collector deletes a content key only when no row refers to it
// and its Info.Modified is older than a grace period (an hour is plenty)
// longer than (a) any request or run holds a key open and (b) any caller
// takes between PutContent returning and its row committing. PutContent
// rewrites the object even when the same bytes are already stored, which
// refreshes Modified, so bytes uploaded again a moment after they became
// unreferenced are not collected under the new row's feet.
//
// # Key layout
//
// Keys are chosen by the callers; the layout this package is designed
// for keeps each owner's objects under one prefix (so that deleting a
// book or a run is a List and Deletes) and every object a reader can see
// under a content key:
//
//	books/<book id>/files/<sha256>    versions of a book's source files
//	runs/<run id>/<name>              a run's artifacts, written once (RunKey)
//	editions/<book id>/<run id>/<name> published editions (EditionKey)
//	cache/images/<sha256 of request>  the image cache (derivable: Put)
//
// with the names, sizes and types in the database rows that point at
// them. No key there is the folder of another, as Store requires.
//
// Temporary objects (".tmp/…" in both backends) of uploads cut short by a
// crash are not visible through any key; Local.SweepTemp removes them, and
// for S3 a bucket lifecycle rule (expire the ".tmp/" prefix after a day,
// abort incomplete multipart uploads after a day) does.
package blob

import (
	"context"
	"io"
	"iter"
	"time"
)

// Info describes one stored object.
type Info struct {
	// Key is the object's key, as given to Put.
	Key string
	// Size is the length of the object in bytes.
	Size int64
	// Modified is when the object was last written, for Last-Modified
	// and for the collector's grace period (to the backend's precision:
	// nanoseconds on a local disk, seconds in S3).
	Modified time.Time
	// ETag is an opaque validator that changes when the bytes do: the
	// bucket's ETag for S3, size and modification time for Local. It is
	// unquoted; for a content key (PutContent) the key's hash is the
	// better, strong, validator.
	ETag string
}

// Object is an open stored object. It is an io.ReadSeekCloser so that
// http.ServeContent can answer Range and conditional requests from it
// (it seeks to the end for the size, then to each range). The caller
// must Close it. An Object reads the object as it was when opened: if the
// key is overwritten meanwhile, Local keeps reading the old file and S3
// fails the next read with an error rather than mixing two versions.
type Object = io.ReadSeekCloser

// Store is what every backend implements. Keys are checked by CheckKey and
// prefixes by CheckPrefix (EINVALID otherwise). Errors carry bindery error
// codes: ENOTFOUND for a missing key, EINVALID for a bad key,
// EINSUFFICIENT for a full disk; anything else is an internal error whose
// text holds no credential. Every method honours ctx: a cancelled call
// returns promptly with an error wrapping ctx.Err().
//
// Keys form a tree: a key is never also the folder of other keys ("a" and
// "a/b" do not coexist). Local refuses such a Put with ECONFLICT; S3
// cannot check it cheaply and allows it, so callers choose key layouts
// where it cannot happen (the layout in the package doc does).
type Store interface {
	// Put stores everything r yields under key, replacing any object
	// there, atomically (see the package doc). If r fails or ctx ends
	// before r is drained, nothing changes and the error is returned. Put
	// does not limit the size: wrap r (http.MaxBytesReader, io.LimitReader
	// plus a check) to enforce one.
	Put(ctx context.Context, key string, r io.Reader) (Info, error)

	// PutContent stores r under prefix + the lowercase hex SHA-256 of
	// its bytes (64 characters), hashing as it streams, and returns that
	// key's Info. The object becomes visible under its final key only
	// once complete. If the key already exists (same bytes), it is
	// rewritten anyway, atomically, to refresh Info.Modified for the
	// collector (see the package doc). prefix is "" or ends in "/"
	// (CheckPrefix).
	PutContent(ctx context.Context, prefix string, r io.Reader) (Info, error)

	// Open opens key for reading. For S3, ctx also bounds the reads of
	// the returned Object, so it must live as long as the reading does
	// (a request's context, typically).
	Open(ctx context.Context, key string) (Object, Info, error)

	// Stat describes key without opening it.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes key. Deleting a missing key is not an error: a
	// collector and a retry may both delete, and S3 cannot tell them
	// apart anyway.
	Delete(ctx context.Context, key string) error

	// List yields the objects whose keys start with prefix, in
	// increasing byte order of key, then stops; an error is yielded once,
	// as the last pair. Temporary objects are never listed.
	List(ctx context.Context, prefix string) iter.Seq2[Info, error]
}
