package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/realtime"
)

const (
	serverBindery    = "Bindery"
	serverCentrifugo = "Centrifugo"

	// tokenEnv carries a client credential to the child processes (not on
	// their command line, where ps would show it).
	tokenEnv = "WS_BENCH_TOKEN"
	// channel is the one Centrifugo channel every client subscribes to.
	channel = "events"
)

// server is a running server process, seen from the coordinator.
type server struct {
	name  string
	base  string // http://127.0.0.1:port: the publish API and /debug/pprof
	ws    string // the clients' WebSocket URL
	token string // the clients' credential

	publishPath   string
	publishHeader http.Header
	wrap          func(event []byte) []byte // event JSON → publish request body

	cmd    *exec.Cmd
	tmp    string // removed by stop
	client *http.Client
}

func newHTTPClient() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
}

// startBindery runs this binary with -serve: a Bindery hub and /ws
// handler in a process of their own, as a real deployment has them.
func startBindery(ctx context.Context, self string, stderr io.Writer) (*server, error) {
	token := randomHex(32)
	cmd, _, out, err := startChild(ctx, self, []string{tokenEnv + "=" + token}, stderr, "-serve")
	if err != nil {
		return nil, err
	}
	s := &server{name: serverBindery, cmd: cmd, token: token, client: newHTTPClient(),
		publishPath: "/publish", wrap: func(e []byte) []byte { return e }}
	if !out.Scan() {
		s.stop()
		return nil, errors.New("the Bindery server did not start")
	}
	addr := out.Text() // the only line it prints
	s.base, s.ws = "http://"+addr, "ws://"+addr+"/ws"
	return s, nil
}

// serveBindery is the -serve mode: the realtime package wired as in the
// server (minus the database), plus the bench's publish endpoint and
// /debug/pprof. It prints its address and serves until interrupted.
func serveBindery(ctx context.Context, token string, stdout io.Writer) error {
	if token == "" {
		return errors.New("-serve needs $" + tokenEnv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	public, _ := url.Parse("http://" + ln.Addr().String())
	hub := realtime.NewHub(realtime.HubOptions{})
	ws, err := realtime.NewHandler(realtime.HandlerOptions{
		Hub: hub, Backend: benchBackend{}, PublicURL: public, DashboardToken: token,
		Auth: realtime.AuthenticatorFunc(func(context.Context, string) (realtime.Viewer, error) {
			return nil, bindery.Errorf(bindery.EUNAUTHORIZED, "Invalid authentication token")
		}),
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", ws)
	mux.HandleFunc("POST /publish", func(w http.ResponseWriter, r *http.Request) {
		var e bindery.Event
		if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := hub.Publish(&e); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintln(stdout, ln.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hub.Shutdown(sctx)
	return srv.Close()
}

// benchBackend is a Backend with no runs.
type benchBackend struct{}

func (benchBackend) ActiveRuns(context.Context, realtime.Viewer) ([]bindery.Run, error) {
	return []bindery.Run{}, nil
}
func (benchBackend) RunBook(context.Context, int64) (int64, error) { return 1, nil }
func (benchBackend) Control(context.Context, realtime.Viewer, string, int64, int64) error {
	return nil
}
func (benchBackend) RunLogs(context.Context, realtime.Viewer, int64) ([]*bindery.Event, error) {
	return nil, nil
}

// startCentrifugo runs Centrifugo with a configuration generated in a
// temporary directory: memory engine, JSON protocol, connection JWTs
// signed with a random HMAC secret, a random HTTP API key, clients allowed
// to subscribe to channels without a namespace, debug endpoints on.
func startCentrifugo(ctx context.Context, bin string, stderr io.Writer) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-ws-centrifugo-")
	if err != nil {
		return nil, err
	}
	secret, apiKey := randomHex(32), randomHex(16)
	cfg := map[string]any{
		"http_server": map[string]any{"address": "127.0.0.1", "port": port},
		"log":         map[string]any{"level": "error"},
		"client":      map[string]any{"token": map[string]any{"hmac_secret_key": secret}},
		"channel":     map[string]any{"without_namespace": map[string]any{"allow_subscribe_for_client": true}},
		"http_api":    map[string]any{"key": apiKey},
		"debug":       map[string]any{"enabled": true},
		"health":      map[string]any{"enabled": true},
		"usage_stats": map[string]any{"disabled": true},
		"shutdown":    map[string]any{"timeout": "5s"},
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	config := filepath.Join(dir, "config.json")
	if err := os.WriteFile(config, b, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "-c", config)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, stderr, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &server{name: serverCentrifugo, base: "http://" + addr, ws: "ws://" + addr + "/connection/websocket",
		cmd: cmd, tmp: dir, client: newHTTPClient(),
		token:         hs256(secret, map[string]any{"sub": "bench", "exp": time.Now().Add(24 * time.Hour).Unix()}),
		publishPath:   "/api/publish",
		publishHeader: http.Header{"X-Api-Key": {apiKey}, "Content-Type": {"application/json"}},
		wrap: func(e []byte) []byte {
			return fmt.Appendf(nil, `{"channel":%q,"data":%s}`, channel, e)
		},
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := s.client.Get(s.base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("centrifugo did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hs256 returns a JWT signed with HMAC-SHA256 (RFC 7519), the standard
// library being enough for that.
func hs256(secret string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	c, _ := json.Marshal(claims)
	msg := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(mac.Sum(nil))
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// publish sends one event through the server's publish API.
func (s *server) publish(ctx context.Context, event []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+s.publishPath, bytes.NewReader(s.wrap(event)))
	if err != nil {
		return err
	}
	for k, v := range s.publishHeader {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	// Centrifugo answers errors with 200 and {"error":…}.
	if resp.StatusCode/100 != 2 || bytes.Contains(body, []byte(`"error"`)) {
		return fmt.Errorf("publish: %s: %s", resp.Status, body)
	}
	return nil
}

// memory returns the server's heap in use plus goroutine stacks, after
// garbage collections.
func (s *server) memory(ctx context.Context) (uint64, error) {
	var text []byte
	for range 3 { // each request collects once; the last one is read
		var err error
		if text, err = s.get(ctx, "/debug/pprof/heap?debug=1&gc=1"); err != nil {
			return 0, err
		}
	}
	var heap, stack uint64
	for line := range strings.Lines(string(text)) {
		if v, ok := strings.CutPrefix(line, "# HeapInuse = "); ok {
			heap, _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "# Stack = "); ok { // "inuse / sys"
			stack, _ = strconv.ParseUint(strings.TrimSpace(strings.Split(v, "/")[0]), 10, 64)
		}
	}
	if heap == 0 {
		return 0, errors.New("no HeapInuse in the heap profile")
	}
	return heap + stack, nil
}

// saveProfile writes /debug/pprof/… to path.
func (s *server) saveProfile(ctx context.Context, path, file string) error {
	b, err := s.get(ctx, path)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

func (s *server) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, err
}

// stop ends the server process, politely first.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
	s.client.CloseIdleConnections()
}
