package blob

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// tmpDir is the folder of uploads in progress, in both backends. Its name
// starts with a dot, so no key can name it or anything in it (CheckKey),
// and List never shows it.
const tmpDir = ".tmp"

// Local stores each object as a regular file under one folder, the
// default backend of a single node. Every access goes through an os.Root
// opened on the folder, so neither a ".." nor a symbolic link planted in
// the folder (by a restored backup, a careless operator, another program)
// can make a key reach a file outside it: os.Root resolves each component
// itself and refuses to leave the root, where a string-prefix check would
// race with the file system (NOTES.md #5). Links that stay inside are not
// objects either: Open, Stat and List see regular files only.
//
// Files are created 0600 and folders 0700: book sources and unpublished
// editions are private to the server's user.
//
// The zero value is not usable; call OpenLocal. A Local is safe for
// concurrent use; Close it when done.
type Local struct {
	root *os.Root
}

// OpenLocal opens (creating it 0700 if missing) the folder dir as a Local
// store.
func OpenLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blob storage: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("blob storage: %w", err)
	}
	if err := root.Mkdir(tmpDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		_ = root.Close()
		return nil, fmt.Errorf("blob storage: %w", err)
	}
	return &Local{root: root}, nil
}

// Close releases the folder.
func (l *Local) Close() error { return l.root.Close() }

// notFound is the error of a missing key: ENOTFOUND, with the key for the
// log but not in the message shown to users.
func notFound(key string) error {
	return fmt.Errorf("blob %q: %w", key, bindery.Errorf(bindery.ENOTFOUND, "File not found."))
}

// isMissing reports errors meaning "no such object": the file or one of
// its folders is absent, or a folder on the way is a file.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// ctxReader fails the next Read once ctx is done, so that a copy from a
// reader that never blocks (a generator, a file) still stops promptly.
// A Read that blocks is the source's to cancel (an HTTP body ends with
// its request).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	return l.put(ctx, r, nil, func([]byte) string { return key })
}

// PutContent implements Store: it hashes while writing the temporary file
// and renames that file to its content key, so the bytes are written to
// disk once.
func (l *Local) PutContent(ctx context.Context, prefix string, r io.Reader) (Info, error) {
	if err := CheckPrefix(prefix); err != nil {
		return Info{}, err
	}
	return l.put(ctx, r, sha256.New(), func(sum []byte) string { return prefix + hex.EncodeToString(sum) })
}

// put writes r to a new temporary file (hashing it into h when h is not
// nil), syncs it, and renames it to keyOf(the hash) unless ctx ended.
func (l *Local) put(ctx context.Context, r io.Reader, h hash.Hash, keyOf func(sum []byte) string) (info Info, err error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	tmp := tmpDir + "/" + tempName()
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Info{}, fmt.Errorf("blob put: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = f.Close()
			_ = l.root.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if h != nil {
		w = io.MultiWriter(f, h)
	}
	if _, err := io.CopyBuffer(w, ctxReader{ctx, r}, make([]byte, 64<<10)); err != nil {
		return Info{}, fmt.Errorf("blob put: %w", err)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("blob put: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("blob put: %w", err)
	}
	var sum []byte
	if h != nil {
		sum = h.Sum(nil)
	}
	key := keyOf(sum)
	// The last moment a cancelled Put can still change nothing.
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	if err := l.rename(tmp, key); err != nil {
		return Info{}, err
	}
	renamed = true
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("blob put %q: %w", key, err)
	}
	l.syncDir(path.Dir(key))
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime(), ETag: localETag(fi)}, nil
}

// rename moves the finished temporary file to key, making its folders. A
// Delete that prunes an emptied folder may remove it between MkdirAll and
// Rename; the loop makes it again (a few times, then gives up).
func (l *Local) rename(tmp, key string) error {
	dir := path.Dir(key)
	var err error
	for range 5 {
		if dir != "." {
			if err = l.root.MkdirAll(dir, 0o700); err != nil {
				if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
					return conflict(key, err)
				}
				return fmt.Errorf("blob put %q: %w", key, err)
			}
		}
		err = l.root.Rename(tmp, key)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, fs.ErrNotExist):
			continue // the folder was pruned meanwhile
		case errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.ENOTEMPTY), errors.Is(err, fs.ErrExist), errors.Is(err, syscall.ENOTDIR):
			return conflict(key, err)
		default:
			return fmt.Errorf("blob put %q: %w", key, err)
		}
	}
	return fmt.Errorf("blob put %q: %w", key, err)
}

func conflict(key string, err error) error {
	return fmt.Errorf("blob put %q: %w: %w", key, bindery.Errorf(bindery.ECONFLICT, "A stored file and a folder of stored files would have the same name."), err)
}

// syncDir makes a rename in dir durable. Best effort: the object is
// already visible, and a failure here means only that a crash in the next
// seconds could undo it, which no caller can act on.
func (l *Local) syncDir(dir string) {
	d, err := l.root.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// tempName returns a fresh random file name; crypto/rand because two
// nodes' processes may share a folder and must never pick the same one.
func tempName() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand doc)
	return hex.EncodeToString(b[:])
}

