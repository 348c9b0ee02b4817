package bookfs

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
)

// Archive limits. Declared sizes in an archive's headers are never
// trusted: every entry is counted as it inflates (Put refuses a file past
// MaxFileBytes and a book past its quota by the bytes actually written),
// and the whole archive may inflate to at most Limits.MaxInflateRatio
// (default DefaultInflateRatio) times its
// compressed size (plus a little, for tiny archives), which stops zip and
// gzip bombs long before they fill a disk.
const (
	DefaultInflateRatio = 100
	inflateSlack        = 1 << 20
	maxArchiveEntries   = 4 // × Limits.MaxFiles: folders and skipped entries count too
	importFolderPrefix  = ".import-"
)

// Staged is an archive unpacked and checked into a hidden folder of the
// store, not yet part of any book. Commit moves it into place as a book's
// folder in one rename; Discard (safe after Commit, and safe to defer)
// removes it. A crash leaves a hidden ".import-…" folder, which start-up
// sweeps.
type Staged struct {
	s       *Store
	staging *Store // the hidden folder as a store whose book 0 is the staged folder
	parent  string // the hidden folder
	Files   []File
	Skipped []string // entries left out: not a book file type, or system clutter
}

// bookDir is the staged book folder inside parent.
func (st *Staged) bookDir() string { return filepath.Join(st.parent, "0") }

// ReadFile reads a staged file (metadata.yaml, to name the book).
func (st *Staged) ReadFile(name string) ([]byte, error) {
	root, err := os.OpenRoot(st.bookDir())
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.ReadFile(name)
}

// Commit makes the staged folder the folder of book id, a new book whose
// row is being inserted. A folder already there has no row (the id is
// being inserted right now): it is what a creation whose transaction did
// not commit left behind, and it is replaced.
func (st *Staged) Commit(id int64) error {
	unlock := st.s.lock(id)
	if _, err := os.Lstat(st.s.bookDir(id)); err == nil {
		unlock()
		if err := st.s.Remove(id); err != nil {
			return err
		}
		unlock = st.s.lock(id)
	}
	defer unlock()
	if err := os.Rename(st.bookDir(), st.s.bookDir(id)); err != nil {
		return err
	}
	return os.RemoveAll(st.parent)
}

// Discard removes what is left of the staged folder.
func (st *Staged) Discard() { _ = os.RemoveAll(st.parent) }

// NewStage returns an empty staged book folder with the standard layout
// (chapters/, assets/images/), to fill with Put and Commit as a new
// book's folder: a new book's folder appears whole or not at all.
func (s *Store) NewStage() (*Staged, error) {
	parent, err := os.MkdirTemp(s.dir, importFolderPrefix)
	if err != nil {
		return nil, err
	}
	st := &Staged{s: s, parent: parent, staging: &Store{dir: parent, lim: s.lim}}
	if err := st.staging.Create(0); err != nil {
		st.Discard()
		return nil, err
	}
	return st, nil
}

// Put writes a file into the staged folder with the checks and limits of
// Store.Put.
func (st *Staged) Put(ctx context.Context, name string, r io.Reader) (File, error) {
	f, err := st.staging.Put(ctx, 0, name, r)
	if err == nil {
		st.Files = append(st.Files, f)
	}
	return f, err
}

