package bookfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
)

// Shared keeps this node's copy of every book folder (the Store) in step
// with the copy all nodes share when book files live in an S3-compatible
// bucket (BINDERY_S3_…): each file's bytes in a blob named by their
// SHA-256 (books/<id>/files/<sha256>) and one pointer row per file
// (bindery.BookFileStore) naming the blob of its current version.
//
// Why a local copy at all: builds, previews and the upload checks read a
// book through an os.Root (the one way book files are opened, confined by
// the kernel), and a run reads the same files many times. The shared rows
// are the truth; the folder is a cache brought up to date (Sync) before
// every read and change of the book on this node.
//
// How a change stays whole across nodes: the local write happens first,
// with every check of a single-node server (Store.Put), then the bytes are
// uploaded under their content key, then the row switches (Push). A
// reader on any node sees the row before or after the switch, and either
// blob is complete. A crash between the local write and the switch
// leaves a local file that differs from what the node last synced; the
// next Sync pushes it, so no accepted upload is lost. Two nodes changing
// the same file at once: the last row switched wins, as on one node.
//
// What this node last synced is recorded in a hidden manifest in the
// book's folder (path → SHA-256, size, modification time), so that Sync
// tells a file changed here (push it) from one changed elsewhere
// (download it) and one deleted elsewhere (remove it) without hashing the
// book.
//
// Every method but Lock must be called with the book's Lock held: it
// orders this node's changes to one book (another node's are ordered by
// the rows).
type Shared struct {
	files *Store
	blobs blob.Store
	rows  bindery.BookFileStore

	locks bookLocks
}

// NewShared shares files' books through blobs and rows.
func NewShared(files *Store, blobs blob.Store, rows bindery.BookFileStore) *Shared {
	return &Shared{files: files, blobs: blobs, rows: rows}
}

// manifestName is the hidden file of a book folder that records what
// Sync last brought into step. Hidden: never listed, exported, counted in
// the quota or addressable by a client (CleanPath refuses dot names).
const manifestName = ".shared-manifest.json"

type manifestEntry struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Mod    int64  `json:"mod"` // local modification time, Unix nanoseconds
}

type manifest map[string]manifestEntry

// Lock serialises this node's reads and changes of book id's folder and
// rows; call the returned function to release it.
func (s *Shared) Lock(id int64) func() {
	return s.locks.lock(id)
}

// Sync brings book id's folder in step with its rows: a file whose row
// names other bytes than the manifest records is downloaded (checked
// against its SHA-256, renamed into place), one whose row is gone is
// removed, one written here and not yet pushed is pushed. A book this
// node has no folder for gets one: the caller has found the book's row
// (a book deleted meanwhile leaves a folder that Prune removes).
func (s *Shared) Sync(ctx context.Context, id int64) error {
	rows, err := s.rows.BookFiles(ctx, id)
	if err != nil {
		return err
	}
	local, err := s.files.List(id)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		if err := s.files.Create(id); err != nil {
			return err
		}
		local = nil
	} else if err != nil {
		return err
	}
	man := s.readManifest(id)
	byPath := make(map[string]bindery.BookFile, len(rows))
	for _, r := range rows {
		byPath[r.Path] = r
	}
	changed := false
	seen := make(map[string]bool, len(local))
	for _, f := range local {
		seen[f.Path] = true
		e, known := man[f.Path]
		r, shared := byPath[f.Path]
		switch {
		case !known || e.Size != f.Size || e.Mod != f.Modified.UnixNano():
			// Written here and not pushed (a crash between the two), or
			// a folder that predates sharing: push it.
			if err := s.push(ctx, id, f.Path, man); err != nil {
				return err
			}
		case !shared:
			if err := s.files.Delete(id, f.Path); err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
				return err
			}
			delete(man, f.Path)
		case r.SHA256 != e.SHA256:
			if err := s.download(ctx, id, r, man); err != nil {
				return err
			}
		default:
			continue
		}
		changed = true
	}
	for _, r := range rows {
		if seen[r.Path] {
			continue
		}
		if _, known := man[r.Path]; known {
			// Synced here, then deleted here, and the row not yet gone
			// (a crash between the two): finish the deletion.
			if err := s.rows.DeleteBookFile(ctx, id, r.Path); err != nil {
				return err
			}
			delete(man, r.Path)
		} else if err := s.download(ctx, id, r, man); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		return s.writeManifest(id, man)
	}
	return nil
}

// Push uploads the local files named and switches their rows.
func (s *Shared) Push(ctx context.Context, id int64, names ...string) error {
	man := s.readManifest(id)
	for _, name := range names {
		if err := s.push(ctx, id, name, man); err != nil {
			return err
		}
	}
	return s.writeManifest(id, man)
}

