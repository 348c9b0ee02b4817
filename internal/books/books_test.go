package books_test

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// audit records audit entries.
type audit struct {
	mu      sync.Mutex
	entries []bindery.AuditEvent
}

func (a *audit) Audit(_ context.Context, e bindery.AuditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
}

func (a *audit) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.entries {
		out = append(out, e.Action+" "+e.Target)
	}
	return out
}

type env struct {
	svc   *books.Service
	store bindery.Store
	files *bookfs.Store
	audit *audit
	owner books.Actor
	dir   string
}

// failingCreate is a store whose book creation runs then (the folder is
// moved into place) and then fails, as a commit that fails would.
type failingCreate struct {
	bindery.Store
	fail bool
}

func (f *failingCreate) CreateBookWith(ctx context.Context, b *bindery.Book, then func(*bindery.Book) error) error {
	if !f.fail {
		return f.Store.CreateBookWith(ctx, b, then)
	}
	b.ID = 1000
	if err := then(b); err != nil {
		return err
	}
	return errors.New("disk I/O error (commit)")
}

func newEnv(t *testing.T, wrap func(bindery.Store) bindery.Store) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var store bindery.Store = db
	if wrap != nil {
		store = wrap(db)
	}
	files, err := bookfs.New(filepath.Join(dir, "books"), bookfs.Limits{MaxFileBytes: 1 << 20, MaxFiles: 100, MaxBookBytes: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	artifacts := func(id int64) string { return filepath.Join(dir, "artifacts", strconv.FormatInt(id, 10)) }
	cat, err := catalog.New(catalog.Config{Store: store, Dir: filepath.Join(dir, "published"), ArtifactsDir: artifacts, BookDir: files.Dir})
	if err != nil {
		t.Fatal(err)
	}
	u := &bindery.User{Email: "owner@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a := &audit{}
	svc := books.New(books.Deps{Store: store, Files: files, Catalog: cat, Audit: a, ArtifactsDir: artifacts})
	return &env{svc: svc, store: store, files: files, audit: a, owner: books.Actor{User: u}, dir: dir}
}

// entries lists what the books folder holds, hidden names included.
func (e *env) entries(t *testing.T) []string {
	t.Helper()
	var out []string
	ents, err := os.ReadDir(filepath.Join(e.dir, "books"))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ents {
		out = append(out, x.Name())
	}
	return out
}

// A new book's row, folder (standard layout, metadata.yaml) and audit
// entry come together.
func TestCreate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b, err := e.svc.Create(ctx, e.owner, manuscript.Metadata{Title: "  The Keeper  ", Authors: []string{"A. Writer"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.store.BookByID(ctx, b.ID); err != nil || got.Title != "The Keeper" {
		t.Fatalf("row = %+v, %v", got, err)
	}
	for _, p := range []string{"metadata.yaml", "chapters", "assets/images"} {
		if _, err := os.Stat(filepath.Join(e.files.Dir(b.ID), p)); err != nil {
			t.Errorf("the new book's folder lacks %s: %v", p, err)
		}
	}
	md, problem, err := e.svc.Metadata(ctx, b.ID)
	if err != nil || md == nil || md.Title != "The Keeper" || !slices.Equal(md.Authors, []string{"A. Writer"}) {
		t.Errorf("Metadata = %+v, %q, %v", md, problem, err)
	}
	if got := e.entries(t); !slices.Equal(got, []string{strconv.FormatInt(b.ID, 10)}) {
		t.Errorf("books folder holds %q: a staging folder was left", got)
	}
	if got := e.audit.actions(); !slices.Equal(got, []string{bindery.AuditBookCreated + " book " + strconv.FormatInt(b.ID, 10)}) {
		t.Errorf("audit = %q", got)
	}
}

// A book whose row cannot be made leaves no folder, and one whose folder
// cannot be made leaves no row: nothing half made, no undo by hand.
func TestCreateIsAllOrNothing(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ghost := books.Actor{User: &bindery.User{ID: 999}}
	if _, err := e.svc.Create(ctx, ghost, manuscript.Metadata{Title: "Nobody's"}); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("Create by an unknown user = %v, want ENOTFOUND", err)
	}
	if got := e.entries(t); len(got) != 0 {
		t.Errorf("a refused book left %q in the books folder", got)
	}
	// An archive with a file the upload rules refuse: no book at all.
	bad := testkit.ZipDir(t, "../../examples/lighthouse", "", map[string]string{"chapters/99.md": "bad \x00 bytes"})
	if _, err := e.svc.Import(ctx, e.owner, strings.NewReader(string(bad))); err == nil {
		t.Fatal("an archive with an invalid chapter was imported")
	}
	if list, _ := e.store.ListBooks(ctx, 0, true); len(list) != 0 {
		t.Errorf("a refused import left %d book rows", len(list))
	}
	if got := e.entries(t); len(got) != 0 {
		t.Errorf("a refused import left %q in the books folder", got)
	}
	if len(e.audit.actions()) != 0 {
		t.Errorf("audited what did not happen: %q", e.audit.actions())
	}
}

// A folder left by a creation whose commit failed (its row rolled back)
// is replaced by the next book given that id, not merged into it.
func TestCreateReplacesAFolderWhoseRowNeverCommitted(t *testing.T) {
	var fc *failingCreate
	e := newEnv(t, func(s bindery.Store) bindery.Store { fc = &failingCreate{Store: s, fail: true}; return fc })
	ctx := context.Background()
	if _, err := e.svc.Create(ctx, e.owner, manuscript.Metadata{Title: "Lost"}); err == nil {
		t.Fatal("Create succeeded although the commit failed")
	}
	if _, err := os.Stat(filepath.Join(e.files.Dir(1000), "metadata.yaml")); err != nil {
		t.Fatalf("the failing commit's folder is not there to test with: %v", err)
	}
	if err := os.WriteFile(filepath.Join(e.files.Dir(1000), "chapters", "stale.md"), []byte("# Stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The same id again (SQLite reuses a rolled-back id), committing this
	// time.
	fc.Store, fc.fail = &fixedID{Store: fc.Store, id: 1000}, false
	b, err := e.svc.Create(ctx, e.owner, manuscript.Metadata{Title: "Found"})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != 1000 {
		t.Fatalf("id %d, want 1000", b.ID)
	}
	if _, err := os.Stat(filepath.Join(e.files.Dir(b.ID), "chapters", "stale.md")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the new book holds the failed creation's file: %v", err)
	}
	if md, _, _ := e.svc.Metadata(ctx, b.ID); md == nil || md.Title != "Found" {
		t.Errorf("metadata = %+v", md)
	}
}

// fixedID creates books with a given id (as SQLite reuses the id of a
// rolled-back insert).
type fixedID struct {
	bindery.Store
	id int64
}

func (f *fixedID) CreateBookWith(ctx context.Context, b *bindery.Book, then func(*bindery.Book) error) error {
	return f.Store.CreateBookWith(ctx, b, func(b *bindery.Book) error {
		b.ID = f.id
		return then(b)
	})
}

// Metadata edits keep the author's file and mirror the title; a new
// metadata.yaml renames the book.
func TestMetadataAndTitle(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b, err := e.svc.Create(ctx, e.owner, manuscript.Metadata{Title: "One"})
	if err != nil {
		t.Fatal(err)
	}
	src := "# The author's comment\ntitle: Two   # inline\nauthor: Ann\n"
	if _, err := e.svc.PutFile(ctx, e.owner, b, "metadata.yaml", strings.NewReader(src)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.store.BookByID(ctx, b.ID); got.Title != "Two" || b.Title != "Two" {
		t.Errorf("after uploading metadata.yaml the title is %q (row) / %q", got.Title, b.Title)
	}
	md, _, _ := e.svc.Metadata(ctx, b.ID)
	md.Title = "Three"
	if err := e.svc.SetMetadata(ctx, e.owner, b, md); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(e.files.Dir(b.ID), "metadata.yaml"))
	if want := "# The author's comment\ntitle: Three # inline\nauthor: Ann\n"; string(data) != want {
		t.Errorf("metadata.yaml =\n%s\nwant\n%s", data, want)
	}
	if got, _ := e.store.BookByID(ctx, b.ID); got.Title != "Three" {
		t.Errorf("title %q after SetMetadata", got.Title)
	}
	md.Title = ""
	if err := e.svc.SetMetadata(ctx, e.owner, b, md); bindery.ErrorCode(err) != bindery.EINVALID {
		t.Errorf("an empty title = %v, want EINVALID", err)
	}
}

// Delete removes the runs' artifacts, the edition, the folder and the
// rows, and audits it.
func TestDelete(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	b, err := e.svc.Create(ctx, e.owner, manuscript.Metadata{Title: "Doomed"})
	if err != nil {
		t.Fatal(err)
	}
	run := &bindery.Run{BookID: b.ID, State: bindery.RunSucceeded, Formats: []string{"epub"}, CreatedBy: e.owner.User.ID, CreatedAt: time.Now()}
	if err := e.store.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	art := filepath.Join(e.dir, "artifacts", strconv.FormatInt(run.ID, 10))
	ed := filepath.Join(e.dir, "published", strconv.FormatInt(b.ID, 10))
	for _, d := range []string{art, ed} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Delete(ctx, e.owner, b, "test"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{art, ed, e.files.Dir(b.ID)} {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survives the deletion: %v", d, err)
		}
	}
	if _, err := e.store.BookByID(ctx, b.ID); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Errorf("the row survives: %v", err)
	}
	if got := e.audit.actions(); got[len(got)-1] != bindery.AuditBookDeleted+" book "+strconv.FormatInt(b.ID, 10) {
		t.Errorf("audit = %q", got)
	}
}

// TestOneOwner: outside the book service (and the stores below it), no
// code changes a book's row, members or invitations, or stages, moves or
// exports its folder. A handler that did would bypass the service's
// all-or-nothing rules and its audit entries.
func TestOneOwner(t *testing.T) {
	forbidden := map[string]bool{
		"CreateBook": true, "CreateBookWith": true, "DeleteBook": true, "UpdateBookTitle": true, "TransferBook": true,
		"AddMember": true, "RemoveMember": true, "CreateInvitation": true, "AcceptInvitation": true, "DeleteBookInvitation": true,
		"Stage": true, "NewStage": true, "WriteZip": true, "Move": true, "SetCover": true,
	}
	// Callers of the service's own methods of these names are fine: they
	// are on a *books.Service (s.books.AddMember, s.d.Library...).
	allowedRecv := []string{"books", "Books", "Library", "library", "lib"}
	fset := token.NewFileSet()
	root := "../"
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		top := strings.Split(filepath.ToSlash(rel), "/")[0]
		if d.IsDir() {
			if top == "books" || top == "store" || top == "bookfs" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !forbidden[sel.Sel.Name] {
				return true
			}
			if recv, ok := sel.X.(*ast.SelectorExpr); ok && slices.Contains(allowedRecv, recv.Sel.Name) {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && slices.Contains(allowedRecv, id.Name) {
				return true
			}
			t.Errorf("%s: %s is called outside the book service", fset.Position(call.Pos()), sel.Sel.Name)
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