// Stage unpacks a .zip or .tar.gz archive of a book folder (the format is
// recognised by its first bytes) into a hidden staging folder, applying
// to every entry the checks of a single upload (Put: name rules, type and
// content, size, the book quota) — all or nothing: any refusal discards
// everything and names the entry. A single top folder holding the book
// ("lighthouse/metadata.yaml") is taken as the book's folder. Symbolic
// and hard links, devices and other special entries refuse the archive.
// Entries of a type books do not use (a README.md is a book file; a
// generator script is not) and system clutter (__MACOSX/, .DS_Store,
// Thumbs.db) are skipped and listed in Skipped.
//
// A zip needs random access, so it is first copied to a temporary file
// (at most MaxBookBytes); a .tar.gz streams.
func (s *Store) Stage(ctx context.Context, r io.Reader) (st *Staged, err error) {
	parent, err := os.MkdirTemp(s.dir, importFolderPrefix)
	if err != nil {
		return nil, err
	}
	staging := &Store{dir: parent, lim: s.lim}
	staged := &Staged{s: s, parent: parent, staging: staging}
	st = staged
	defer func() {
		if err != nil {
			staged.Discard()
		}
	}()
	if err := os.Mkdir(st.bookDir(), 0o700); err != nil {
		return nil, err
	}
	br := bufio.NewReader(r)
	magic, _ := br.Peek(4)
	var entries entryIter
	switch {
	case len(magic) >= 4 && string(magic) == "PK\x03\x04":
		entries, err = s.zipEntries(ctx, parent, br)
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		entries, err = tarGzEntries(br, s.lim.inflateRatio())
	default:
		return nil, bindery.Errorf(bindery.EUNSUPPORTED, "The archive must be a .zip or a .tar.gz of a book folder.")
	}
	if err != nil {
		return nil, err
	}
	defer entries.close()

	limit := s.lim.MaxFiles * maxArchiveEntries
	if limit <= 0 {
		limit = 10_000
	}
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if n > limit {
			return nil, bindery.Errorf(bindery.ETOOLARGE, "The archive has more than %d entries.", limit)
		}
		e, err := entries.next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if e.dir {
			continue
		}
		if clutter(e.name) {
			st.Skipped = append(st.Skipped, e.name)
			continue
		}
		if !e.regular {
			return nil, bindery.Errorf(bindery.EUNSUPPORTED, "The archive entry %q is a link or a special file; only regular files and folders are accepted.", clip(e.name))
		}
		name, err := CleanPath(strings.TrimPrefix(e.name, "./"))
		if err != nil {
			return nil, bindery.Errorf(bindery.EINVALID, "The archive entry %q: %s", clip(e.name), bindery.ErrorMessage(err))
		}
		if _, err := KindOf(name); err != nil {
			st.Skipped = append(st.Skipped, name)
			continue
		}
		if _, err := staging.Put(ctx, 0, name, e.body); err != nil {
			if bindery.ErrorCode(err) == bindery.EINTERNAL {
				return nil, err
			}
			return nil, &bindery.Error{Code: bindery.ErrorCode(err), Message: fmt.Sprintf("%s (archive entry %s)", strings.TrimSuffix(bindery.ErrorMessage(err), "."), name)}
		}
		if err := entries.err(); err != nil {
			return nil, err
		}
	}
	if err := st.unwrapTopFolder(); err != nil {
		return nil, err
	}
	if st.Files, err = staging.List(0); err != nil {
		return nil, err
	}
	if len(st.Files) == 0 {
		return nil, bindery.Errorf(bindery.EUNPROCESSABLE, "The archive holds no book file.")
	}
	sort.Strings(st.Skipped)
	return st, nil
}

// unwrapTopFolder makes a single top folder that holds metadata.yaml the
// book's folder: archives made with "zip -r book.zip book/" unpack so.
func (st *Staged) unwrapTopFolder() error {
	dir := st.bookDir()
	if _, err := os.Lstat(filepath.Join(dir, MetadataFile)); err == nil {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 || !ents[0].IsDir() {
		return err
	}
	inner := filepath.Join(dir, ents[0].Name())
	if _, err := os.Lstat(filepath.Join(inner, MetadataFile)); err != nil {
		return nil
	}
	moved := filepath.Join(st.parent, "inner")
	if err := os.Rename(inner, moved); err != nil {
		return err
	}
	for i, name := range st.Skipped {
		st.Skipped[i] = strings.TrimPrefix(name, ents[0].Name()+"/")
	}
	if err := os.Remove(dir); err != nil {
		return err
	}
	return os.Rename(moved, dir)
}

// clutter reports files that operating systems add to archives of
// folders, which are skipped rather than refused.
func clutter(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(name, "__MACOSX/") || strings.Contains(name, "/__MACOSX/") ||
		base == ".DS_Store" || base == "Thumbs.db" || base == "desktop.ini" || strings.HasPrefix(base, "._")
}

// entry is one member of an archive.
type entry struct {
	name    string
	dir     bool
	regular bool
	body    io.Reader
}

// entryIter walks an archive; err reports a ratio violation detected
// while the last entry's body was read.
type entryIter interface {
	next() (entry, error)
	err() error
	close()
}

// inflation counts compressed bytes read and inflated bytes produced and
// refuses past Limits.MaxInflateRatio.
type inflation struct {
	ratio      int64 // Limits.MaxInflateRatio
	compressed func() int64
	inflated   int64
	bad        error
}

func (in *inflation) wrap(r io.Reader) io.Reader { return &countingReader{r: r, in: in} }

type countingReader struct {
	r  io.Reader
	in *inflation
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.in.bad != nil {
		return 0, c.in.bad
	}
	n, err := c.r.Read(p)
	c.in.inflated += int64(n)
	if c.in.inflated > c.in.ratio*c.in.compressed()+inflateSlack {
		c.in.bad = bindery.Errorf(bindery.ETOOLARGE, "The archive inflates more than %d times its size; it is refused as a likely archive bomb.", c.in.ratio)
		return n, c.in.bad
	}
	return n, err
}

// zipEntries copies the zip to a temporary file in dir (it needs random
// access) and walks its entries in order.
func (s *Store) zipEntries(ctx context.Context, dir string, r io.Reader) (entryIter, error) {
	f, err := os.CreateTemp(dir, ".archive-")
	if err != nil {
		return nil, err
	}
	max := s.lim.MaxBookBytes
	if max <= 0 {
		max = 1 << 30
	}
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, max+1))
	if err != nil {
		f.Close()
		return nil, err
	}
	if n > max {
		f.Close()
		return nil, bindery.Errorf(bindery.ETOOLARGE, "The archive is larger than the book limit of %d bytes.", max)
	}
	zr, err := zip.NewReader(f, n)
	if err != nil {
		f.Close()
		return nil, bindery.Errorf(bindery.EUNSUPPORTED, "The archive is not a readable zip file.")
	}
	return &zipIter{f: f, files: zr.File, in: &inflation{ratio: s.lim.inflateRatio(), compressed: func() int64 { return n }}}, nil
}