// PushAll uploads every file of book id's folder: a book made on this
// node (created or imported), once its row committed.
func (s *Shared) PushAll(ctx context.Context, id int64) error {
	files, err := s.files.List(id)
	if err != nil {
		return err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Path
	}
	return s.Push(ctx, id, names...)
}

func (s *Shared) push(ctx context.Context, id int64, name string, man manifest) error {
	f, info, err := s.files.Get(id, name)
	if err != nil {
		return err
	}
	defer f.Close()
	obj, err := s.blobs.PutContent(ctx, blob.BookFilesPrefix(id), f)
	if err != nil {
		return fmt.Errorf("storing %s in shared storage: %w", name, err)
	}
	sum := obj.Key[len(obj.Key)-sha256.Size*2:]
	if err := s.rows.PutBookFile(ctx, &bindery.BookFile{BookID: id, Path: name, BlobKey: obj.Key, Size: obj.Size, SHA256: sum, Modified: info.Modified}); err != nil {
		return err
	}
	man[name] = manifestEntry{SHA256: sum, Size: info.Size, Mod: info.Modified.UnixNano()}
	return nil
}

// download puts the bytes of row r in place in the folder, through a
// temporary file checked against the row's SHA-256.
func (s *Shared) download(ctx context.Context, id int64, r bindery.BookFile, man manifest) error {
	obj, _, err := s.blobs.Open(ctx, r.BlobKey)
	if err != nil {
		return fmt.Errorf("reading %s from shared storage: %w", r.Path, err)
	}
	defer obj.Close()
	root, err := s.files.Open(id)
	if err != nil {
		return err
	}
	defer root.Close()
	if d := path.Dir(r.Path); d != "." {
		if err := root.MkdirAll(d, 0o700); err != nil {
			return pathError(err)
		}
	}
	tmp, tmpName, err := createTemp(root, path.Dir(r.Path))
	if err != nil {
		return err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			root.Remove(tmpName)
		}
	}()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, obj}); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 {
		return fmt.Errorf("shared storage returned other bytes for %s of book %d (SHA-256 %s, its row says %s)", r.Path, id, got, r.SHA256)
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Every node lists the file with the time it was written.
	if err := root.Chtimes(tmpName, r.Modified, r.Modified); err != nil {
		return err
	}
	tmp = nil
	if err := root.Rename(tmpName, r.Path); err != nil {
		root.Remove(tmpName)
		return pathError(err)
	}
	fi, err := root.Stat(r.Path)
	if err != nil {
		return err
	}
	man[r.Path] = manifestEntry{SHA256: r.SHA256, Size: fi.Size(), Mod: fi.ModTime().UTC().UnixNano()}
	return nil
}

// Forget removes the row of a file deleted here.
func (s *Shared) Forget(ctx context.Context, id int64, name string) error {
	if err := s.rows.DeleteBookFile(ctx, id, name); err != nil {
		return err
	}
	man := s.readManifest(id)
	delete(man, name)
	return s.writeManifest(id, man)
}

// Moved renames the row of a file moved here from from to to (a rename
// keeps the bytes and the modification time, so the manifest entry moves
// with it). A file without a row yet is pushed.
func (s *Shared) Moved(ctx context.Context, id int64, from, to string) error {
	man := s.readManifest(id)
	err := s.rows.MoveBookFile(ctx, id, from, to)
	switch {
	case bindery.ErrorCode(err) == bindery.ENOTFOUND:
		delete(man, from)
		if err := s.push(ctx, id, to, man); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if e, ok := man[from]; ok {
			man[to] = e
			delete(man, from)
		}
	}
	return s.writeManifest(id, man)
}

// Discard undoes changes made here to book id's files that could not be
// shared (the bucket or the database refused the push, the deletion or
// the move): the named files are forgotten by the manifest, then removed
// from the folder, so that the next Sync puts back what the rows name —
// the version every other node sees. A change that failed is then failed
// everywhere, as on a single node, instead of landing later through
// Sync's push of unpushed files.
//
// The manifest goes first: a file removed here while the manifest still
// records it would read, to Sync, as a deletion made here, and Sync would
// finish it by deleting the row. If the manifest cannot be written,
// nothing is removed (and Sync pushes the change after all).
func (s *Shared) Discard(id int64, names ...string) error {
	man := s.readManifest(id)
	for _, name := range names {
		delete(man, name)
	}
	if err := s.writeManifest(id, man); err != nil {
		return err
	}
	for _, name := range names {
		if err := s.files.Delete(id, name); err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
			return err
		}
	}
	return nil
}

// RemoveBook deletes every stored version of book id's files (its rows go
// with its row).
func (s *Shared) RemoveBook(ctx context.Context, id int64) error {
	return blob.DeletePrefix(ctx, s.blobs, blob.BookPrefix(id))
}

