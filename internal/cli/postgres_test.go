package cli_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/testkit"
)

// TestServeWithPostgres: with BINDERY_DATABASE_URL_FILE naming a
// postgres:// URL, the commands and the server keep accounts in
// PostgreSQL (no database file appears in the data folder; the job queue,
// on PostgreSQL too: no file in the data folder), an account made by `user add`
// signs in to `serve`, and `keys rotate` re-encrypts PostgreSQL's values.
func TestServeWithPostgres(t *testing.T) {
	url := testkit.PostgresURL(t)
	data := t.TempDir()
	urlFile := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(urlFile, []byte(url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, b := secretbox.GenerateKey(), secretbox.GenerateKey()
	env := map[string]string{"BINDERY_DATA_DIR": data, "BINDERY_DATABASE_URL_FILE": urlFile, "ENCRYPTION_KEY": a}
	const pw = "correct horse battery staple"
	if code, _, errs := runEnv(t, env, pw+"\n", "user", "add", "--email", "ann@example.com", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %s", errs)
	}
	if _, err := os.Stat(filepath.Join(data, "bindery.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite database appeared in the data folder: %v", err)
	}

	p := start(t, map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": data, "BINDERY_DATABASE_URL_FILE": urlFile, "ENCRYPTION_KEY": a})
	base := "http://" + p.expect(t, listening)[2]
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(fmt.Sprintf(`{"email":"ann@example.com","password":%q}`, pw)))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(resp.Cookies()) == 0 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	me, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(me.Body)
	me.Body.Close()
	if me.StatusCode != 200 || !strings.Contains(string(body), "ann@example.com") {
		t.Fatalf("me: %d %s", me.StatusCode, body)
	}
	// The job queue is River's tables in PostgreSQL: no file for it.
	if _, err := os.Stat(filepath.Join(data, "jobs.db")); !os.IsNotExist(err) {
		t.Fatalf("a jobs.db appeared in the data folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "bindery.db")); !os.IsNotExist(err) {
		t.Fatalf("serve made a SQLite database: %v", err)
	}
	if strings.Contains(p.stderr.String(), url) {
		t.Fatal("the database URL was logged")
	}
	// A run followed live over /ws: with PostgreSQL the sockets learn of
	// events only through the database's notifications and the feed
	// (cluster.Feed), not from the pipeline directly.
	remote := remoteIn(t, t.TempDir())
	if code, out, errs := remote(pw+"\n", "login", "--server", base, "--email", "ann@example.com"); code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errs)
	}
	book := filepath.Join(t.TempDir(), "lighthouse")
	if err := os.CopyFS(book, os.DirFS(filepath.Join("..", "..", "examples", "lighthouse"))); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := remote("", "push", book); code != 0 {
		t.Fatalf("push: %d %s %s", code, out, errs)
	}
	code, out, errs := remote("", "run", book, "--formats", "html", "--follow")
	if code != 0 || !strings.Contains(out, "succeeded") || !strings.Contains(errs, "format") {
		t.Fatalf("run --follow on PostgreSQL: %d %s %s", code, out, errs)
	}
	// A second server on the same database (another data folder) is
	// refused while the job queue is per data folder.
	second := start(t, map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": t.TempDir(), "BINDERY_DATABASE_URL": url, "ENCRYPTION_KEY": a})
	select {
	case err = <-second.done:
		second.done <- err // for Cleanup
	case <-time.After(30 * time.Second):
		t.Fatalf("a second server on the same database is still running after 30 s:\n%s", second.stderr)
	}
	if err == nil || !strings.Contains(second.stderr.String(), "another `bindery serve` is using this database") {
		t.Fatalf("a second server on one database: %v\n%s", err, second.stderr)
	}

	rotate := map[string]string{"BINDERY_DATA_DIR": data, "BINDERY_DATABASE_URL": url, "ENCRYPTION_KEY": b, "ENCRYPTION_KEY_PREVIOUS": a}
	if code, out, errs := runEnv(t, rotate, "", "keys", "rotate"); code != 0 || !strings.Contains(out, "users.email_enc") {
		t.Fatalf("keys rotate: %d %s %s", code, out, errs)
	}
	only := map[string]string{"BINDERY_DATA_DIR": data, "BINDERY_DATABASE_URL": url, "ENCRYPTION_KEY": b}
	if code, out, errs := runEnv(t, only, "", "user", "list"); code != 0 || !strings.Contains(out, "ann@example.com") {
		t.Fatalf("user list under the new key alone: %d %s %s", code, out, errs)
	}
}

// TestDatabaseURLRefused: a URL of another engine is refused by name,
// without its password.
func TestDatabaseURLRefused(t *testing.T) {
	code, _, errs := runEnv(t, map[string]string{"BINDERY_DATA_DIR": t.TempDir(), "BINDERY_DATABASE_URL": "mysql://u:db-pass-secret@db/x"}, "", "user", "list")
	if code == 0 || !strings.Contains(errs, "BINDERY_DATABASE_URL") || strings.Contains(errs, "db-pass-secret") {
		t.Fatalf("%d %s", code, errs)
	}
}
