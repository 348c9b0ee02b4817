package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/cli"
	"github.com/bindery/bindery/internal/config"
	"github.com/bindery/bindery/internal/testkit"
)

// proc is a running bindery process.
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *testkit.SyncBuffer
	done   chan error
}

// start runs `bindery serve` in a fresh folder (so no stray .env is read)
// with only the given environment.
func start(t *testing.T, env map[string]string) *proc {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(testkit.Binary(t), "serve")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "BINDERY_DATA_DIR=" + filepath.Join(dir, "data")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: bufio.NewReader(out), stderr: &testkit.SyncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// expect reads stdout lines until one matches re, with a deadline.
func (p *proc) expect(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	lines := make(chan []string, 1)
	go func() {
		for {
			line, err := p.stdout.ReadString('\n')
			if m := re.FindStringSubmatch(line); m != nil {
				lines <- m
				return
			}
			if err != nil {
				lines <- nil
				return
			}
		}
	}()
	select {
	case m := <-lines:
		if m == nil {
			t.Fatalf("output ended before %v; stderr:\n%s", re, p.stderr)
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatalf("no line matching %v within 30 s; stderr:\n%s", re, p.stderr)
	}
	return nil
}

var (
	listening = regexp.MustCompile(`listening on (https?)://([0-9.:\[\]a-f]+)`)
	setupLink = regexp.MustCompile(`(http\S+/setup)#token=(bindery_setup_[A-Za-z0-9_-]+)`)
)

// TestServeEndToEnd: the real binary binds loopback by default, prints a
// one-time set-up link, accepts it once, serves the API, and shuts down
// gracefully on SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	p := start(t, map[string]string{"WEBSOCKET_PORT": "0"})
	m := p.expect(t, listening)
	addr := m[2]
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("default bind %s, want 127.0.0.1", addr)
	}
	link := p.expect(t, setupLink)
	base := "http://" + addr

	post := func(path, body string, cookie *http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	body := fmt.Sprintf(`{"token":%q,"email":"admin@example.com","password":"correct horse battery staple"}`, link[2])
	resp, got := post("/api/v1/setup", body, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("setup: %d %s", resp.StatusCode, got)
	}
	if resp, _ := post("/api/v1/setup", body, nil); resp.StatusCode != 401 {
		t.Fatalf("set-up link reused: %d", resp.StatusCode)
	}
	resp, _ = post("/api/v1/auth/login", `{"email":"admin@example.com","password":"correct horse battery staple"}`, nil)
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		session = c
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	req.AddCookie(session)
	me, err := http.DefaultClient.Do(req)
	if err != nil || me.StatusCode != 200 {
		t.Fatalf("me: %v %v", me, err)
	}
	me.Body.Close()
	if strings.Contains(p.stderr.String(), link[2]) {
		t.Fatal("the set-up token was logged")
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no graceful exit within 20 s of SIGTERM")
	}
	if !strings.Contains(p.stderr.String(), "stopped") {
		t.Fatalf("no shutdown log line:\n%s", p.stderr)
	}
}

// TestServeRefusesUnsafeConfiguration: the process exits non-zero, names
// the variable, and does not print the secret.
func TestServeRefusesUnsafeConfiguration(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		wantVar string
		secret  string
	}{
		{"public bind without token", map[string]string{"WEBSOCKET_HOST": "0.0.0.0", "WEBSOCKET_PORT": "0"}, "DASHBOARD_TOKEN", ""},
		{"public bind with weak token", map[string]string{"WEBSOCKET_HOST": "0.0.0.0", "WEBSOCKET_PORT": "0", "DASHBOARD_TOKEN": "letmein-letmein-letmein"}, "DASHBOARD_TOKEN", "letmein-letmein-letmein"},
		{"production without TLS", map[string]string{"BINDERY_ENV": "production", "WEBSOCKET_PORT": "0"}, "BINDERY_ENV", ""},
		{"bad duration", map[string]string{"BINDERY_SESSION_IDLE": "soon", "WEBSOCKET_PORT": "0"}, "BINDERY_SESSION_IDLE", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, tc.env)
			out, _ := io.ReadAll(p.stdout)
			var err error
			select {
			case err = <-p.done:
				p.done <- err
			case <-time.After(20 * time.Second):
				t.Fatal("still running")
			}
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() == 0 {
				t.Fatalf("exit: %v, want a non-zero code", err)
			}
			all := string(out) + p.stderr.String()
			if !strings.Contains(all, tc.wantVar) {
				t.Fatalf("output does not name %s:\n%s", tc.wantVar, all)
			}
			if tc.secret != "" && strings.Contains(all, tc.secret) {
				t.Fatalf("output echoes the secret:\n%s", all)
			}
			if strings.Contains(all, "listening") {
				t.Fatal("it listened before refusing")
			}
		})
	}
}

