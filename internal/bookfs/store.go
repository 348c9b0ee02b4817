package bookfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/manuscript"
)

// Limits bound what one book may hold.
type Limits struct {
	MaxFileBytes int64 // one file (BINDERY_MAX_UPLOAD_BYTES)
	MaxFiles     int   // files per book (BINDERY_BOOK_MAX_FILES)
	MaxBookBytes int64 // bytes per book (BINDERY_BOOK_MAX_BYTES)
	// MaxInflateRatio bounds how many times its size an archive may
	// inflate to (BINDERY_MAX_ARCHIVE_RATIO); 0 means DefaultInflateRatio.
	MaxInflateRatio int64
	// Manuscript are the limits of the build (chapter size and shape, the
	// chapters' total, image pixels), applied to uploads too so that an
	// upload is refused with the words a build would use; a zero field
	// takes its default.
	Manuscript manuscript.Limits
}

// inflateRatio is MaxInflateRatio or its default.
func (l Limits) inflateRatio() int64 {
	if l.MaxInflateRatio > 0 {
		return l.MaxInflateRatio
	}
	return DefaultInflateRatio
}

// Store keeps each book's files in dir/<id>/.
type Store struct {
	dir string
	lim Limits

	locks bookLocks // per book: serialises quota check + rename

	// outputs, when set, is the bytes a book's runs hold outside its
	// folder (their artifacts), counted in the book's byte limit.
	outputs func(id int64) (int64, error)
}

// CountOutputs makes the byte limit of every book include what f reports
// for it: the files its runs produced, which live outside the book's
// folder but are its writers' doing. Set it before serving.
func (s *Store) CountOutputs(f func(id int64) (int64, error)) { s.outputs = f }

// New returns a Store rooted at dir (created 0700 if missing).
func New(dir string, lim Limits) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("book storage: %w", err)
	}
	lim.Manuscript = lim.Manuscript.WithDefaults()
	return &Store{dir: dir, lim: lim}, nil
}

// Limits returns the store's limits (Manuscript with its defaults filled
// in).
func (s *Store) Limits() Limits { return s.lim }

func (s *Store) bookDir(id int64) string { return filepath.Join(s.dir, strconv.FormatInt(id, 10)) }

// Dir returns the path of book id's folder, for readers that open their
// own os.Root on it (the build).
func (s *Store) Dir(id int64) string { return s.bookDir(id) }

func (s *Store) lock(id int64) func() { return s.locks.lock(id) }

