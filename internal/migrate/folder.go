package migrate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
)

// DataFolder is a single server's data folder seen as the blob store a
// deployment with shared storage has: each file of a book under
// books/<id>/files/<sha256> (blob.Store.PutContent's key), each artifact
// of a run under runs/<id>/<name> (blob.RunKey), each file of a book's
// published edition under editions/<book>/<run>/<name> (blob.EditionKey,
// the run from the source's publication), and the image cache under
// cache/images/. It is read-only: the source is never written. BookFiles
// are the pointer rows the target needs for the book files (a single
// server keeps none).
//
// The files are listed, and the book files hashed, once, by
// OpenDataFolder; a file that changes afterwards (nothing should: the
// serve lock is held) makes its copy fail its hash check.
type DataFolder struct {
	items []folderItem // by key
	rows  []bindery.BookFile
}

type folderItem struct {
	key  string
	path string // the file in the data folder
	info blob.Info
}

// OpenDataFolder lists dir's files. src is the source database, for the
// books and publications that exist (folders of anything else are
// leftovers and are not copied).
func OpenDataFolder(ctx context.Context, dir string, src *sql.DB) (*DataFolder, error) {
	d := &DataFolder{}
	books, err := ids(ctx, src, `SELECT id FROM books ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var files *bookfs.Store
	if _, err := os.Stat(filepath.Join(dir, "books")); err != nil {
		books = nil // no book folders (bookfs.New would make one: the source is only read)
	} else if files, err = bookfs.New(filepath.Join(dir, "books"), bookfs.Limits{}); err != nil {
		return nil, err
	}
	versions := map[string]bool{}
	for _, id := range books {
		list, err := files.List(id)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		for _, f := range list {
			p := filepath.Join(files.Dir(id), filepath.FromSlash(f.Path))
			sum, err := hashFile(p)
			if err != nil {
				return nil, err
			}
			key := blob.BookFileKey(id, sum)
			d.rows = append(d.rows, bindery.BookFile{BookID: id, Path: f.Path, BlobKey: key, Size: f.Size, SHA256: sum, Modified: f.Modified})
			if !versions[key] { // the same bytes twice in a book: one version
				versions[key] = true
				d.items = append(d.items, folderItem{key: key, path: p, info: blob.Info{Key: key, Size: f.Size, Modified: f.Modified}})
			}
		}
	}
	runs, err := ids(ctx, src, `SELECT id FROM runs ORDER BY id`)
	if err != nil {
		return nil, err
	}
	for _, id := range runs {
		dir := filepath.Join(dir, "artifacts", strconv.FormatInt(id, 10))
		for _, name := range bookfs.ListPlain(dir) {
			if err := d.add(blob.RunKey(id, name), filepath.Join(dir, name)); err != nil {
				return nil, err
			}
		}
	}
	rows, err := src.QueryContext(ctx, `SELECT book_id, run_id FROM publications ORDER BY book_id`)
	if err != nil {
		return nil, err
	}
	var pubs [][2]int64
	for rows.Next() {
		var p [2]int64
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			rows.Close()
			return nil, err
		}
		pubs = append(pubs, p)
	}
	rows.Close()
	for _, p := range pubs {
		dir := filepath.Join(dir, "published", strconv.FormatInt(p[0], 10))
		for _, name := range bookfs.ListPlain(dir) {
			if err := d.add(blob.EditionKey(p[0], p[1], name), filepath.Join(dir, name)); err != nil {
				return nil, err
			}
		}
	}
	cache := filepath.Join(dir, "cache", "images")
	err = filepath.WalkDir(cache, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err != nil || e.IsDir() || !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			if err == nil && e.IsDir() && p != cache && strings.HasPrefix(e.Name(), ".") {
				return fs.SkipDir // the store's temporary files
			}
			return err
		}
		rel, err := filepath.Rel(cache, p)
		if err != nil {
			return err
		}
		key := blob.ImageCachePrefix + filepath.ToSlash(rel)
		if blob.CheckKey(key) != nil {
			return nil
		}
		return d.add(key, p)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(d.items, func(a, b folderItem) int { return strings.Compare(a.key, b.key) })
	return d, nil
}

func (d *DataFolder) add(key, p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	d.items = append(d.items, folderItem{key: key, path: p, info: blob.Info{Key: key, Size: fi.Size(), Modified: fi.ModTime()}})
	return nil
}

// BookFiles are the pointer rows of the book files (bindery.BookFile).
func (d *DataFolder) BookFiles() []bindery.BookFile { return d.rows }

func ids(ctx context.Context, db *sql.DB, q string) ([]int64, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p) // #nosec G304 -- a file bookfs listed in the data folder's book folder
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (d *DataFolder) find(key string) (folderItem, bool) {
	i, ok := slices.BinarySearchFunc(d.items, key, func(it folderItem, k string) int { return strings.Compare(it.key, k) })
	if !ok {
		return folderItem{}, false
	}
	return d.items[i], true
}

var errReadOnly = bindery.Errorf(bindery.EINVALID, "The data folder is only read by migrate.")

// Put is refused: the source is read-only.
func (d *DataFolder) Put(context.Context, string, io.Reader) (blob.Info, error) {
	return blob.Info{}, errReadOnly
}

// PutContent is refused: the source is read-only.
func (d *DataFolder) PutContent(context.Context, string, io.Reader) (blob.Info, error) {
	return blob.Info{}, errReadOnly
}

// Delete is refused: the source is read-only.
func (d *DataFolder) Delete(context.Context, string) error { return errReadOnly }

// Open opens the file under key.
func (d *DataFolder) Open(_ context.Context, key string) (blob.Object, blob.Info, error) {
	it, ok := d.find(key)
	if !ok {
		return nil, blob.Info{}, bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	f, err := os.Open(it.path)
	if err != nil {
		return nil, blob.Info{}, err
	}
	return f, it.info, nil
}

// Stat describes the file under key.
func (d *DataFolder) Stat(_ context.Context, key string) (blob.Info, error) {
	it, ok := d.find(key)
	if !ok {
		return blob.Info{}, bindery.Errorf(bindery.ENOTFOUND, "File not found.")
	}
	return it.info, nil
}

// List yields the files whose keys start with prefix, by key.
func (d *DataFolder) List(ctx context.Context, prefix string) iter.Seq2[blob.Info, error] {
	return func(yield func(blob.Info, error) bool) {
		for _, it := range d.items {
			if err := ctx.Err(); err != nil {
				yield(blob.Info{}, err)
				return
			}
			if strings.HasPrefix(it.key, prefix) && !yield(it.info, nil) {
				return
			}
		}
	}
}

var _ blob.Store = (*DataFolder)(nil)

// bookFilesTable is the table of the pointer rows.
const bookFilesTable = "book_files"

// takeBookFiles makes the pointer rows Options.BookFiles's business: the
// generic copy leaves book_files alone. A source that has rows of its
// own already shares its files (BINDERY_S3_… was set on it): its files
// are in the bucket, and only the tables need copying.
func (m *migration) takeBookFiles(ctx context.Context) error {
	var n int64
	if err := m.o.Source.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+bookFilesTable).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return bindery.Errorf(bindery.ECONFLICT, "The data folder's files are already in shared storage (its server had BINDERY_S3_… set): migrate without --blobs, and keep the same bucket.")
	}
	m.tables = slices.DeleteFunc(m.tables, func(t *table) bool { return t.name == bookFilesTable })
	return nil
}

// copyBookFiles inserts the pointer rows of the book files, in batches,
// skipping rows already there (a resumed run).
func (m *migration) copyBookFiles(ctx context.Context) (*TableReport, error) {
	tr := &TableReport{Name: bookFilesTable + " (from the book folders)", Source: int64(len(m.o.BookFiles))}
	rows := m.o.BookFiles
	for len(rows) > 0 {
		batch := rows[:min(len(rows), m.o.BatchRows)]
		rows = rows[len(batch):]
		tx, err := m.pool.Begin(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range batch {
			tag, err := tx.Exec(ctx, `INSERT INTO book_files (book_id, path, blob_key, size, sha256, modified_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (book_id, path) DO NOTHING`, f.BookID, f.Path, f.BlobKey, f.Size, f.SHA256, f.Modified.UnixNano())
			if err != nil {
				tx.Rollback(ctx) //nolint:errcheck // the error returned is the one that matters
				return nil, err
			}
			if tag.RowsAffected() == 1 {
				tr.Copied++
			} else {
				tr.Already++
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return nil, err
		}
		if err := m.stepped(); err != nil {
			return nil, err
		}
	}
	return tr, nil
}

// targetBookFiles counts and checksums the target's pointer rows.
func (m *migration) targetBookFiles(ctx context.Context) (int64, []byte, error) {
	rows, err := m.pool.Query(ctx, `SELECT book_id, path, blob_key, size, sha256, modified_at FROM book_files ORDER BY book_id, path COLLATE "C"`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var got []bindery.BookFile
	for rows.Next() {
		var f bindery.BookFile
		var at int64
		if err := rows.Scan(&f.BookID, &f.Path, &f.BlobKey, &f.Size, &f.SHA256, &at); err != nil {
			return 0, nil, err
		}
		f.Modified = time.Unix(0, at)
		got = append(got, f)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	return int64(len(got)), bookFilesChecksum(got), nil
}

// bookFilesChecksum is a SHA-256 over the rows in (book, path) order.
func bookFilesChecksum(files []bindery.BookFile) []byte {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b bindery.BookFile) int {
		if a.BookID != b.BookID {
			return cmp.Compare(a.BookID, b.BookID)
		}
		return strings.Compare(a.Path, b.Path)
	})
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%d\x00%s\x00%d\n", f.BookID, f.Path, f.BlobKey, f.Size, f.SHA256, f.Modified.UnixNano())
	}
	return h.Sum(nil)
}