// run calls cli.Run in-process with a private data folder.
func run(t *testing.T, dataDir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "BINDERY_DATA_DIR" {
			return dataDir
		}
		return ""
	}
	code := cli.Run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserAndTokenCommands(t *testing.T) {
	data := t.TempDir()
	pw := "correct horse battery staple\n"
	if code, _, errs := run(t, data, pw, "user", "add", "--email", "Ann@Example.com", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	if code, _, errs := run(t, data, "password\n", "user", "add", "--email", "bob@example.com"); code != 1 || !strings.Contains(errs, "12 characters") {
		t.Fatalf("weak password: %d %s", code, errs)
	}
	if code, _, _ := run(t, data, pw, "user", "add", "--email", "ann@example.com"); code != 1 {
		t.Fatal("duplicate user accepted")
	}
	if code, _, _ := run(t, data, pw, "user", "add", "--email", "bob@example.com", "--role", "editor"); code != 0 {
		t.Fatal("second user")
	}
	if code, _, errs := run(t, data, "", "user", "add", "--email", "c@example.com", "--role", "root"); code == 0 || !strings.Contains(errs, "Unknown role") {
		t.Fatalf("bad role: %d %s", code, errs)
	}
	code, out, _ := run(t, data, "", "user", "list")
	if code != 0 || !strings.Contains(out, "ann@example.com") || !strings.Contains(out, "editor") {
		t.Fatalf("user list: %d\n%s", code, out)
	}
	if code, out, _ := run(t, data, "", "user", "set-role", "--email", "bob@example.com", "--role", "viewer"); code != 0 || !strings.Contains(out, "viewer") {
		t.Fatalf("set-role: %d %s", code, out)
	}
	code, out, errs := run(t, data, "", "token", "create", "--user", "bob@example.com", "--name", "ci", "--expires", "48h")
	if code != 0 || !regexp.MustCompile(`^bindery_pat_[A-Za-z0-9_-]{43}\n$`).MatchString(out) || !strings.Contains(errs, "shown once") {
		t.Fatalf("token create: %d %q %q", code, out, errs)
	}
	if code, _, _ := run(t, data, "", "token", "create", "--user", "bob@example.com", "--name", "ci", "--expires", "100000h"); code != 1 {
		t.Fatal("token lifetime over a year accepted")
	}
	if code, out, _ := run(t, data, "", "sessions", "revoke", "--all"); code != 0 || !strings.Contains(out, "Revoked") {
		t.Fatalf("sessions revoke: %d %s", code, out)
	}
	if code, _, errs := run(t, data, "", "user", "delete", "--email", "ann@example.com"); code != 1 || !strings.Contains(errs, "last admin") {
		t.Fatalf("deleting the last admin: %d %s", code, errs)
	}
	if code, _, _ := run(t, data, "", "user", "delete", "--email", "bob@example.com"); code != 0 {
		t.Fatal("user delete")
	}
	if code, _, _ := run(t, data, "", "user", "frobnicate"); code != 2 {
		t.Fatal("unknown sub-command is not a usage error")
	}
}

func TestKeysGenerate(t *testing.T) {
	code, out, _ := run(t, t.TempDir(), "", "keys", "generate")
	if code != 0 {
		t.Fatal(code)
	}
	vals := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		vals[k] = v
	}
	if err := config.CheckTokenStrength(vals["DASHBOARD_TOKEN"]); err != nil {
		t.Fatalf("generated DASHBOARD_TOKEN refused: %v", err)
	}
	if len(vals["ENCRYPTION_KEY"]) != 44 {
		t.Fatalf("ENCRYPTION_KEY %q is not a Fernet key", vals["ENCRYPTION_KEY"])
	}
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := run(t, t.TempDir(), "", "version"); code != 0 || !strings.Contains(out, "go1.") {
		t.Fatalf("version: %d %s", code, out)
	}
	if code, _, errs := run(t, t.TempDir(), "", "nonsense"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errs)
	}
}

