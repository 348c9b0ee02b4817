// Package deploytest checks the deployment files of deploy/ against real
// software: deploy/nginx/bindery.conf with Debian's nginx in front of a
// real bindery process, over TLS with a self-signed certificate, and
// deploy/nginx/bindery-cluster.conf in front of three nodes sharing one
// PostgreSQL and one S3-compatible store (cluster_test.go).
package deploytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/testkit"
	"github.com/coder/websocket"
)

const host = "books.example.org"

// needNginx returns the nginx binary; missing is a failure under CI=true.
func needNginx(t *testing.T) string {
	p, err := exec.LookPath("nginx")
	if err != nil {
		for _, c := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
			if _, err := os.Stat(c); err == nil {
				return c
			}
		}
		if os.Getenv("CI") == "true" {
			t.Fatal("nginx is missing (apt-get install nginx)")
		}
		t.Skip("nginx is missing (apt-get install nginx)")
	}
	return p
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNginx runs nginx with deploy/nginx/<file>, adjusted only for the
// test: ports, certificate paths, and loopback addresses, plus the
// replacements of upstream (old → new, each of which must be in the file).
// It returns nginx's folder (error.log is there).
func startNginx(t *testing.T, nginx, file string, httpsPort, httpPort int, cert, key string, upstream ...[2]string) string {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx", file))
	if err != nil {
		t.Fatal(err)
	}
	c := string(conf)
	for _, r := range append([][2]string{
		{"listen 443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", httpsPort)},
		{"listen [::]:443 ssl http2;", ""},
		{"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort)},
		{"listen [::]:80;", ""},
		{"/etc/ssl/books.example.org/fullchain.pem", cert},
		{"/etc/ssl/books.example.org/privkey.pem", key},
		{"return 301 https://books.example.org$request_uri;", fmt.Sprintf("return 301 https://books.example.org:%d$request_uri;", httpsPort)},
	}, upstream...) {
		if !strings.Contains(c, r[0]) {
			t.Fatalf("deploy/nginx/%s no longer contains %q; update this test", file, r[0])
		}
		c = strings.ReplaceAll(c, r[0], r[1])
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bindery.conf"), []byte(c), 0o600)
	main := fmt.Sprintf(`user root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/bindery.conf;
}
`, dir)
	os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600)
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off;")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort)); err == nil {
			c.Close()
			return dir
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not listen:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond) // waiting for a port, with a deadline
	}
}

