package books_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// TestTwoNodesShareBooks: two book services (two nodes: their own data
// folders) on one database and one blob store. What one node makes,
// imports, edits, moves back after placement or deletes, the other reads
// at once — files, metadata, the source export — and deleting the book
// on one leaves nothing of it in shared storage.
func TestTwoNodesShareBooks(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		shared, err := blob.OpenLocal(filepath.Join(t.TempDir(), "bucket"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shared.Close() })
		testTwoNodes(t, shared)
	})
	t.Run("s3", func(t *testing.T) { testTwoNodes(t, testkit.S3(t)) })
}

// sharedNodes returns a database with one author, and a maker of nodes
// (book services with their own data folder) on it and on shared, which
// reach the blobs and the rows through the given ones (nil: shared and
// the database themselves).
func sharedNodes(t *testing.T, shared blob.Store) (db *sqlite.DB, owner books.Actor, node func(name string, blobs blob.Store, rows bindery.BookFileStore) *books.Service) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	u := &bindery.User{Email: "owner@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	node = func(name string, blobs blob.Store, rows bindery.BookFileStore) *books.Service {
		if blobs == nil {
			blobs = shared
		}
		if rows == nil {
			rows = db
		}
		files, err := bookfs.New(filepath.Join(dir, name, "books"), bookfs.Limits{MaxFileBytes: 1 << 20, MaxFiles: 100, MaxBookBytes: 10 << 20})
		if err != nil {
			t.Fatal(err)
		}
		artifacts := func(id int64) string { return filepath.Join(dir, name, "artifacts", strconv.FormatInt(id, 10)) }
		cat, err := catalog.New(catalog.Config{Store: db, Dir: filepath.Join(dir, name, "published"), ArtifactsDir: artifacts, BookDir: files.Dir, Outputs: blobs})
		if err != nil {
			t.Fatal(err)
		}
		return books.New(books.Deps{Store: db, Files: files, Shared: bookfs.NewShared(files, blobs, rows), Outputs: blobs,
			Catalog: cat, Audit: &audit{}, ArtifactsDir: artifacts})
	}
	return db, books.Actor{User: u}, node
}

// readFile reads file name of book id through svc, or "<error>".
func readFile(t *testing.T, svc *books.Service, id int64, name string) string {
	t.Helper()
	f, _, err := svc.Open(context.Background(), id, name)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	defer f.Close()
	data, _ := io.ReadAll(f)
	return string(data)
}

func testTwoNodes(t *testing.T, shared blob.Store) {
	ctx := context.Background()
	db, owner, node := sharedNodes(t, shared)
	a, b := node("a", nil, nil), node("b", nil, nil)
	read := func(svc *books.Service, id int64, name string) string {
		t.Helper()
		return readFile(t, svc, id, name)
	}

	// Imported on A (metadata.yaml names a bare cover.png), read on B.
	archive := testkit.ZipDir(t, t.TempDir(), "", map[string]string{
		"metadata.yaml":      "# the author's comment\ntitle: Shared Book\ncover: cover.png\n",
		"chapters/01-one.md": "# One\n\nText.\n",
		"chapters/02-two.md": "# Two\n\nMore.\n",
	})
	imp, err := a.Import(ctx, owner, bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	id := imp.Book.ID
	files, err := b.Files(ctx, id)
	if err != nil || len(files) != 3 {
		t.Fatalf("node B lists %+v, %v", files, err)
	}
	if got := read(b, id, "chapters/02-two.md"); got != "# Two\n\nMore.\n" {
		t.Fatalf("node B reads %q", got)
	}

	// Metadata edited on B keeps the author's file; A sees the edit.
	md, _, err := b.Metadata(ctx, id)
	if err != nil || md == nil {
		t.Fatal(err)
	}
	md.Subtitle = "Edited on B"
	bk, _ := db.BookByID(ctx, id)
	if err := b.SetMetadata(ctx, owner, bk, md); err != nil {
		t.Fatal(err)
	}
	if got := read(a, id, "metadata.yaml"); !strings.Contains(got, "# the author's comment") || !strings.Contains(got, "Edited on B") {
		t.Fatalf("node A reads metadata.yaml as %q", got)
	}

	// A cover dropped on A is placed, then moved back to the name
	// metadata.yaml gives it when metadata.yaml arrives again; B follows.
	if _, err := a.PutFile(ctx, owner, bk, "assets/images/cover.png", bytes.NewReader(tinyPNG(t))); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutFile(ctx, owner, bk, "metadata.yaml", strings.NewReader(read(a, id, "metadata.yaml"))); err != nil {
		t.Fatal(err)
	}
	if got := read(b, id, "cover.png"); !strings.HasPrefix(got, "\x89PNG") {
		t.Fatalf("node B reads cover.png as %.40q", got)
	}
	if got := read(b, id, "assets/images/cover.png"); !strings.HasPrefix(got, "<") {
		t.Fatalf("the placed copy is still on node B")
	}

	// Deleted on B, gone on A; the export of A is B's folder.
	if err := b.DeleteFile(ctx, owner, bk, "chapters/01-one.md"); err != nil {
		t.Fatal(err)
	}
	if got := read(a, id, "chapters/01-one.md"); !strings.HasPrefix(got, "<") {
		t.Fatalf("node A still reads a file node B deleted: %q", got)
	}
	var za, zb bytes.Buffer
	if err := a.ExportSource(ctx, id, &za); err != nil {
		t.Fatal(err)
	}
	if err := b.ExportSource(ctx, id, &zb); err != nil {
		t.Fatal(err)
	}
	if got, want := zipNames(t, za.Bytes()), zipNames(t, zb.Bytes()); strings.Join(got, ",") != strings.Join(want, ",") || len(got) != 3 {
		t.Fatalf("exports differ: A %v, B %v", got, want)
	}

	// Deleted on A: nothing of the book is left in shared storage.
	if err := a.Delete(ctx, owner, bk, "test"); err != nil {
		t.Fatal(err)
	}
	for info, err := range shared.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("left in shared storage: %s", info.Key)
	}
	if _, _, err := b.Metadata(ctx, id); bindery.ErrorCode(err) != bindery.ENOTFOUND && err != nil {
		t.Fatalf("node B after the deletion: %v", err)
	}
}

