package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/totp"
)

// personal is a name unlikely to occur by chance in any file.
const personal = "Zebulon Quixote-Marchbanks"

// filesHolding returns the files under dir whose bytes contain any of
// needles (the database, its write-ahead log, book files, artifacts,
// published copies, logs: everything in the data folder).
func filesHolding(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(n))) {
				hits = append(hits, strings.TrimPrefix(path, dir)+" holds "+n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func unzip(t *testing.T, body string) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("export is not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

// TestPersonalDataIsEncryptedAtRest reads the raw database file: e-mail
// addresses, names, TOTP secrets and stored credentials are not in it.
func TestPersonalDataIsEncryptedAtRest(t *testing.T) {
	h := newHarness(t, nil)
	cookie := h.session(bindery.RoleEditor)
	if resp, body := h.do(req{method: "PATCH", path: "/api/v1/me", cookie: cookie, body: `{"name":"` + personal + `"}`}); resp.StatusCode != http.StatusOK || !strings.Contains(body, personal) {
		t.Fatalf("set name: %d %s", resp.StatusCode, body)
	}
	secret, _, _ := h.enrol(bindery.RoleAuthor)
	credential := "ideogram-test-" + strconv.FormatInt(h.clock.Now().UnixNano(), 36) // made at run time: no key-shaped literal in the repository
	if err := h.store.PutCredential(context.Background(), "ideogram", credential, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.store.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	needles := []string{personal, secret, credential}
	for _, u := range h.users {
		needles = append(needles, u.Email)
	}
	if hits := filesHolding(t, h.cfg.DataDir, needles...); len(hits) > 0 {
		t.Fatalf("values in clear in the data folder:\n%s", strings.Join(hits, "\n"))
	}
	// …and they are all still there for the application.
	if v, _, err := h.store.Credential(context.Background(), "ideogram"); err != nil || v != credential {
		t.Fatalf("credential = %q, %v", v, err)
	}
	if u, err := h.store.UserByEmail(context.Background(), "editor@example.com"); err != nil || u.Name != personal {
		t.Fatalf("user by e-mail = %+v, %v", u, err)
	}
}

func TestExportHoldsEverythingAboutThePerson(t *testing.T) {
	h := newHarness(t, nil)
	run := h.newRun(bindery.RunSucceeded)
	cookie := h.session(bindery.RoleAuthor)
	h.do(req{method: "PATCH", path: "/api/v1/me", cookie: cookie, body: `{"name":"` + personal + `"}`})
	h.do(req{method: "POST", path: "/api/v1/me/tokens", cookie: cookie, body: `{"name":"ci script","expires_in":"24h"}`})
	other := h.newBook(bindery.RoleAdmin)
	h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/invitations", other.ID), cookie: h.session(bindery.RoleAdmin), body: `{"email":"author@example.com"}`})

	resp, body := h.do(req{method: "GET", path: "/api/v1/me/export", cookie: cookie})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("export: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	files := unzip(t, body)
	var ex struct {
		Format   string
		Account  struct{ Email, Name string }
		Sessions []struct {
			ID string
		}
		APITokens []struct{ Name string } `json:"api_tokens"`
		Books     []struct {
			ID       int64
			Relation string
			Files    []string
			Runs     []struct{ Artifacts []string }
		}
		Audit       []struct{ Action string } `json:"audit_events"`
		Invitations []struct {
			BookID int64 `json:"book_id"`
		}
	}
	if err := json.Unmarshal(files["account.json"], &ex); err != nil {
		t.Fatalf("account.json: %v", err)
	}
	if ex.Format != "bindery-export/1" || ex.Account.Email != "author@example.com" || ex.Account.Name != personal || len(ex.Sessions) == 0 || len(ex.APITokens) != 1 || len(ex.Audit) == 0 {
		t.Fatalf("account.json misses data: %s", files["account.json"])
	}
	if len(ex.Books) != 1 || ex.Books[0].Relation != "owner" || len(ex.Books[0].Runs) != 1 {
		t.Fatalf("books: %+v", ex.Books)
	}
	if len(ex.Invitations) != 1 || ex.Invitations[0].BookID != other.ID {
		t.Fatalf("invitations: %+v", ex.Invitations)
	}
	src := "books/" + strconv.FormatInt(h.shared.ID, 10) + "/source/chapters/01-one.md"
	art := "books/" + strconv.FormatInt(h.shared.ID, 10) + "/runs/" + strconv.FormatInt(run.ID, 10) + "/book.epub"
	if string(files[src]) != "# One\n\nThe first chapter.\n" || string(files[art]) != "PK epub" {
		t.Fatalf("zip lacks the book's sources or artifacts: %v", keys(files))
	}
	for _, secret := range []string{"password_hash", "token_hash", "argon2id", "totp_secret", "bindery_s_"} {
		if strings.Contains(string(files["account.json"]), secret) {
			t.Errorf("the export holds %q", secret)
		}
	}
	// A member's export lists the book but does not copy somebody else's work.
	resp, body = h.do(req{method: "GET", path: "/api/v1/me/export", cookie: h.session(bindery.RoleEditor)})
	if f := unzip(t, body); resp.StatusCode != http.StatusOK || f[src] != nil {
		t.Fatalf("a member's export copies the owner's files")
	}
	// The admin variant: admins only.
	path := "/api/v1/users/" + strconv.FormatInt(h.users[bindery.RoleAuthor].ID, 10) + "/export"
	if resp, _ := h.do(req{method: "GET", path: path, cookie: h.session(bindery.RoleEditor)}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("non-admin export of another user: %d", resp.StatusCode)
	}
	if resp, body := h.do(req{method: "GET", path: path, cookie: h.session(bindery.RoleAdmin)}); resp.StatusCode != http.StatusOK || unzip(t, body)[src] == nil {
		t.Fatalf("admin export: %d", resp.StatusCode)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDeleteMeLeavesNoTrace deletes an account that has a name, a second
// factor, sessions, a token, a failed sign-in in the audit log, and a
// book with a run and a published edition — and then finds neither its
// e-mail address nor its name in any file of the data folder.
func TestDeleteMeLeavesNoTrace(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	run := h.passedRun()
	if _, err := h.cat.Publish(ctx, run.ID, h.users[bindery.RoleAuthor].ID); err != nil {
		t.Fatal(err)
	}
	email := "author@example.com"
	secret, _, cookie := h.enrol(bindery.RoleAuthor)
	h.do(req{method: "PATCH", path: "/api/v1/me", cookie: cookie, body: `{"name":"` + personal + `"}`})
	h.do(req{method: "POST", path: "/api/v1/me/tokens", cookie: cookie, body: `{"name":"ci","expires_in":"24h"}`})
	h.loginJSON(map[string]string{"email": email, "password": "a wrong password guess"})
	h.loginJSON(map[string]string{"email": "Author@Example.com ", "password": "another wrong guess"})

	h.clock.Advance(30 * time.Second)
	code, _ := totp.Code(secret, h.clock.Now())
	del := func(body string) int {
		resp, _ := h.do(req{method: "DELETE", path: "/api/v1/me", cookie: cookie, body: body})
		return resp.StatusCode
	}
	if st := del(`{"password":"a wrong password guess","code":"` + code + `","delete_books":true}`); st != http.StatusUnprocessableEntity {
		t.Fatalf("delete with a wrong password: %d, want 422", st)
	}
	// Without the password, transfer_to must not reveal whether an
	// address has an account: both answer the password's refusal.
	for _, heir := range []string{"editor@example.com", "nobody.at.all@example.com"} {
		resp, body := h.do(req{method: "DELETE", path: "/api/v1/me", cookie: cookie, body: `{"password":"wrong guess again","transfer_to":"` + heir + `"}`})
		if resp.StatusCode != http.StatusUnprocessableEntity || strings.Contains(body, "does not exist") {
			t.Fatalf("transfer_to %s without the password: %d %s", heir, resp.StatusCode, body)
		}
	}
	if st := del(`{"password":"` + strongPassword + `","delete_books":true}`); st != http.StatusUnauthorized {
		t.Fatalf("delete without the second factor: %d, want 401", st)
	}
	h.clock.Advance(30 * time.Second)
	code, _ = totp.Code(secret, h.clock.Now())
	if st := del(`{"password":"` + strongPassword + `","code":"` + code + `"}`); st != http.StatusConflict {
		t.Fatalf("delete without saying what becomes of the books: %d, want 409", st)
	}
	h.clock.Advance(30 * time.Second)
	code, _ = totp.Code(secret, h.clock.Now())
	if st := del(`{"password":"` + strongPassword + `","code":"` + code + `","delete_books":true}`); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	if resp, _ := h.do(req{method: "GET", path: "/api/v1/me", cookie: cookie}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session after deletion: %d", resp.StatusCode)
	}
	if _, err := h.store.BookByID(ctx, h.shared.ID); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("owned book still there: %v", err)
	}
	for _, dir := range []string{h.books.Dir(h.shared.ID), filepath.Join(h.cfg.DataDir, "artifacts", strconv.FormatInt(run.ID, 10)), h.cat.EditionDir(h.shared.ID)} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s survived the deletion (%v)", dir, err)
		}
	}
	if hits := filesHolding(t, h.cfg.DataDir, email, personal); len(hits) > 0 {
		t.Fatalf("the deleted person is still in the data folder:\n%s", strings.Join(hits, "\n"))
	}
}

func TestAdminDeletionTransfersBooks(t *testing.T) {
	h := newHarness(t, nil)
	admin := h.session(bindery.RoleAdmin)
	path := "/api/v1/users/" + strconv.FormatInt(h.users[bindery.RoleAuthor].ID, 10)
	if resp, _ := h.do(req{method: "DELETE", path: path, cookie: admin}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("deleting a book owner without a plan: %d, want 409", resp.StatusCode)
	}
	if resp, _ := h.do(req{method: "DELETE", path: path, cookie: admin, body: `{"transfer_to":"viewer@example.com"}`}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("transfer to a viewer: %d, want 422", resp.StatusCode)
	}
	if resp, body := h.do(req{method: "DELETE", path: path, cookie: admin, body: `{"transfer_to":"editor@example.com"}`}); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete with transfer: %d %s", resp.StatusCode, body)
	}
	b, err := h.store.BookByID(context.Background(), h.shared.ID)
	if err != nil || b.OwnerID != h.users[bindery.RoleEditor].ID {
		t.Fatalf("book after transfer: %+v, %v", b, err)
	}
	if files, err := h.books.List(h.shared.ID); err != nil || len(files) != 2 {
		t.Fatalf("the transferred book lost files: %v, %v", files, err)
	}
}
