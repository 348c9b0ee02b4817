package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bindery/bindery/bench/internal/wsclient"
	"github.com/bindery/bindery/internal/bindery"
)

// deployment is what the nodes of one measurement share: the binary, the
// environment every node gets (database, storage, keys) and the API token
// of the bench's admin account.
type deployment struct {
	bin       string
	tmp       string            // folder for the nodes' data and logs
	env       map[string]string // common to every node and CLI call
	dashboard string            // DASHBOARD_TOKEN: the watchers' credential
	token     string            // API token of the bench account
}

// newDeployment generates the keys, creates the bench's admin account and
// its API token with the CLI (against env's database), and returns the
// deployment. env holds the database and storage settings.
func newDeployment(ctx context.Context, bin, tmp string, env map[string]string) (*deployment, error) {
	d := &deployment{bin: bin, tmp: tmp, env: map[string]string{"BINDERY_LOG_LEVEL": "warn"}}
	for k, v := range env {
		d.env[k] = v
	}
	keys, err := d.cli(ctx, "", "keys", "generate")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(keys) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "ENCRYPTION_KEY":
			d.env[k] = v
		case "DASHBOARD_TOKEN":
			d.env[k], d.dashboard = v, v
		}
	}
	if d.env["ENCRYPTION_KEY"] == "" || d.dashboard == "" {
		return nil, errors.New("bindery keys generate printed no keys")
	}
	// The CLI needs a data folder even when the database is PostgreSQL.
	d.env["BINDERY_DATA_DIR"] = filepath.Join(tmp, "cli-data")
	password := rand.Text()
	if _, err := d.cli(ctx, password+"\n", "user", "add", "--email", "bench@example.org", "--role", "admin"); err != nil {
		return nil, err
	}
	out, err := d.cli(ctx, "", "token", "create", "--user", "bench@example.org", "--name", "bench")
	if err != nil {
		return nil, err
	}
	lines := strings.Fields(strings.TrimSpace(out))
	if len(lines) == 0 {
		return nil, errors.New("bindery token create printed nothing")
	}
	d.token = lines[len(lines)-1]
	delete(d.env, "BINDERY_DATA_DIR")
	return d, nil
}

// cli runs one bindery command in the deployment's environment.
func (d *deployment) cli(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, d.bin, args...)
	cmd.Dir = d.tmp
	cmd.Env = d.environ(nil)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("bindery %s: %v: %s", args[0], err, errb.Bytes())
	}
	return out.String(), nil
}

func (d *deployment) environ(extra map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + d.tmp, "XDG_CONFIG_HOME=" + filepath.Join(d.tmp, "xdg")}
	for k, v := range d.env {
		env = append(env, k+"="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// node is one running `bindery serve`.
type node struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	errs *bytes.Buffer
	done chan struct{}
}

// start runs a node with its own data folder and port, and waits until
// /healthz answers.
func (d *deployment) start(ctx context.Context, name string) (*node, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.tmp, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if d.env["BINDERY_DATABASE_URL"] == "" {
		// SQLite: the database is in the data folder, where the CLI
		// made the account.
		data = filepath.Join(d.tmp, "cli-data")
	}
	cmd := exec.Command(d.bin, "serve")
	cmd.Dir = dir
	cmd.Env = d.environ(map[string]string{"BINDERY_DATA_DIR": data, "WEBSOCKET_PORT": strconv.Itoa(port)})
	n := &node{name: name, base: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, errs: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: n.errs}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { cmd.Wait(); close(n.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(n.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
		select {
		case <-n.done:
			return nil, fmt.Errorf("node %s exited: %s", name, n.stderr())
		case <-ctx.Done():
			n.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("node %s did not answer /healthz within 60 s: %s", name, n.stderr())
		}
	}
}

func (n *node) pid() int { return n.cmd.Process.Pid }

func (n *node) ws() string { return "ws" + strings.TrimPrefix(n.base, "http") + "/ws" }

func (n *node) stderr() string {
	w := n.cmd.Stderr.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return n.errs.String()
}

// stop ends the node (SIGTERM, then SIGKILL after 10 s) and waits.
func (n *node) stop() {
	n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// zipBook returns a zip archive of a book folder as the import takes it:
// metadata.yaml, the cover, chapters/ and assets/ (nothing else, e.g. a
// README beside them).
func zipBook(dir string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	root := os.DirFS(dir)
	err := fs.WalkDir(root, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		top, _, nested := strings.Cut(p, "/")
		if !nested && p != "metadata.yaml" && !strings.HasPrefix(p, "cover.") || nested && top != "chapters" && top != "assets" {
			return nil
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		w, err := zw.Create(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tinyBook writes a book of one short chapter under dir: the runs of the
// latency and fan-out measurements are about events, not about building.
func tinyBook(dir string) (string, error) {
	book := filepath.Join(dir, "tiny")
	if err := os.MkdirAll(filepath.Join(book, "chapters"), 0o700); err != nil {
		return "", err
	}
	meta := "title: Tiny\nauthor: Bench\nlanguage: en\nidentifier: urn:uuid:" + newUUID() + "\n"
	if err := os.WriteFile(filepath.Join(book, "metadata.yaml"), []byte(meta), 0o600); err != nil {
		return "", err
	}
	text := "# One\n\nA short chapter, so that a run costs little.\n"
	return book, os.WriteFile(filepath.Join(book, "chapters", "01-one.md"), []byte(text), 0o600)
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// frame is what a watcher reads of an event frame.
type frame struct {
	ID    int64  `json:"id"`
	Type  string `json:"type"`
	RunID int64  `json:"run_id"`
	at    time.Time
}

// terminal reports whether an event type ends a run.
func terminal(t string) bool {
	return t == bindery.EventRunSucceeded || t == bindery.EventRunFailed || t == bindery.EventRunStopped
}

// watcher is one dashboard connection whose every frame is read by a
// goroutine, stamped with its arrival time and handed over in order.
type watcher struct {
	conn   *wsclient.Conn
	frames chan frame
	err    error // after frames is closed
}

// watch connects to node n with the DASHBOARD_TOKEN and reads the
// state_sync, then every frame.
func watch(ctx context.Context, n *node, token string) (*watcher, error) {
	c, err := wsclient.DialDashboard(ctx, n.ws(), token)
	if err != nil {
		return nil, err
	}
	w := &watcher{conn: c, frames: make(chan frame, 4096)}
	go func() {
		defer close(w.frames)
		for {
			b, err := c.Next()
			if err != nil {
				w.err = err
				return
			}
			f := frame{at: time.Now()}
			if json.Unmarshal(b, &f) != nil {
				continue
			}
			w.frames <- f
		}
	}()
	return w, nil
}

// until reads frames until one of run's has type typ (any terminal type
// for typ == ""), and returns it.
func (w *watcher) until(ctx context.Context, run int64, typ string, timeout time.Duration, see func(frame)) (frame, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case f, ok := <-w.frames:
			if !ok {
				return frame{}, fmt.Errorf("watcher closed: %v", w.err)
			}
			if see != nil {
				see(f)
			}
			if f.RunID == run && (f.Type == typ || typ == "" && terminal(f.Type)) {
				return f, nil
			}
		case <-t.C:
			return frame{}, fmt.Errorf("no %q of run %d within %s", typ, run, timeout)
		case <-ctx.Done():
			return frame{}, ctx.Err()
		}
	}
}

func (w *watcher) close() { w.conn.Close() }
