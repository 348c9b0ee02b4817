package books_test

import (
	"archive/zip"
	"bytes"
	"context"
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

func testTwoNodes(t *testing.T, shared blob.Store) {
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
	owner := books.Actor{User: u}
	node := func(name string) *books.Service {
		files, err := bookfs.New(filepath.Join(dir, name, "books"), bookfs.Limits{MaxFileBytes: 1 << 20, MaxFiles: 100, MaxBookBytes: 10 << 20})
		if err != nil {
			t.Fatal(err)
		}
		artifacts := func(id int64) string { return filepath.Join(dir, name, "artifacts", strconv.FormatInt(id, 10)) }
		cat, err := catalog.New(catalog.Config{Store: db, Dir: filepath.Join(dir, name, "published"), ArtifactsDir: artifacts, BookDir: files.Dir, Outputs: shared})
		if err != nil {
			t.Fatal(err)
		}
		return books.New(books.Deps{Store: db, Files: files, Shared: bookfs.NewShared(files, shared, db), Outputs: shared,
			Catalog: cat, Audit: &audit{}, ArtifactsDir: artifacts})
	}
	a, b := node("a"), node("b")
	read := func(svc *books.Service, id int64, name string) string {
		t.Helper()
		f, _, err := svc.Open(ctx, id, name)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		return string(data)
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