// Collect deletes the versions of book files that no row names and that
// are older than grace: replaced or deleted versions, once no reader can
// still be on its way to them (see package blob). It returns how many it
// deleted. Run it on one node at a time (the cluster's periodic work).
// One query per book: the bucket lists a book's versions together.
func (s *Shared) Collect(ctx context.Context, grace time.Duration, now time.Time) (int, error) {
	var unused []string
	book, used := int64(-1), map[string]bool{}
	for info, err := range s.blobs.List(ctx, blob.BooksPrefix) {
		if err != nil {
			return 0, err
		}
		id, ok := versionOf(info.Key)
		if !ok || now.Sub(info.Modified) < grace {
			continue
		}
		if id != book {
			rows, err := s.rows.BookFiles(ctx, id)
			if err != nil {
				return 0, err
			}
			book, used = id, make(map[string]bool, len(rows))
			for _, r := range rows {
				used[r.BlobKey] = true
			}
		}
		if !used[info.Key] {
			unused = append(unused, info.Key)
		}
	}
	return blob.DeleteKeys(ctx, s.blobs, unused)
}

// versionOf returns the book of a key books/<id>/files/<sha256>.
func versionOf(key string) (int64, bool) {
	rest, ok := strings.CutPrefix(key, blob.BooksPrefix)
	if !ok {
		return 0, false
	}
	idText, name, ok := strings.Cut(rest, "/files/")
	if !ok || strings.Contains(name, "/") {
		return 0, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	return id, err == nil && id > 0
}

// Adopt shares the books of this node's folder that were never synced (no
// manifest): a data folder that served one server before its books moved
// to shared storage. Each is synced, which pushes its files; a book whose
// row is gone is left to Prune. It returns how many books it shared.
func (s *Shared) Adopt(ctx context.Context, exists func(context.Context, int64) (bool, error)) (int, error) {
	ids, err := s.files.IDs()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(s.files.Dir(id), manifestName)); err == nil {
			continue
		}
		if ok, err := exists(ctx, id); err != nil {
			return n, err
		} else if !ok {
			continue
		}
		unlock := s.Lock(id)
		err := s.Sync(ctx, id)
		unlock()
		if err != nil {
			return n, fmt.Errorf("sharing book %d: %w", id, err)
		}
		n++
	}
	return n, nil
}

// Prune removes this node's copies of books deleted on other nodes: the
// folders whose book exists no more (exists says), once their manifest,
// or for a folder without one the folder itself, is older than before (a
// book being created here has its folder in place a moment before its
// row commits, and a new folder is never old). A deleted manuscript does
// not stay on the disks of the nodes that did not delete it. Every node
// runs it for itself. It returns how many folders it removed.
func (s *Shared) Prune(ctx context.Context, exists func(context.Context, int64) (bool, error), before time.Time) (int, error) {
	ids, err := s.files.IDs()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		fi, err := os.Stat(filepath.Join(s.files.Dir(id), manifestName))
		if err != nil {
			fi, err = os.Stat(s.files.Dir(id))
		}
		if err != nil || !fi.ModTime().Before(before) {
			continue
		}
		removed, err := s.RemoveCopy(ctx, id, exists)
		if err != nil {
			return n, err
		}
		if removed {
			n++
		}
	}
	return n, nil
}

// RemoveCopy removes this node's copy of book id if the book's row is
// gone (exists says), whatever its age: another node told that it
// deleted the book (cluster.BooksChannel). It reports whether it removed
// a folder.
func (s *Shared) RemoveCopy(ctx context.Context, id int64, exists func(context.Context, int64) (bool, error)) (bool, error) {
	ok, err := exists(ctx, id)
	if err != nil || ok {
		return false, err
	}
	unlock := s.Lock(id)
	defer unlock()
	if !s.files.Exists(id) {
		return false, nil
	}
	if err := s.files.Remove(id); err != nil {
		return false, err
	}
	return true, nil
}

// readManifest returns what the folder of book id last synced; empty when
// there is no manifest (or an unreadable one: every file then counts as
// changed here and is pushed, which loses nothing).
func (s *Shared) readManifest(id int64) manifest {
	man := manifest{}
	root, err := s.files.Open(id)
	if err != nil {
		return man
	}
	defer root.Close()
	f, err := root.Open(manifestName)
	if err != nil {
		return man
	}
	defer f.Close()
	if err := json.NewDecoder(io.LimitReader(f, 64<<20)).Decode(&man); err != nil {
		return manifest{}
	}
	return man
}

// writeManifest replaces the manifest of book id atomically.
func (s *Shared) writeManifest(id int64, man manifest) error {
	root, err := s.files.Open(id)
	if err != nil {
		return err
	}
	defer root.Close()
	tmp, tmpName, err := createTemp(root, ".")
	if err != nil {
		return err
	}
	err = json.NewEncoder(tmp).Encode(man)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmpName, manifestName)
	}
	if err != nil {
		root.Remove(tmpName)
		if errors.Is(err, fs.ErrNotExist) {
			return bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
		}
		return err
	}
	return nil
}