func tinyPNG(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipNames(t *testing.T, data []byte) []string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range zr.File {
		out = append(out, f.Name)
	}
	return out
}

// bucketDown is a blob store that refuses new objects while down is set.
type bucketDown struct {
	blob.Store
	down *bool
}

func (b bucketDown) PutContent(ctx context.Context, prefix string, r io.Reader) (blob.Info, error) {
	if *b.down {
		return blob.Info{}, errors.New("bucket unreachable")
	}
	return b.Store.PutContent(ctx, prefix, r)
}

// rowsDown is a book-file row store that refuses changes while down is set.
type rowsDown struct {
	bindery.BookFileStore
	down *bool
}

func (r rowsDown) DeleteBookFile(ctx context.Context, id int64, path string) error {
	if *r.down {
		return errors.New("database unreachable")
	}
	return r.BookFileStore.DeleteBookFile(ctx, id, path)
}

// TestARefusedChangeIsUndone: a change that shared storage refuses (the
// bucket or the database is down) fails, and fails everywhere: the upload
// or deletion is undone on the node that made it, stays invisible to the
// other, and does not land later when storage is back (before, the next
// sync pushed the local write of a "failed" upload).
func TestARefusedChangeIsUndone(t *testing.T) {
	ctx := context.Background()
	shared, err := blob.OpenLocal(filepath.Join(t.TempDir(), "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Close() })
	db, owner, node := sharedNodes(t, shared)
	down := false
	a := node("a", bucketDown{shared, &down}, rowsDown{db, &down})
	b := node("b", nil, nil)
	imp, err := a.Import(ctx, owner, bytes.NewReader(testkit.ZipDir(t, t.TempDir(), "", map[string]string{
		"metadata.yaml":      "title: Refused\n",
		"chapters/01-one.md": "# One\n\nFirst.\n",
	})))
	if err != nil {
		t.Fatal(err)
	}
	id, bk := imp.Book.ID, imp.Book
	const one = "chapters/01-one.md"
	names := func(svc *books.Service) string {
		t.Helper()
		files, err := svc.Files(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range files {
			out = append(out, f.Path)
		}
		return strings.Join(out, ",")
	}

	down = true
	if _, err := a.PutFile(ctx, owner, bk, "chapters/02-two.md", strings.NewReader("# Two\n")); err == nil {
		t.Fatal("a new file was accepted while the bucket was down")
	}
	if _, err := a.PutFile(ctx, owner, bk, one, strings.NewReader("# One, rewritten\n")); err == nil {
		t.Fatal("a replaced file was accepted while the bucket was down")
	}
	if err := a.DeleteFile(ctx, owner, bk, one); err == nil {
		t.Fatal("a deletion was accepted while the database was down")
	}
	down = false

	for node, svc := range map[string]*books.Service{"A": a, "B": b} {
		if got := names(svc); got != "chapters/01-one.md,metadata.yaml" {
			t.Errorf("node %s lists %s after the refused changes", node, got)
		}
		if got := readFile(t, svc, id, one); got != "# One\n\nFirst.\n" {
			t.Errorf("node %s reads %s as %q", node, one, got)
		}
	}
	rows, err := db.BookFiles(ctx, id)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows after the refused changes: %+v, %v", rows, err)
	}
}
