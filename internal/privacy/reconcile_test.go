package privacy_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	bookService "github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/privacy"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// TestReconcileSettlesLeftovers: after a crash, Reconcile finishes a
// deletion that had renamed the book's folder aside (the book's row and
// runs go too), removes folders nothing in the database describes and
// temporary upload files, and gives a book without a folder an empty one.
func TestReconcileSettlesLeftovers(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	books, err := bookfs.New(filepath.Join(dir, "books"), bookfs.Limits{MaxFileBytes: 1 << 20, MaxFiles: 10, MaxBookBytes: 1 << 22})
	if err != nil {
		t.Fatal(err)
	}
	artifacts := func(id int64) string { return filepath.Join(dir, "artifacts", strconv.FormatInt(id, 10)) }
	published := func(id int64) string { return filepath.Join(dir, "published", strconv.FormatInt(id, 10)) }
	now := time.Now()
	u := &bindery.User{Email: "a@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	newBook := func() *bindery.Book {
		b := &bindery.Book{OwnerID: u.ID, Title: "B", CreatedAt: now, UpdatedAt: now}
		if err := store.CreateBook(ctx, b); err != nil {
			t.Fatal(err)
		}
		books.Create(b.ID)
		if _, err := books.Put(ctx, b.ID, "chapters/01-one.md", strings.NewReader("# One\n")); err != nil {
			t.Fatal(err)
		}
		return b
	}
	kept, deleting, folderless := newBook(), newBook(), newBook()
	// The deletion of "deleting" stopped after its folder was renamed
	// aside: it is still a row, with a run and its artifacts.
	run := &bindery.Run{BookID: deleting.ID, State: bindery.RunSucceeded, Formats: []string{"epub"}, CreatedBy: u.ID, CreatedAt: now}
	store.CreateRun(ctx, run)
	os.MkdirAll(artifacts(run.ID), 0o700)
	os.WriteFile(filepath.Join(artifacts(run.ID), "b.epub"), []byte("PK"), 0o600)
	trash := filepath.Join(dir, "books", ".deleted-"+strconv.FormatInt(deleting.ID, 10)+"-0011223344556677")
	if err := os.Rename(books.Dir(deleting.ID), trash); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(books.Dir(folderless.ID))
	// Orphans: a book folder, an edition and a run folder with no row.
	os.MkdirAll(filepath.Join(books.Dir(999), "chapters"), 0o700)
	os.MkdirAll(published(998), 0o700)
	os.MkdirAll(artifacts(997), 0o700)
	tmp := filepath.Join(books.Dir(kept.ID), "chapters", ".upload-0011223344556677")
	os.WriteFile(tmp, []byte("half an upload"), 0o600)

	cat, err := catalog.New(catalog.Config{Store: store, Dir: filepath.Dir(published(0)), ArtifactsDir: artifacts, BookDir: books.Dir})
	if err != nil {
		t.Fatal(err)
	}
	library := bookService.New(bookService.Deps{Store: store, Files: books, Catalog: cat, ArtifactsDir: artifacts})
	svc := privacy.New(privacy.Deps{Store: store, Books: books, Library: library, ArtifactsDir: artifacts, PublishedDir: published})
	rep, err := svc.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := privacy.Reconciled{DeletionsFinished: 1, OrphansRemoved: 3, FoldersCreated: 1, TempsRemoved: 1}
	if rep != want {
		t.Errorf("Reconcile = %+v, want %+v", rep, want)
	}
	if _, err := store.BookByID(ctx, deleting.ID); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Errorf("the half-deleted book is still a row: %v", err)
	}
	for _, gone := range []string{trash, artifacts(run.ID), books.Dir(999), published(998), artifacts(997), tmp} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s still there", gone)
		}
	}
	if !books.Exists(folderless.ID) {
		t.Error("a book row still has no folder")
	}
	if f, _, err := books.Get(kept.ID, "chapters/01-one.md"); err != nil {
		t.Errorf("a kept book lost a file: %v", err)
	} else {
		f.Close()
	}
	// Idempotent: a second pass finds nothing.
	if rep, err := svc.Reconcile(ctx); err != nil || rep != (privacy.Reconciled{}) {
		t.Errorf("second pass: %+v, %v", rep, err)
	}
}
