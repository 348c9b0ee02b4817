package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/testkit"
)

// server is one `bindery serve` process. Restart runs a new process on
// the same data folder and port, as an operator restarting it would.
type server struct {
	t        *testing.T
	dir      string // working directory; data in dir/data
	port     int
	env      map[string]string
	URL      string // http://127.0.0.1:port
	SetupURL string // the one-time set-up link (first start only)

	cmd    *exec.Cmd
	done   chan error
	stderr *testkit.SyncBuffer
}

var (
	listeningRE = regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	setupRE     = regexp.MustCompile(`(http\S+/setup#token=bindery_setup_[A-Za-z0-9_-]+)`)
)

// startServer starts bindery on a free loopback port with a fresh data
// folder. The port is chosen here, not with WEBSOCKET_PORT=0, so that a
// restart can bind the same one (the page reconnects to it).
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &server{t: t, dir: t.TempDir(), port: port, env: env}
	s.start(true)
	t.Cleanup(s.Stop)
	return s
}

func (s *server) start(first bool) {
	t := s.t
	t.Helper()
	cmd := exec.Command(testkit.Binary(s.t), "serve")
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "BINDERY_DATA_DIR=" + filepath.Join(s.dir, "data"),
		"WEBSOCKET_PORT=" + strconv.Itoa(s.port), "BINDERY_LOG_LEVEL=warn"}
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.stderr = &testkit.SyncBuffer{}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd, s.done = cmd, make(chan error, 1)
	go func() { s.done <- cmd.Wait() }()

	found := make(chan [2]string, 1)
	go func() {
		var url, setup string
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				url = m[1]
				if !first {
					found <- [2]string{url, ""}
				}
			}
			if m := setupRE.FindStringSubmatch(line); m != nil && first {
				setup = m[1]
				found <- [2]string{url, setup}
			}
			if err != nil {
				io.Copy(io.Discard, r)
				return
			}
		}
	}()
	select {
	case got := <-found:
		s.URL = got[0]
		if first {
			s.SetupURL = got[1]
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("bindery did not start within 30 s; stderr:\n%s", s.stderr)
	}
	s.waitHealthy()
}

func (s *server) waitHealthy() {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.URL + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a process we do not control, with a deadline
	}
	s.t.Fatalf("%s/readyz never answered 200; stderr:\n%s", s.URL, s.stderr)
}

// Stop ends the process gracefully (SIGTERM) and waits for it.
func (s *server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same data and port.
func (s *server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start(false)
}
