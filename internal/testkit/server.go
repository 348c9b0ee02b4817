package testkit

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/bindery (CGO_ENABLED=0, as shipped) once per test
// process and returns its path; $BINDERY_TEST_BINARY names a prebuilt one
// instead. The binary stays in a bindery-bin* folder of the system's
// temporary directory after the tests (there is no hook at process exit).
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("BINDERY_TEST_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bindery-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "bindery")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/bindery/bindery/cmd/bindery")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			tb.Logf("%s", out)
		}
	})
	if buildErr != nil {
		tb.Fatalf("building bindery: %v", buildErr)
	}
	return binPath
}

// Server is a running `bindery serve`.
type Server struct {
	Addr       string // host:port it listens on
	SetupToken string // the one-time set-up token, when it printed one
	Stderr     *SyncBuffer
	cmd        *exec.Cmd
	done       chan struct{}
}

var (
	listeningRE = regexp.MustCompile(`listening on https?://(\S+)`)
	setupRE     = regexp.MustCompile(`#token=(bindery_setup_[A-Za-z0-9_-]+)`)
)

// StartServer runs `bindery serve` in a fresh working folder with exactly
// env (plus PATH and HOME) and waits, with a deadline, until it listens —
// and, with wantSetup (a data folder without users), until it has printed
// its set-up link. The process is killed at the end of the test.
func StartServer(tb testing.TB, env map[string]string, wantSetup bool) *Server {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command(Binary(tb), "serve")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{Stderr: &SyncBuffer{}, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = s.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { cmd.Wait(); close(s.done) }()
	tb.Cleanup(s.Kill)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				s.Addr = m[1]
			}
			if m := setupRE.FindStringSubmatch(line); m != nil {
				s.SetupToken = m[1]
			}
			if s.Addr != "" && !signalled && (s.SetupToken != "" || !wantSetup) {
				signalled = true
				close(ready)
			}
		}
		if !signalled {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		tb.Fatalf("bindery did not start within 30 s; stderr:\n%s", s.Stderr)
	}
	if s.Addr == "" {
		tb.Fatalf("bindery exited before listening; stderr:\n%s", s.Stderr)
	}
	return s
}

// Kill stops the process with SIGKILL and waits for it.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// SyncBuffer is a bytes.Buffer safe for a process to write while a test
// reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