// clientFrom is an HTTPS client that reaches books.example.org at
// 127.0.0.1:port from the source address src (another loopback address,
// so nginx sees a distinct client).
func clientFrom(t *testing.T, src string, port int, cert string) *http.Client {
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pem)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar: jar,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: host},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func call(t *testing.T, c *http.Client, method, url, body string, hdr map[string]string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestBehindNginx: sign-in over HTTPS through the shipped nginx file, a
// live run over wss://, the brute-force block on the real client address,
// and a client-sent X-Forwarded-For ignored.
func TestBehindNginx(t *testing.T) {
	nginx := needNginx(t)
	cert, key := testkit.SelfSignedFor(t, host)
	httpsPort, httpPort, binderyPort := freePort(t), freePort(t), freePort(t)
	public := fmt.Sprintf("https://%s:%d", host, httpsPort)
	srv := testkit.StartServer(t, map[string]string{
		"BINDERY_ENV": "production", "ENCRYPTION_KEY": testkit.EncryptionKey(), "BINDERY_PUBLIC_URL": public, "BINDERY_TRUSTED_PROXIES": "127.0.0.1",
		"WEBSOCKET_PORT": fmt.Sprint(binderyPort), "BINDERY_DATA_DIR": t.TempDir(), "BINDERY_LOGIN_MAX_FAILURES": "3",
	}, true)
	startNginx(t, nginx, "bindery.conf", httpsPort, httpPort, cert, key,
		[2]string{"server 127.0.0.1:8765;", fmt.Sprintf("server 127.0.0.1:%d;", binderyPort)})

	alice := clientFrom(t, "127.0.0.2", httpsPort, cert)
	code, body := call(t, alice, "POST", public+"/api/v1/setup",
		fmt.Sprintf(`{"token":%q,"email":"admin@example.com","password":"correct horse battery staple"}`, srv.SetupToken), nil)
	if code != 201 {
		t.Fatalf("setup through nginx: %d %s", code, body)
	}
	code, body = call(t, alice, "GET", public+"/api/v1/me", "", nil)
	if code != 200 || !strings.Contains(body, "admin@example.com") {
		t.Fatalf("me: %d %s", code, body)
	}

	// Plain HTTP is redirected to HTTPS by nginx; no redirect loop inside.
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := plain.Get(fmt.Sprintf("http://127.0.0.1:%d/login", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || !strings.HasPrefix(resp.Header.Get("Location"), "https://"+host) {
		t.Fatalf("http: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := call(t, alice, "GET", public+"/login", "", nil); code != 303 && code != 200 {
		t.Fatalf("https /login: %d (redirect loop?)", code)
	}

	// A live run over wss://.
	code, body = call(t, alice, "POST", public+"/api/v1/books", `{"title":"Through nginx","authors":["A. Writer"],"language":"en"}`, nil)
	if code != 201 {
		t.Fatalf("create book: %d %s", code, body)
	}
	var book struct{ ID int64 }
	json.Unmarshal([]byte(body), &book)
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/books/%d/files/chapters/01-one.md", public, book.ID), strings.NewReader("# One\n\nHello.\n"))
	if resp, err := alice.Do(req); err != nil || resp.StatusCode != 201 {
		t.Fatalf("upload: %v %v", err, resp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss://"+host+fmt.Sprintf(":%d/ws", httpsPort), &websocket.DialOptions{
		HTTPClient: alice, HTTPHeader: http.Header{"Origin": {public}},
	})
	if err != nil {
		t.Fatalf("wss through nginx: %v", err)
	}
	defer ws.CloseNow()
	if code, body := call(t, alice, "POST", fmt.Sprintf("%s/api/v1/books/%d/runs", public, book.ID), `{"formats":["epub"]}`, nil); code != 201 {
		t.Fatalf("start run: %d %s", code, body)
	}
	for done := false; !done; {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("reading events over wss: %v", err)
		}
		var f struct{ Type, Error string }
		json.Unmarshal(data, &f)
		switch f.Type {
		case "run_succeeded":
			done = true
		case "run_failed":
			t.Fatalf("run failed: %s", f.Error)
		}
	}

	// The brute-force block hits the real client (127.0.0.3), whatever it
	// claims in X-Forwarded-For / X-Real-IP, and nobody else.
	mallory := clientFrom(t, "127.0.0.3", httpsPort, cert)
	var last int
	for i := 0; i < 5; i++ {
		last, _ = call(t, mallory, "POST", public+"/api/v1/auth/login", `{"email":"admin@example.com","password":"wrong password guess"}`,
			map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i), "X-Real-IP": fmt.Sprintf("198.51.100.%d", i)})
	}
	if last != 429 {
		t.Fatalf("after 5 failures with spoofed headers: %d, want 429", last)
	}
	code, body = call(t, alice, "GET", public+"/api/v1/security/blocks", "", nil)
	if code != 200 || !strings.Contains(body, `"addr":"127.0.0.3"`) || strings.Contains(body, "198.51.100") {
		t.Fatalf("blocks: %d %s", code, body)
	}
	if code, _ := call(t, clientFrom(t, "127.0.0.4", httpsPort, cert), "POST", public+"/api/v1/auth/login",
		`{"email":"admin@example.com","password":"correct horse battery staple"}`, nil); code != 200 {
		t.Fatalf("another client after the block: %d", code)
	}
}