// TestServeTLSDirectly: with its own certificate in production, the one
// port speaks HTTPS (with HSTS) and answers plain HTTP with a redirect to
// the public URL, never to the Host header.
func TestServeTLSDirectly(t *testing.T) {
	cert, key := testkit.SelfSigned(t)
	p := start(t, map[string]string{
		"BINDERY_ENV": "production", "ENCRYPTION_KEY": testkit.EncryptionKey(), "BINDERY_TLS_CERT": cert, "BINDERY_TLS_KEY": key,
		"WEBSOCKET_PORT": "0", "BINDERY_PUBLIC_URL": "https://books.example.org",
	})
	m := p.expect(t, listening)
	if m[1] != "https" {
		t.Fatalf("scheme %s, want https", m[1])
	}
	addr := m[2]
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequest("GET", "https://"+addr+"/healthz", nil)
	req.Host = "localhost"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("HTTPS: %v; stderr:\n%s", err, p.stderr)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("HTTPS /healthz: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	req, _ = http.NewRequest("GET", "http://"+addr+"/login?next=1", nil)
	req.Host = "evil.example"
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 308 || resp.Header.Get("Location") != "https://books.example.org/login?next=1" {
		t.Fatalf("plain HTTP: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestBuildAndCheckTheExample: the README's commands on the bundled book.
func TestBuildAndCheckTheExample(t *testing.T) {
	out := t.TempDir()
	code, stdout, errs := run(t, t.TempDir(), "", "build", "../../examples/lighthouse", "--out", out)
	if code != 0 {
		t.Fatalf("build: %d\n%s", code, errs)
	}
	for _, ext := range []string{".epub", ".html", ".pdf"} {
		if !strings.Contains(stdout, "the-keeper-of-skerry-light"+ext) {
			t.Errorf("no %s artifact in:\n%s", ext, stdout)
		}
	}
	if code, stdout, _ := run(t, t.TempDir(), "", "check", "../../examples/lighthouse"); code != 0 || !strings.Contains(stdout, "no problems") {
		t.Fatalf("check: %d %s", code, stdout)
	}

	// A broken book: check reports file:line and fails; build writes nothing.
	book := t.TempDir()
	os.MkdirAll(filepath.Join(book, "chapters"), 0o755)
	os.WriteFile(filepath.Join(book, "metadata.yaml"), []byte("title: Broken\nauthor: A. Writer\nlanguage: en\n"), 0o644)
	os.WriteFile(filepath.Join(book, "chapters", "01-one.md"), []byte("# One\n\nSee ![a map](../assets/images/missing.png).\n"), 0o644)
	code, stdout, _ = run(t, t.TempDir(), "", "check", book)
	if code != 1 || !strings.Contains(stdout, "chapters/01-one.md:3:") {
		t.Fatalf("check of a broken book: %d\n%s", code, stdout)
	}
	empty := t.TempDir()
	if code, _, errs := run(t, t.TempDir(), "", "build", book, "--out", empty); code != 1 || !strings.Contains(errs, "chapters/01-one.md:3:") {
		t.Fatalf("build of a broken book: %d\n%s", code, errs)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatalf("a broken book left files behind: %v", entries)
	}
	if code, _, _ := run(t, t.TempDir(), "", "build"); code != 2 {
		t.Fatal("build without a folder is not a usage error")
	}
}
