package bookfs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// node is one server's view of shared book files: its own folder of book
// copies, and the rows and blobs every node shares.
type node struct {
	files  *bookfs.Store
	shared *bookfs.Shared
}

func (n node) sync(t testing.TB, id int64) {
	t.Helper()
	defer n.shared.Lock(id)()
	if err := n.shared.Sync(context.Background(), id); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func (n node) read(t *testing.T, id int64, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(n.files.Dir(id), filepath.FromSlash(name)))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(data)
}

// sharedNodes returns two nodes sharing one SQLite database and one blob
// folder, and a book (its row made, its folder on neither node yet).
func sharedNodes(t testing.TB) (a, b node, blobs blob.Store, rows *sqlite.DB, id int64) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	rows, err := sqlite.Open(ctx, filepath.Join(dir, "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rows.Close() })
	local, err := blob.OpenLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	u := &bindery.User{Email: "a@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := rows.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	bk := &bindery.Book{OwnerID: u.ID, Title: "Shared", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := rows.CreateBook(ctx, bk); err != nil {
		t.Fatal(err)
	}
	mk := func(name string) node {
		files, err := bookfs.New(filepath.Join(dir, name), bookfs.Limits{MaxFileBytes: 1 << 20, MaxFiles: 2000, MaxBookBytes: 10 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return node{files: files, shared: bookfs.NewShared(files, local, rows)}
	}
	return mk("node-a"), mk("node-b"), local, rows, bk.ID
}

// TestSharedBookFiles: what one node writes, moves or deletes, the other
// sees after its Sync, byte for byte; and a crash between a local change
// and its row loses nothing.
func TestSharedBookFiles(t *testing.T) {
	ctx := context.Background()
	a, b, blobs, rows, id := sharedNodes(t)
	put := func(n node, name, text string) {
		t.Helper()
		defer n.shared.Lock(id)()
		if err := n.shared.Sync(ctx, id); err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
			t.Fatal(err)
		}
		if err := n.files.Create(id); err != nil {
			t.Fatal(err)
		}
		if _, err := n.files.Put(ctx, id, name, strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
		if err := n.shared.Push(ctx, id, name); err != nil {
			t.Fatal(err)
		}
	}

	// A book without files yet: an empty folder.
	b.sync(t, id)
	if files, err := b.files.List(id); err != nil || len(files) != 0 {
		t.Fatalf("a book without files: %v, %v", files, err)
	}

	put(a, "metadata.yaml", "title: Shared\n")
	put(a, "chapters/01.md", "# One\n\nFirst version.\n")
	b.sync(t, id)
	if got := b.read(t, id, "chapters/01.md"); got != "# One\n\nFirst version.\n" {
		t.Fatalf("node B reads %q", got)
	}

	// B changes the chapter; A sees the new version.
	put(b, "chapters/01.md", "# One\n\nSecond version.\n")
	a.sync(t, id)
	if got := a.read(t, id, "chapters/01.md"); got != "# One\n\nSecond version.\n" {
		t.Fatalf("node A reads %q after B's change", got)
	}

	// A moves it and deletes metadata.yaml; B follows.
	func() {
		defer a.shared.Lock(id)()
		if err := a.files.Move(id, "chapters/01.md", "chapters/02.md"); err != nil {
			t.Fatal(err)
		}
		if err := a.shared.Moved(ctx, id, "chapters/01.md", "chapters/02.md"); err != nil {
			t.Fatal(err)
		}
		if err := a.files.Delete(id, "metadata.yaml"); err != nil {
			t.Fatal(err)
		}
		if err := a.shared.Forget(ctx, id, "metadata.yaml"); err != nil {
			t.Fatal(err)
		}
	}()
	b.sync(t, id)
	if got := b.read(t, id, "chapters/02.md"); got != "# One\n\nSecond version.\n" {
		t.Fatalf("node B reads the moved file as %q", got)
	}
	for _, gone := range []string{"chapters/01.md", "metadata.yaml"} {
		if _, err := os.Stat(filepath.Join(b.files.Dir(id), filepath.FromSlash(gone))); !os.IsNotExist(err) {
			t.Fatalf("%s is still on node B: %v", gone, err)
		}
	}

	// A crash on A after the local write, before the row: A's next Sync
	// pushes the file, and B gets it.
	if _, err := a.files.Put(ctx, id, "chapters/03.md", strings.NewReader("# Three\n")); err != nil {
		t.Fatal(err)
	}
	a.sync(t, id)
	b.sync(t, id)
	if got := b.read(t, id, "chapters/03.md"); got != "# Three\n" {
		t.Fatalf("a file written before a crash reached node B as %q", got)
	}
	// A crash on B after a local deletion, before the row went: B's next
	// Sync finishes the deletion rather than bringing the file back.
	if err := b.files.Delete(id, "chapters/03.md"); err != nil {
		t.Fatal(err)
	}
	b.sync(t, id)
	if _, err := os.Stat(filepath.Join(b.files.Dir(id), "chapters", "03.md")); !os.IsNotExist(err) {
		t.Fatalf("a file deleted before a crash came back: %v", err)
	}
	a.sync(t, id)
	if _, err := os.Stat(filepath.Join(a.files.Dir(id), "chapters", "03.md")); !os.IsNotExist(err) {
		t.Fatalf("node A still has a file node B deleted: %v", err)
	}

	// Bytes that do not match their row are refused, and the file in
	// place stays as it was.
	fs, err := rows.BookFiles(ctx, id)
	if err != nil || len(fs) != 1 {
		t.Fatalf("rows: %+v, %v", fs, err)
	}
	put(a, "chapters/02.md", "# One\n\nThird version.\n")
	fs, _ = rows.BookFiles(ctx, id)
	if _, err := blobs.Put(ctx, fs[0].BlobKey, strings.NewReader("tampered")); err != nil {
		t.Fatal(err)
	}
	if err := func() error { defer b.shared.Lock(id)(); return b.shared.Sync(ctx, id) }(); err == nil || !strings.Contains(err.Error(), "other bytes") {
		t.Fatalf("Sync of tampered bytes: %v", err)
	}
	if got := b.read(t, id, "chapters/02.md"); got != "# One\n\nSecond version.\n" {
		t.Fatalf("after a refused download node B reads %q", got)
	}

	// The collector deletes the versions no row names, once older than
	// its grace period, and keeps the current ones.
	var before int
	for _, err := range blobs.List(ctx, "books/") {
		if err != nil {
			t.Fatal(err)
		}
		before++
	}
	if n, err := a.shared.Collect(ctx, time.Hour, time.Now()); n != 0 || err != nil {
		t.Fatalf("Collect within the grace period = %d, %v", n, err)
	}
	if n, err := a.shared.Collect(ctx, time.Hour, time.Now().Add(2*time.Hour)); n != before-1 || err != nil {
		t.Fatalf("Collect = %d, %v; want %d (every version but the current one)", n, err, before-1)
	}
	if _, err := blobs.Stat(ctx, fs[0].BlobKey); err != nil {
		t.Fatalf("the current version was collected: %v", err)
	}
	if err := a.shared.RemoveBook(ctx, id); err != nil {
		t.Fatal(err)
	}
	for info, err := range blobs.List(ctx, "books/") {
		t.Fatalf("after RemoveBook: %+v, %v", info, err)
	}

	// The book deleted (on node A), node B's copy goes at its next
	// Prune — not while the book exists, nor while the copy is new.
	exists := func(ctx context.Context, id int64) (bool, error) {
		_, err := rows.BookByID(ctx, id)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	}
	if n, err := b.shared.Prune(ctx, exists, time.Now().Add(time.Minute)); n != 0 || err != nil {
		t.Fatalf("Prune while the book exists = %d, %v", n, err)
	}
	// Told of a deletion that did not happen (the row is there): nothing.
	if removed, err := b.shared.RemoveCopy(ctx, id, exists); removed || err != nil {
		t.Fatalf("RemoveCopy of an existing book = %v, %v", removed, err)
	}
	if err := rows.DeleteBook(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n, err := b.shared.Prune(ctx, exists, time.Now().Add(-time.Minute)); n != 0 || err != nil {
		t.Fatalf("Prune of a new copy = %d, %v", n, err)
	}
	if n, err := b.shared.Prune(ctx, exists, time.Now().Add(time.Minute)); n != 1 || err != nil {
		t.Fatalf("Prune = %d, %v; want node B's copy removed", n, err)
	}
	if _, err := os.Stat(b.files.Dir(id)); !os.IsNotExist(err) {
		t.Fatalf("node B still holds the deleted book: %v", err)
	}

	// Told of the deletion (cluster.BooksChannel), node A's copy goes at
	// once, however new; a second telling finds nothing to do.
	if err := a.files.Create(id); err != nil && !a.files.Exists(id) {
		t.Fatal(err)
	}
	if removed, err := a.shared.RemoveCopy(ctx, id, exists); !removed || err != nil {
		t.Fatalf("RemoveCopy = %v, %v; want node A's copy removed", removed, err)
	}
	if removed, err := a.shared.RemoveCopy(ctx, id, exists); removed || err != nil {
		t.Fatalf("RemoveCopy again = %v, %v", removed, err)
	}
}

// TestSharedRowsCannotLeaveTheFolder: a pointer row whose path climbs
// out of the book's folder (a tampered database) is refused by the
// os.Root every download goes through: Sync fails and nothing is written
// outside the folder.
func TestSharedRowsCannotLeaveTheFolder(t *testing.T) {
	ctx := context.Background()
	a, _, blobs, rows, id := sharedNodes(t)
	obj, err := blobs.PutContent(ctx, "books/"+strconv.FormatInt(id, 10)+"/files/", strings.NewReader("escaped\n"))
	if err != nil {
		t.Fatal(err)
	}
	sum := obj.Key[strings.LastIndexByte(obj.Key, '/')+1:]
	for _, p := range []string{"../escape.md", "../../escape.md", "/tmp/escape.md"} {
		if err := rows.PutBookFile(ctx, &bindery.BookFile{BookID: id, Path: p, BlobKey: obj.Key, Size: obj.Size, SHA256: sum, Modified: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	unlock := a.shared.Lock(id)
	err = a.shared.Sync(ctx, id)
	unlock()
	if err == nil {
		t.Fatal("Sync followed rows out of the book's folder")
	}
	for _, p := range []string{filepath.Join(a.files.Dir(id), "..", "escape.md"), filepath.Join(a.files.Dir(id), "..", "..", "escape.md"), "/tmp/escape.md"} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s was written: %v", p, err)
		}
	}
}

// TestSharedAdopt: a data folder that served one server before its books
// moved to shared storage is adopted at start-up: its books' files are
// pushed (no manifest yet), and another node reads them; a second Adopt
// finds nothing to do.
func TestSharedAdopt(t *testing.T) {
	ctx := context.Background()
	a, b, _, rows, id := sharedNodes(t)
	if err := a.files.Create(id); err != nil {
		t.Fatal(err)
	}
	if _, err := a.files.Put(ctx, id, "chapters/01.md", strings.NewReader("# Before sharing\n")); err != nil {
		t.Fatal(err)
	}
	exists := func(ctx context.Context, id int64) (bool, error) {
		_, err := rows.BookByID(ctx, id)
		return err == nil, nil
	}
	if n, err := a.shared.Adopt(ctx, exists); n != 1 || err != nil {
		t.Fatalf("Adopt = %d, %v", n, err)
	}
	if n, err := a.shared.Adopt(ctx, exists); n != 0 || err != nil {
		t.Fatalf("Adopt again = %d, %v", n, err)
	}
	b.sync(t, id)
	if got := b.read(t, id, "chapters/01.md"); got != "# Before sharing\n" {
		t.Fatalf("node B reads %q", got)
	}
}

// BenchmarkSyncUnchanged: what every read of a book costs a node with
// shared storage when nothing changed — one query for the rows, a walk
// of the folder, the manifest read — for a book of 50 and of 2,000 files
// (the default BINDERY_BOOK_MAX_FILES).
func BenchmarkSyncUnchanged(b *testing.B) {
	for _, n := range []int{50, 2000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			ctx := context.Background()
			a, _, _, _, id := sharedNodes(b)
			if err := a.files.Create(id); err != nil {
				b.Fatal(err)
			}
			names := make([]string, 0, n)
			for i := range n {
				name := fmt.Sprintf("chapters/%04d.md", i)
				if _, err := a.files.Put(ctx, id, name, strings.NewReader(fmt.Sprintf("# %d\n\nText.\n", i))); err != nil {
					b.Fatal(err)
				}
				names = append(names, name)
			}
			unlock := a.shared.Lock(id)
			if err := a.shared.Push(ctx, id, names...); err != nil {
				b.Fatal(err)
			}
			unlock()
			b.ResetTimer()
			for b.Loop() {
				unlock := a.shared.Lock(id)
				if err := a.shared.Sync(ctx, id); err != nil {
					b.Fatal(err)
				}
				unlock()
			}
		})
	}
}