// Create makes the folder of a new book with the standard layout.
func (s *Store) Create(id int64) error {
	dir := s.bookDir(id)
	for _, sub := range []string{"chapters", "assets/images"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// Open returns an os.Root confined to the book's folder. Every read and
// write of a book goes through one: the kernel-level openat walk refuses
// ".." and symbolic links that lead outside. The caller closes it.
func (s *Store) Open(id int64) (*os.Root, error) {
	r, err := os.OpenRoot(s.bookDir(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, bindery.Errorf(bindery.ENOTFOUND, "Book not found.")
	}
	return r, err
}

// Remove deletes a book's folder: first renamed aside (one atomic step, so
// a half-deleted book is never visible), then removed.
func (s *Store) Remove(id int64) error {
	dir := s.bookDir(id)
	trash := filepath.Join(s.dir, trashPrefix+strconv.FormatInt(id, 10)+"-"+randomHex())
	if err := os.Rename(dir, trash); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	return os.RemoveAll(trash)
}

// File describes a stored file.
type File struct {
	Path        string    `json:"path"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	Modified    time.Time `json:"modified"`
}

// List returns the book's regular files, sorted by path. Symbolic links
// and files of other kinds are not listed (and cannot be opened: the
// root refuses links that leave the folder).
func (s *Store) List(id int64) ([]File, error) {
	root, err := s.Open(id)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	out := []File{}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && path.Base(p)[0] == '.' {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || path.Base(p)[0] == '.' {
			return nil
		}
		k, err := KindOf(p)
		if err != nil {
			return nil // not ours (left by a previous version, or by hand)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, File{Path: p, Size: info.Size(), ContentType: k.ContentType, Modified: info.ModTime().UTC()})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// Usage returns the number of files and bytes a book holds.
func (s *Store) Usage(id int64) (files int, bytes int64, err error) {
	list, err := s.List(id)
	for _, f := range list {
		files++
		bytes += f.Size
	}
	return files, bytes, err
}

// Put stores the content of r at name (already cleaned with CleanPath) in
// book id. The content streams into a temporary file next to its final
// place — never into memory — is refused past MaxFileBytes (ETOOLARGE),
// checked against its extension (EUNSUPPORTED), stripped of image
// metadata, checked against the book's quota (ETOOLARGE), synced, and
// renamed over the old file in one step. On any error the old file, if
// any, is untouched and no temporary file remains.
func (s *Store) Put(ctx context.Context, id int64, name string, r io.Reader) (_ File, err error) {
	k, err := KindOf(name)
	if err != nil {
		return File{}, err
	}
	root, err := s.Open(id)
	if err != nil {
		return File{}, err
	}
	defer root.Close()
	if dir := path.Dir(name); dir != "." {
		made := missingDirs(root, dir)
		// A refused upload leaves nothing, not even the folders made
		// for it (removed deepest first, and only while empty).
		defer func() {
			if err != nil {
				for i := len(made) - 1; i >= 0; i-- {
					root.Remove(made[i])
				}
			}
		}()
		if err := root.MkdirAll(dir, 0o700); err != nil {
			return File{}, pathError(err)
		}
	}
	tmp, tmpName, err := createTemp(root, path.Dir(name))
	if err != nil {
		return File{}, pathError(err)
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			root.Remove(tmpName)
		}
	}()
	src := &sourceReader{r: ctxReader{ctx, r}}
	n, err := io.Copy(tmp, io.LimitReader(src, s.lim.MaxFileBytes+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || n > s.lim.MaxFileBytes {
		return File{}, bindery.Errorf(bindery.ETOOLARGE, "The file is larger than the limit of %d bytes.", s.lim.MaxFileBytes)
	} else if err != nil && src.err != nil {
		return File{}, &AbortError{Err: src.err}
	} else if err != nil {
		return File{}, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return File{}, err
	}

	final, finalName := tmp, tmpName
	clean, cleanName, err := createTemp(root, path.Dir(name))
	if err != nil {
		return File{}, err
	}
	rewritten, err := checkContent(tmp, n, k, clean, s.lim.Manuscript)
	if !rewritten || err != nil {
		clean.Close()
		root.Remove(cleanName)
	} else {
		tmp.Close()
		root.Remove(tmpName)
		tmp, tmpName = clean, cleanName // the deferred clean-up now covers the stripped copy
		final, finalName = clean, cleanName
	}
	if err != nil {
		return File{}, err
	}
	if k == metadataKind {
		if err := checkMetadata(final); err != nil {
			return File{}, err
		}
	}
	if isChapter(name) {
		if err := checkChapter(ctx, final, name, s.lim.Manuscript); err != nil {
			return File{}, err
		}
	}
	if err := final.Sync(); err != nil {
		return File{}, err
	}
	info, err := final.Stat()
	if err != nil {
		return File{}, err
	}

	unlock := s.lock(id)
	defer unlock()
	if err := s.checkQuota(root, id, name, info.Size(), finalName); err != nil {
		return File{}, err
	}
	if fi, err := root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return File{}, bindery.Errorf(bindery.ECONFLICT, "%s exists and is not a regular file.", name)
	}
	if err := final.Close(); err != nil {
		return File{}, err
	}
	tmp = nil
	if err := root.Rename(finalName, name); err != nil {
		root.Remove(finalName)
		return File{}, pathError(err)
	}
	return File{Path: name, Size: info.Size(), ContentType: k.ContentType, Modified: info.ModTime().UTC()}, nil
}

// checkQuota refuses a file that would take the book past its limits,
// counting the file it replaces as gone: files, bytes, and for a chapter
// the chapters' total text (in the words of the build).
func (s *Store) checkQuota(root *os.Root, id int64, name string, size int64, ownTemp string) error {
	files, bytes, text, err := quotaUsage(root, ownTemp)
	if err != nil {
		return err
	}
	if s.outputs != nil {
		out, err := s.outputs(id)
		if err != nil {
			return err
		}
		bytes += out
	}
	if fi, err := root.Stat(name); err == nil && fi.Mode().IsRegular() {
		files--
		bytes -= fi.Size()
		if isChapter(name) {
			text -= fi.Size()
		}
	}
	if isChapter(name) {
		if err := s.lim.Manuscript.BookTextProblem(name, text+size); err != nil {
			return bindery.Errorf(bindery.EUNPROCESSABLE, "%s", err)
		}
	}
	if s.lim.MaxFiles > 0 && files+1 > s.lim.MaxFiles {
		return bindery.Errorf(bindery.ETOOLARGE, "The book already holds %d files, its limit.", s.lim.MaxFiles)
	}
	if s.lim.MaxBookBytes > 0 && bytes+size > s.lim.MaxBookBytes {
		return bindery.Errorf(bindery.ETOOLARGE, "The book would exceed its limit of %d bytes (it holds %d, its runs' files and uploads under way included).", s.lim.MaxBookBytes, bytes)
	}
	return nil
}

// quotaUsage walks a book's folder once: its files as List counts them,
// and their bytes together with those of other uploads under way (their
// temporary files, but own, the caller's, counted as the file it becomes),
// and the bytes of its chapters (text).
func quotaUsage(root *os.Root, own string) (files int, bytes, text int64, err error) {
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && name[0] == '.' {
				return fs.SkipDir
			}
			return nil
		}
		temp := strings.HasPrefix(name, tempPrefix) && p != own
		if !d.Type().IsRegular() || (name[0] == '.' && !temp) {
			return nil
		}
		if _, err := KindOf(p); err != nil && !temp {
			return nil // not ours, as in List
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		bytes += info.Size()
		if !temp {
			files++
			if isChapter(p) {
				text += info.Size()
			}
		}
		return nil
	})
	return files, bytes, text, err
}

// Get opens a stored file for reading. ENOTFOUND when absent, or when the
// name is a folder, a link or anything else than a regular file.
func (s *Store) Get(id int64, name string) (*os.File, File, error) {
	k, err := KindOf(name)
	if err != nil {
		return nil, File{}, bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	root, err := s.Open(id)
	if err != nil {
		return nil, File{}, err
	}
	defer root.Close()
	if fi, err := root.Lstat(name); err != nil || !fi.Mode().IsRegular() {
		return nil, File{}, bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, File{}, bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, File{}, bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	return f, File{Path: name, Size: info.Size(), ContentType: k.ContentType, Modified: info.ModTime().UTC()}, nil
}

// Move renames the file from to to in book id, in one step: ENOTFOUND
// when from is not a regular file, ECONFLICT when to exists. Both names
// are clean paths of the same kind, so the quota is unchanged.
func (s *Store) Move(id int64, from, to string) error {
	kf, err := KindOf(from)
	if err != nil {
		return err
	}
	if kt, err := KindOf(to); err != nil || kt != kf {
		return bindery.Errorf(bindery.EINVALID, "A file keeps its type when it moves.")
	}
	root, err := s.Open(id)
	if err != nil {
		return err
	}
	defer root.Close()
	unlock := s.lock(id)
	defer unlock()
	if fi, err := root.Lstat(from); err != nil || !fi.Mode().IsRegular() {
		return bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	if _, err := root.Lstat(to); err == nil {
		return bindery.Errorf(bindery.ECONFLICT, "%s exists.", to)
	}
	if d := path.Dir(to); d != "." {
		if err := root.MkdirAll(d, 0o700); err != nil {
			return pathError(err)
		}
	}
	return pathError(root.Rename(from, to))
}

// Delete removes a stored file; ENOTFOUND if there is none.
func (s *Store) Delete(id int64, name string) error {
	root, err := s.Open(id)
	if err != nil {
		return err
	}
	defer root.Close()
	if fi, err := root.Lstat(name); err != nil || !fi.Mode().IsRegular() {
		return bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	return root.Remove(name)
}

// missingDirs returns the folders of dir (a clean slash path) that do not
// exist yet in root, outermost first: what MkdirAll is about to create.
func missingDirs(root *os.Root, dir string) []string {
	var out []string
	for p := dir; p != "." && p != "/"; p = path.Dir(p) {
		if _, err := root.Lstat(p); err == nil {
			break
		}
		out = append([]string{p}, out...)
	}
	return out
}

// createTemp creates a new hidden file in dir of root. Names start with a
// dot, which CleanPath refuses, so clients can never address them.
func createTemp(root *os.Root, dir string) (*os.File, string, error) {
	for range 10 {
		name := path.Join(dir, tempPrefix+randomHex())
		f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", errors.New("cannot create a temporary file")
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pathError turns a file-system refusal of the root (a path through a
// symbolic link, a file where a folder should be) into a client error;
// other errors pass unchanged.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) ||
		errors.Is(err, fs.ErrPermission) || pe.Err.Error() == "path escapes from parent" || isNotDir(err)) {
		return bindery.Errorf(bindery.EINVALID, "That path cannot be used in this book.")
	}
	return err
}

// AbortError is Put's error when the content could not be read to its end:
// the client went away mid-body, or its request was cancelled. It is the
// client's doing, not a fault of the server: callers answer it as a client
// error and log it as an abort, not as an internal error.
type AbortError struct{ Err error }

func (e *AbortError) Error() string { return "upload aborted before its end: " + e.Err.Error() }

func (e *AbortError) Unwrap() error { return e.Err }

// sourceReader remembers a read error of the upload's source, to tell it
// from a failure to write the temporary file (which is the server's).
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// ctxReader stops a long upload when the request is cancelled.
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

// ListPlain lists the names OpenPlain would open in dir: its regular
// files, without hidden ones (temporary files of atomic writes). A missing
// folder lists nothing.
func ListPlain(dir string) []string {
	entries, _ := os.ReadDir(dir)
	out := []string{}
	for _, en := range entries {
		if en.Type().IsRegular() && en.Name()[0] != '.' {
			out = append(out, en.Name())
		}
	}
	return out
}

// PlainName reports whether name is a plain file name: not empty, not
// hidden, no folder (OpenPlain's rule, also for the same files in shared
// storage).
func PlainName(name string) bool {
	return name != "" && name[0] != '.' && path.Base(name) == name && filepath.Base(name) == name
}

// OpenPlain opens name, a plain (not hidden, no folder) regular file
// directly inside dir, through an os.Root on dir: for folders of outputs
// (a run's artifacts, a published edition) whose file names come from
// clients. ENOTFOUND for anything else — a path, a dot file, a link, a
// folder — so a caller never reveals why.
func OpenPlain(dir, name string) (*os.File, fs.FileInfo, error) {
	notFound := bindery.Errorf(bindery.ENOTFOUND, "Not found.")
	if !PlainName(name) {
		return nil, nil, notFound
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, notFound
	}
	defer root.Close()
	if fi, err := root.Lstat(name); err != nil || !fi.Mode().IsRegular() {
		return nil, nil, notFound
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, nil, notFound
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, notFound
	}
	return f, fi, nil
}