// localETag is the validator of a local file: its size and modification
// time in nanoseconds, as nginx does (a rewrite with the same size within
// the file system's timestamp precision is the one change it can miss).
func localETag(fi fs.FileInfo) string {
	return strconv.FormatInt(fi.ModTime().UnixNano(), 36) + "-" + strconv.FormatInt(fi.Size(), 36)
}

// Open implements Store. The returned Object is an *os.File.
func (l *Local) Open(ctx context.Context, key string) (Object, Info, error) {
	if err := CheckKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, err := l.root.Open(key)
	if err != nil {
		if isMissing(err) {
			return nil, Info{}, notFound(key)
		}
		return nil, Info{}, fmt.Errorf("blob open %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = notFound(key)
	}
	if err == nil {
		// os.Root follows a link that stays inside; a link is not an
		// object (List does not show it), so refuse it here too.
		var lfi fs.FileInfo
		if lfi, err = l.root.Lstat(key); err == nil && !lfi.Mode().IsRegular() {
			err = notFound(key)
		}
	}
	if err != nil {
		_ = f.Close()
		if isMissing(err) {
			err = notFound(key)
		}
		return nil, Info{}, err
	}
	return f, Info{Key: key, Size: fi.Size(), Modified: fi.ModTime(), ETag: localETag(fi)}, nil
}

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := l.root.Lstat(key)
	if err != nil {
		if isMissing(err) {
			return Info{}, notFound(key)
		}
		return Info{}, fmt.Errorf("blob stat %q: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, notFound(key)
	}
	return Info{Key: key, Size: fi.Size(), Modified: fi.ModTime(), ETag: localETag(fi)}, nil
}

// Delete implements Store. It then removes the folders the deletion
// emptied, so that the tree holds no empty folders and a key once used as
// a folder can become an object again.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := l.root.Lstat(key)
	if err != nil {
		if isMissing(err) {
			return nil
		}
		return fmt.Errorf("blob delete %q: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a folder of keys, not an object
	}
	if err := l.root.Remove(key); err != nil && !isMissing(err) {
		return fmt.Errorf("blob delete %q: %w", key, err)
	}
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if l.root.Remove(dir) != nil {
			break // not empty (or gone): stop climbing
		}
	}
	return nil
}

// List implements Store. It walks the folders itself rather than with
// fs.WalkDir, whose order ("a/b" before "a.x") is not the byte order of
// keys that S3 lists in ("a.x" < "a/b" since '.' < '/').
func (l *Local) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		if err := CheckPrefix(prefix); err != nil {
			yield(Info{}, err)
			return
		}
		dir := "."
		if prefix != "" {
			dir = prefix[:len(prefix)-1]
		}
		if _, err := l.walk(ctx, dir, yield); err != nil {
			yield(Info{}, err)
		}
	}
}

// walk yields the objects under dir in key order. It returns false when
// the consumer stopped, and the first error (a missing dir is empty).
func (l *Local) walk(ctx context.Context, dir string, yield func(Info, error) bool) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d, err := l.root.Open(dir)
	if err != nil {
		if isMissing(err) {
			return true, nil
		}
		return false, fmt.Errorf("blob list: %w", err)
	}
	ents, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		if isMissing(err) {
			return true, nil // dir is a file: no keys under it
		}
		return false, fmt.Errorf("blob list: %w", err)
	}
	// A folder's keys all sort as name + "/…".
	sortName := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return cmp.Compare(sortName(a), sortName(b)) })
	for _, e := range ents {
		key := e.Name()
		if dir != "." {
			key = dir + "/" + key
		}
		if CheckKey(key) != nil {
			continue // ".tmp", and anything else no key can name
		}
		switch {
		case e.IsDir():
			if more, err := l.walk(ctx, key, yield); !more || err != nil {
				return more, err
			}
		case e.Type().IsRegular():
			fi, err := e.Info()
			if isMissing(err) {
				continue // deleted meanwhile
			} else if err != nil {
				return false, fmt.Errorf("blob list: %w", err)
			}
			if !yield(Info{Key: key, Size: fi.Size(), Modified: fi.ModTime(), ETag: localETag(fi)}, nil) {
				return false, nil
			}
		}
	}
	return true, nil
}

// SweepTemp removes the temporary files of uploads cut short by a crash
// (or a kill) that were last written before before, and returns how many
// it removed. Uploads in progress write continuously, so a before an hour
// in the past never touches one. Call it at start-up and periodically.
func (l *Local) SweepTemp(ctx context.Context, before time.Time) (int, error) {
	d, err := l.root.Open(tmpDir)
	if err != nil {
		return 0, fmt.Errorf("blob sweep: %w", err)
	}
	ents, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return 0, fmt.Errorf("blob sweep: %w", err)
	}
	n := 0
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(before) {
			continue
		}
		if err := l.root.Remove(tmpDir + "/" + e.Name()); err == nil {
			n++
		}
	}
	return n, nil
}
