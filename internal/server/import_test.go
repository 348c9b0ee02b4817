package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/testkit"
)

// lighthouseZip zips the bundled example's folder as a user would:
// "zip -r lighthouse.zip lighthouse", with the generator script and the
// README next to the book.
func lighthouseZip(t *testing.T) []byte {
	return testkit.ZipDir(t, filepath.Join("..", "..", "examples", "lighthouse"), "lighthouse/", nil)
}

type importAnswer struct {
	Book struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	} `json:"book"`
	Files   []struct{ Path string } `json:"files"`
	Skipped []string                `json:"skipped"`
}

// TestImportExportRoundTrip: the bundled example imported as a zip
// becomes a book of the caller with every book file; its source.zip
// imported again is the same folder, byte for byte.
func TestImportExportRoundTrip(t *testing.T) {
	h := newHarness(t, nil)
	cookie := h.session(bindery.RoleEditor)
	resp, body := h.do(req{method: "POST", path: "/api/v1/books/import", body: string(lighthouseZip(t)), contentType: "application/zip", cookie: cookie})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import = %d %s", resp.StatusCode, body)
	}
	var a importAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if a.Book.Title != "The Keeper of Skerry Light" {
		t.Errorf("title = %q", a.Book.Title)
	}
	if strings.Join(a.Skipped, ",") != "genimages.go" {
		t.Errorf("skipped = %q, want the generator script only", a.Skipped)
	}
	var css bool
	for _, f := range a.Files {
		css = css || f.Path == "assets/css/book.css"
	}
	if !css || len(a.Files) < 8 {
		t.Errorf("files = %+v", a.Files)
	}

	resp, zipped := h.do(req{method: "GET", path: "/api/v1/books/" + strconv.FormatInt(a.Book.ID, 10) + "/source.zip", cookie: cookie})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("source.zip = %d %v", resp.StatusCode, resp.Header)
	}
	resp, body = h.do(req{method: "POST", path: "/api/v1/books/import", body: zipped, contentType: "application/zip", cookie: cookie})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("re-import = %d %s", resp.StatusCode, body)
	}
	var b importAnswer
	json.Unmarshal([]byte(body), &b)
	if len(b.Files) != len(a.Files) || len(b.Skipped) != 0 {
		t.Fatalf("re-imported %d files (skipped %q), want %d", len(b.Files), b.Skipped, len(a.Files))
	}
	for _, f := range a.Files {
		x, err1 := os.ReadFile(filepath.Join(h.books.Dir(a.Book.ID), f.Path))
		y, err2 := os.ReadFile(filepath.Join(h.books.Dir(b.Book.ID), f.Path))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs after export and import (%v, %v)", f.Path, err1, err2)
		}
	}
	// Another reader of the book cannot export what they cannot read.
	other := h.session(bindery.RoleViewer)
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/books/" + strconv.FormatInt(a.Book.ID, 10) + "/source.zip", cookie: other}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a viewer who is not a member exported the book: %d", resp.StatusCode)
	}
}

// TestImportRefusals: refused archives create no book and leave nothing.
func TestImportRefusals(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_BOOK_MAX_BYTES": "200000"})
	cookie := h.session(bindery.RoleAuthor)
	before, _ := h.store.ListBooks(t.Context(), h.users[bindery.RoleAdmin].ID, true)
	for _, tc := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"not an archive", "hello", 415, ".zip or a .tar.gz"},
		{"no metadata", string(zipBook(t, map[string]string{"chapters/01.md": "# One\n"})), 422, "no metadata.yaml"},
		{"no title", string(zipBook(t, map[string]string{"metadata.yaml": "author: A\n", "chapters/01.md": "# One\n"})), 422, "metadata.yaml"},
		{"zip slip", string(zipBook(t, map[string]string{"metadata.yaml": "title: T\n", "../x.md": "x"})), 400, "are not allowed"},
		{"larger than the book limit", string(zipBook(t, map[string]string{"metadata.yaml": "title: T\n", "chapters/01.md": strings.Repeat("x", 300000)})), 413, ""},
	} {
		resp, body := h.do(req{method: "POST", path: "/api/v1/books/import", body: tc.body, contentType: "application/zip", cookie: cookie})
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, resp.StatusCode, body, tc.status, tc.msg)
		}
	}
	after, _ := h.store.ListBooks(t.Context(), h.users[bindery.RoleAdmin].ID, true)
	if len(after) != len(before) {
		t.Errorf("refused imports created %d books", len(after)-len(before))
	}
	ents, _ := os.ReadDir(h.cfg.BooksDir())
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left in the books folder: %s", e.Name())
		}
	}
}
