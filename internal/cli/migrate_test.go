package cli_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/cli"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/testkit"
)

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// withPassword adds a password to a test database URL (the test server
// trusts its socket, so any password connects): what must never be
// printed.
func withPassword(t *testing.T, raw, pw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

// TestMigrateCommand: `bindery migrate --blobs s3` moves a data folder
// made by the commands (accounts) and by a server (a book folder, an
// image in the cache) to PostgreSQL and versitygw, prints the table of
// what it did without the database password, leaves the database file's
// bytes as they were; the commands then find the accounts and a
// verifying audit chain in PostgreSQL, and a new node with an empty data
// folder serves the book's files from the bucket.
func TestMigrateCommand(t *testing.T) {
	data := t.TempDir()
	key := secretbox.GenerateKey()
	env := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": key}
	const pw = "correct horse battery staple"
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		if code, _, errs := runEnv(t, env, pw+"\n", "user", "add", "--email", email, "--role", "author"); code != 0 {
			t.Fatalf("user add: %s", errs)
		}
	}
	// A book as a single server keeps it: a row, and a folder.
	ctx := context.Background()
	db := openData(t, data, key)
	ann, err := db.UserByEmail(ctx, "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	bk := &bindery.Book{OwnerID: ann.ID, Title: "Moved", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateBook(ctx, bk); err != nil {
		t.Fatal(err)
	}
	db.Close()
	chapter := "# Chapter 1\n\nMoved with its book.\n"
	for name, text := range map[string]string{"metadata.yaml": "title: Moved\n", "chapters/01.md": chapter, "chapters/02.md": chapter} {
		p := filepath.Join(data, "books", strconv.FormatInt(bk.ID, 10), filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cached := filepath.Join(data, "cache", "images", "ab", strings.Repeat("ab", 32)+".json")
	os.MkdirAll(filepath.Dir(cached), 0o700)
	os.WriteFile(cached, []byte("{}\n"), 0o600)
	before := fileSum(t, filepath.Join(data, "bindery.db"))

	s3env := testkit.S3Env(testkit.S3Config(t))
	for k, v := range s3env {
		env[k] = v
	}
	const secret = "pw-that-must-not-show"
	target := withPassword(t, testkit.PostgresURL(t), secret)
	code, out, errs := runEnv(t, env, "", "migrate", "--to", target, "--blobs", "s3")
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("\n%s", out)
	for _, want := range []string{"users", "audit_log", "book_files (from the book folders)", "Done:", "Audit chain: ", "Files: 3 copied", "xxxxx"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errs, secret) {
		t.Errorf("the database password was printed:\n%s\n%s", out, errs)
	}
	if fileSum(t, filepath.Join(data, "bindery.db")) != before {
		t.Errorf("the source database changed")
	}
	if code, out2, _ := runEnv(t, env, "", "migrate", "--to", target, "--blobs", "s3"); code != 0 || !strings.Contains(out2, "Files: 0 copied") {
		t.Errorf("migrate again: exit %d\n%s", code, out2)
	}

	pgEnv := map[string]string{"BINDERY_DATA_DIR": t.TempDir(), "BINDERY_DATABASE_URL": target, "ENCRYPTION_KEY": key}
	if code, out, errs := runEnv(t, pgEnv, "", "user", "list"); code != 0 || !strings.Contains(out, "ann@example.com") || !strings.Contains(out, "bob@example.com") {
		t.Errorf("user list on the target: exit %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := runEnv(t, pgEnv, "", "audit", "verify"); code != 0 || !strings.Contains(out, "entries verified") {
		t.Errorf("audit verify on the target: exit %d\n%s\n%s", code, out, errs)
	}

	// A node of the new deployment, its data folder empty, serves the
	// book from the bucket.
	for k, v := range s3env {
		pgEnv[k] = v
	}
	pgEnv["WEBSOCKET_PORT"] = "0"
	delete(pgEnv, "BINDERY_DATA_DIR") // start gives it a fresh one
	node := start(t, pgEnv)
	m := node.expect(t, listening)
	base := m[1] + "://" + m[2]
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"ann@example.com","password":"`+pw+`"}`))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in on the new node: %v %v", res, err)
	}
	res.Body.Close()
	res, err = client.Get(base + "/api/v1/books/" + strconv.FormatInt(bk.ID, 10) + "/files/chapters/02.md")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != chapter {
		t.Fatalf("the chapter on the new node: %s %q", res.Status, got)
	}

	// Without a password anywhere in the output, even when connecting
	// fails.
	bad := "postgres://bindery:" + secret + "@127.0.0.1:1/bindery?sslmode=disable&connect_timeout=5"
	code, out, errs = runEnv(t, map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": key}, "", "migrate", "--to", bad)
	if code != 1 || strings.Contains(out+errs, secret) {
		t.Errorf("a target that does not answer: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestMigrateRefusesRunningSource: while `bindery serve` runs on the
// data folder, migrate refuses (the folder's lock), saying to stop it.
func TestMigrateRefusesRunningSource(t *testing.T) {
	data := t.TempDir()
	key := secretbox.GenerateKey()
	p := start(t, map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": key})
	p.expect(t, listening)
	code, out, errs := runEnv(t, map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": key}, "", "migrate", "--to", "postgres://localhost/bindery")
	if code != 1 || !strings.Contains(errs, "in use by another bindery serve") || !strings.Contains(errs, "stop the server") {
		t.Fatalf("migrate beside a running server: exit %d\n%s\n%s", code, out, errs)
	}
}

// TestMigrateUsage: a target is required; --blobs s3 needs the
// BINDERY_S3_ settings; no database, no migration.
func TestMigrateUsage(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": secretbox.GenerateKey()}
	if code, _, errs := runEnv(t, env, "", "migrate"); code != 2 || !strings.Contains(errs, "needs a target") {
		t.Errorf("no target: exit %d, %s", code, errs)
	}
	if code, _, errs := runEnv(t, env, "", "migrate", "--to", "mysql://x/y"); code != 2 || !strings.Contains(errs, "postgres://") {
		t.Errorf("not PostgreSQL: exit %d, %s", code, errs)
	}
	if code, _, errs := runEnv(t, env, "", "migrate", "--to", "postgres://localhost/b"); code != 1 || !strings.Contains(errs, "no Bindery database") {
		t.Errorf("no database: exit %d, %s", code, errs)
	}
	if code, _, errs := runEnv(t, env, "correct horse battery staple\n", "user", "add", "--email", "a@example.com", "--role", "admin"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runEnv(t, env, "", "migrate", "--to", "postgres://localhost/b", "--blobs", "s3"); code != 2 || !strings.Contains(errs, "BINDERY_S3_ENDPOINT") {
		t.Errorf("--blobs s3 without settings: exit %d, %s", code, errs)
	}
	if code, _, errs := runEnv(t, env, "", "migrate", "--to", "postgres://localhost/b", "--blobs", "/some/dir"); code != 2 || !strings.Contains(errs, `--blobs takes "s3"`) {
		t.Errorf("--blobs a folder: exit %d, %s", code, errs)
	}
}

// TestScrub: whatever an error quotes of the connection string, the
// password is replaced before it is printed (a guard behind the drivers,
// whose messages do not quote it today).
func TestScrub(t *testing.T) {
	err := cli.Scrub(errors.New(`dial postgres://u:s3cret-pw@db/x: refused (password=s3cret-pw)`), []string{"s3cret-pw"})
	if strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("scrubbed: %v", err)
	}
	if cli.Scrub(nil, []string{"x"}) != nil {
		t.Error("nil became an error")
	}
}

// TestMigrateKilledResumes: `bindery migrate` killed with SIGKILL while
// it copies the events, then run again, completes and verifies, finding
// the rows the killed run committed.
func TestMigrateKilledResumes(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	key := secretbox.GenerateKey()
	env := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": key}
	if code, _, errs := runEnv(t, env, "correct horse battery staple\n", "user", "add", "--email", "ann@example.com", "--role", "admin"); code != 0 {
		t.Fatal(errs)
	}
	// Many events, so that the copy takes long enough to be killed in.
	const events = 100000
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(data, "bindery.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)
		INSERT INTO events (at, type, run_id, book_id, body) SELECT x, 'log', 0, 0, '{"type":"log","message":"line ' || x || '"}' FROM c`, events); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	target := testkit.PostgresURL(t)
	cmd := exec.Command(testkit.Binary(t), "migrate", "--to", target)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + data, "BINDERY_DATA_DIR=" + data, "ENCRYPTION_KEY=" + key}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	killed := false
	for deadline := time.Now().Add(2 * time.Minute); !killed && time.Now().Before(deadline); {
		select {
		case err := <-done:
			t.Fatalf("migrate ended (%v) before it could be killed part-way", err)
		default:
		}
		var n int
		if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err == nil && n > 0 && n < events {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if !killed {
		t.Fatal("never saw the copy part-way")
	}
	<-done

	code, out, errs := runEnv(t, env, "", "migrate", "--to", target)
	if code != 0 || !strings.Contains(out, "Done:") {
		t.Fatalf("migrate after the kill: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("\n%s", out)
	m := regexp.MustCompile(`events\s+(\d+)\s+(\d+)\s+(\d+)\s+ok`).FindStringSubmatch(out)
	if m == nil || m[1] != strconv.Itoa(events) || m[3] == "0" {
		t.Errorf("events after the kill: %v\n%s", m, out)
	}
}