type zipIter struct {
	f     *os.File
	files []*zip.File
	i     int
	open  io.ReadCloser
	in    *inflation
}

func (z *zipIter) next() (entry, error) {
	if z.open != nil {
		z.open.Close()
		z.open = nil
	}
	if z.i >= len(z.files) {
		return entry{}, io.EOF
	}
	zf := z.files[z.i]
	z.i++
	mode := zf.Mode()
	e := entry{name: zf.Name, dir: mode.IsDir() || strings.HasSuffix(zf.Name, "/"), regular: mode.IsRegular()}
	if e.dir || !e.regular {
		return e, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return entry{}, bindery.Errorf(bindery.EUNSUPPORTED, "The archive entry %q cannot be read.", clip(zf.Name))
	}
	z.open = rc
	e.body = z.in.wrap(rc)
	return e, nil
}

func (z *zipIter) err() error { return z.in.bad }

func (z *zipIter) close() {
	if z.open != nil {
		z.open.Close()
	}
	z.f.Close()
}

// tarGzEntries streams a gzip-compressed tar archive.
func tarGzEntries(r io.Reader, ratio int64) (entryIter, error) {
	cr := &byteCounter{r: r}
	gz, err := gzip.NewReader(cr)
	if err != nil {
		return nil, bindery.Errorf(bindery.EUNSUPPORTED, "The archive is not a readable .tar.gz file.")
	}
	gz.Multistream(false)
	in := &inflation{ratio: ratio, compressed: func() int64 { return cr.n }}
	return &tarIter{tr: tar.NewReader(in.wrap(gz)), gz: gz, in: in}, nil
}

type byteCounter struct {
	r io.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type tarIter struct {
	tr *tar.Reader
	gz *gzip.Reader
	in *inflation
}

func (t *tarIter) next() (entry, error) {
	for {
		h, err := t.tr.Next()
		if errors.Is(err, io.EOF) {
			return entry{}, io.EOF
		}
		if err != nil {
			if t.in.bad != nil {
				return entry{}, t.in.bad
			}
			return entry{}, bindery.Errorf(bindery.EUNSUPPORTED, "The archive is not a readable .tar.gz file.")
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			continue // metadata records, which the reader applies itself
		case tar.TypeDir:
			return entry{name: h.Name, dir: true}, nil
		case tar.TypeReg: // the reader reports old-style TypeRegA entries as TypeReg
			return entry{name: h.Name, regular: true, body: t.tr}, nil
		default:
			return entry{name: h.Name}, nil
		}
	}
}

func (t *tarIter) err() error { return t.in.bad }
func (t *tarIter) close()     { t.gz.Close() }

// WriteZip writes every file of book id to w as a zip archive, in path
// order, each file stored under its book path. Importing the archive
// gives back the same folder, byte for byte. Nothing is buffered whole.
func (s *Store) WriteZip(ctx context.Context, id int64, w io.Writer) error {
	files, err := s.List(id)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.zipOne(zw, id, f); err != nil {
			return err
		}
	}
	return zw.Close()
}

func (s *Store) zipOne(zw *zip.Writer, id int64, f File) error {
	r, info, err := s.Get(id, f.Path)
	if err != nil {
		return err
	}
	defer r.Close()
	hdr := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, Modified: info.Modified}
	hdr.SetMode(0o644)
	out, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	return err
}
