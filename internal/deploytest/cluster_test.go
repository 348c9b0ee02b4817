package deploytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/testkit"
)

// The cluster's admin.
const (
	adminEmail    = "admin@example.com"
	adminPassword = "correct horse battery staple"
)

// cluster is three `bindery serve` nodes on one PostgreSQL schema and one
// S3 prefix, behind nginx with deploy/nginx/bindery-cluster.conf.
type cluster struct {
	t      *testing.T
	public string // https://books.example.org:port, the URL users type
	port   int    // nginx's HTTPS port
	cert   string
	dbURL  string
	nodes  []*node
}

// node is one `bindery serve` of the cluster.
type node struct {
	srv  *testkit.Server
	addr string // 127.0.0.1:port, as nginx's $upstream_addr names it
	dir  string // its data folder
	dead bool
}

// s3Settings are the BINDERY_S3_* settings of the test S3 server that
// scripts/versitygw.sh started (BINDERY_TEST_S3_*), with a fresh prefix,
// so that this test has its own empty store in the shared bucket. Without
// a server the test is skipped, except under CI=true, where it fails.
func s3Settings(t *testing.T) map[string]string {
	t.Helper()
	return testkit.S3Env(testkit.S3Config(t))
}

// startCluster starts three nodes and nginx in front of them, with
// deploy/nginx/bindery-cluster.conf adjusted only for the test: loopback
// ports for the nodes' addresses, and a response header naming the node
// that answered (nginx's $upstream_addr), so that the test knows which
// node served each request. It returns the cluster and the set-up token.
func startCluster(t *testing.T) (*cluster, string) {
	t.Helper()
	nginx := needNginx(t)
	dbURL := testkit.PostgresURL(t)
	s3 := s3Settings(t)
	cert, key := testkit.SelfSignedFor(t, host)
	httpsPort, httpPort := freePort(t), freePort(t)
	c := &cluster{t: t, public: fmt.Sprintf("https://%s:%d", host, httpsPort), port: httpsPort, cert: cert, dbURL: dbURL}
	token := make([]byte, 32)
	rand.Read(token)
	common := map[string]string{
		"BINDERY_ENV": "production", "BINDERY_PUBLIC_URL": c.public, "BINDERY_TRUSTED_PROXIES": "127.0.0.1",
		"ENCRYPTION_KEY": testkit.EncryptionKey(), "DASHBOARD_TOKEN": base64.StdEncoding.EncodeToString(token),
		"BINDERY_DATABASE_URL": dbURL,
		// Five failed sign-ins block an address (one more than tolerated).
		"BINDERY_LOGIN_MAX_FAILURES": "4",
		// The shortest hand-over allowed, so that the test waits 10 s,
		// not 30, for a dead node's run.
		"BINDERY_RUN_HANDOVER_AFTER": "10s",
	}
	for k, v := range s3 {
		common[k] = v
	}
	var setup string
	var upstream [][2]string
	for i := range 3 {
		port := freePort(t)
		env := map[string]string{"WEBSOCKET_PORT": fmt.Sprint(port), "BINDERY_DATA_DIR": t.TempDir()}
		for k, v := range common {
			env[k] = v
		}
		n := &node{srv: testkit.StartServer(t, env, i == 0), addr: fmt.Sprintf("127.0.0.1:%d", port), dir: env["BINDERY_DATA_DIR"]}
		if i == 0 {
			setup = n.srv.SetupToken
		}
		c.nodes = append(c.nodes, n)
		upstream = append(upstream, [2]string{fmt.Sprintf("server 10.0.0.1%d:8765 ", i+1), "server " + n.addr + " "})
	}
	upstream = append(upstream, [2]string{"proxy_pass http://bindery;", "proxy_pass http://bindery;\n        add_header X-Test-Upstream $upstream_addr always;"})
	dir := startNginx(t, nginx, "bindery-cluster.conf", httpsPort, httpPort, cert, key, upstream...)
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, n := range c.nodes {
			t.Logf("node %d (%s) stderr:\n%s", i, n.addr, n.srv.Stderr)
		}
		errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Logf("nginx error.log:\n%s", errLog)
	})
	return c, setup
}

// client is an HTTPS client of the cluster from the loopback address src.
func (c *cluster) client(src string) *http.Client { return clientFrom(c.t, src, c.port, c.cert) }

// servedBy is the node that answered resp: the last address of nginx's
// $upstream_addr (earlier ones are nodes nginx tried first and found
// dead).
func (c *cluster) servedBy(resp *http.Response) int {
	c.t.Helper()
	addrs := strings.Split(resp.Header.Get("X-Test-Upstream"), ", ")
	last := addrs[len(addrs)-1]
	for i, n := range c.nodes {
		if n.addr == last {
			return i
		}
	}
	c.t.Fatalf("no node answered (X-Test-Upstream %q)", resp.Header.Get("X-Test-Upstream"))
	return -1
}

// aim makes the next request of the test through nginx go to node i.
// The file's upstream is plain round robin and the test's nginx has one
// worker, so requests take the nodes in turn: the request after one
// served by the node before i goes to i. Health checks are sent until one
// is (at most a full turn); the request that follows is checked with
// expect.
func (c *cluster) aim(cl *http.Client, i int) {
	c.t.Helper()
	before := (i + len(c.nodes) - 1) % len(c.nodes)
	for range 2 * len(c.nodes) {
		resp, err := cl.Get(c.public + "/healthz")
		if err != nil {
			c.t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if c.servedBy(resp) == before {
			return
		}
	}
	c.t.Fatalf("nginx did not take the nodes in turn")
}

// expect fails unless node i answered resp.
func (c *cluster) expect(resp *http.Response, i int, what string) {
	c.t.Helper()
	if got := c.servedBy(resp); got != i {
		c.t.Fatalf("%s was answered by node %d, want node %d (round robin broken?)", what, got, i)
	}
}

// do sends a request through nginx and returns the response with its
// body read.
func (c *cluster) do(cl *http.Client, method, path, contentType string, body []byte) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.public+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, b
}

// login signs the admin in through nginx and returns the status and the
// node that answered.
func (c *cluster) login(cl *http.Client, email, password string) (int, int) {
	c.t.Helper()
	resp, _ := c.do(cl, "POST", "/api/v1/auth/login", "application/json", fmt.Appendf(nil, `{"email":%q,"password":%q}`, email, password))
	return resp.StatusCode, c.servedBy(resp)
}

// dial opens a WebSocket through nginx (the session cookie of cl, a
// same-origin Origin), with ?since=since when since ≥ 0, and returns it
// with the node that answered.
func (c *cluster) dial(ctx context.Context, cl *http.Client, since int64) (*websocket.Conn, int, error) {
	u := fmt.Sprintf("wss://%s:%d/ws", host, c.port)
	if since >= 0 {
		u += fmt.Sprintf("?since=%d", since)
	}
	ws, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: cl, HTTPHeader: http.Header{"Origin": {c.public}}})
	if err != nil {
		return nil, -1, err
	}
	ws.SetReadLimit(1 << 20)
	return ws, c.servedBy(resp), nil
}

// frame is what the test reads of a server frame.
type frame struct {
	ID      int64  `json:"id"`
	Type    string `json:"type"`
	RunID   int64  `json:"run_id"`
	Stage   string `json:"stage"`
	Message string `json:"message"`
	Error   string `json:"error"`
}

// reader reads ws's frames into a channel until it fails; the error ends
// up in the second channel.
func reader(ctx context.Context, ws *websocket.Conn) (<-chan frame, <-chan error) {
	frames, errc := make(chan frame, 256), make(chan error, 1)
	go func() {
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				errc <- err
				return
			}
			var f frame
			if err := json.Unmarshal(data, &f); err != nil {
				errc <- fmt.Errorf("frame %q: %w", data, err)
				return
			}
			select {
			case frames <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	return frames, errc
}

// firstFrame reads ws's first frame, which must be state_sync.
func firstFrame(t *testing.T, ctx context.Context, ws *websocket.Conn) frame {
	t.Helper()
	_, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("reading the first frame: %v", err)
	}
	var f frame
	json.Unmarshal(data, &f)
	if f.Type != "state_sync" {
		t.Fatalf("first frame %s, want state_sync", data)
	}
	return f
}

// TestCluster: three nodes on one PostgreSQL and one S3 store behind
// deploy/nginx/bindery-cluster.conf (round robin, no stickiness). Five
// failed sign-ins spread over the nodes block the address on every node;
// a sign-out through one node closes the session's socket on another; a
// run signed in for through one node, started through another and
// watched through the third survives the SIGKILL of the node executing
// it in its format stage: another node finishes it, the watcher sees
// every event of the run once, in order, and the artifacts download
// through nginx.
func TestCluster(t *testing.T) {
	c, setup := startCluster(t)
	admin := c.client("127.0.0.2")
	resp, body := c.do(admin, "POST", "/api/v1/setup", "application/json",
		fmt.Appendf(nil, `{"token":%q,"email":%q,"password":%q}`, setup, adminEmail, adminPassword))
	if resp.StatusCode != 201 {
		t.Fatalf("setup through nginx: %d %s", resp.StatusCode, body)
	}

	t.Run("failed sign-ins spread over the nodes block the address on all", func(t *testing.T) {
		c := *c
		c.t = t
		mallory := c.client("127.0.0.3")
		served := map[int]bool{}
		for i := range 5 {
			code, n := c.login(mallory, "nobody@example.com", "wrong password guess")
			served[n] = true
			if code != 401 && !(i == 4 && code == 429) {
				t.Fatalf("failed sign-in %d through node %d: %d, want 401", i+1, n, code)
			}
		}
		if len(served) != 3 {
			t.Fatalf("the five failures reached nodes %v, want all three", served)
		}
		// Blocked on every node, even with the right password.
		for i := range c.nodes {
			c.aim(mallory, i)
			resp, body := c.do(mallory, "POST", "/api/v1/auth/login", "application/json", fmt.Appendf(nil, `{"email":%q,"password":%q}`, adminEmail, adminPassword))
			c.expect(resp, i, "the sign-in after the block")
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
				t.Errorf("node %d after five failures from the address: %d %s (Retry-After %q), want 429", i, resp.StatusCode, body, resp.Header.Get("Retry-After"))
			}
		}
		// Only that address: the admin signs in from another.
		if code, n := c.login(c.client("127.0.0.4"), adminEmail, adminPassword); code != 200 {
			t.Fatalf("another address through node %d: %d", n, code)
		}
	})

	t.Run("sign-out on one node closes the socket on another", func(t *testing.T) {
		c := *c
		c.t = t
		bob := c.client("127.0.0.5")
		if code, n := c.login(bob, adminEmail, adminPassword); code != 200 {
			t.Fatalf("sign-in through node %d: %d", n, code)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.aim(bob, 0)
		ws, n, err := c.dial(ctx, bob, -1)
		if err != nil {
			t.Fatalf("wss through nginx: %v", err)
		}
		defer ws.CloseNow()
		if n != 0 {
			t.Fatalf("the socket is on node %d, want 0", n)
		}
		firstFrame(t, ctx, ws)
		site, _ := url.Parse(c.public)
		session := bob.Jar.Cookies(site)
		if len(session) == 0 {
			t.Fatal("no session cookie after the sign-in")
		}
		c.aim(bob, 1)
		resp, body := c.do(bob, "POST", "/api/v1/auth/logout", "", nil)
		c.expect(resp, 1, "the sign-out")
		if resp.StatusCode/100 != 2 {
			t.Fatalf("sign-out: %d %s", resp.StatusCode, body)
		}
		// The socket on node 0 is closed as revoked (1008), not by the
		// deadline; the frames before the close may be anything.
		frames, errc := reader(ctx, ws)
		for {
			select {
			case <-frames:
				continue
			case err := <-errc:
				if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
					t.Fatalf("the socket on node 0 ended with %v, want a close 1008 (revoked)", err)
				}
			}
			break
		}
		// And the session's cookie, kept by a client that ignores the
		// sign-out's, is refused on every node (after at most the
		// principal cache's second).
		bob.Jar.SetCookies(site, session)
		for i := range c.nodes {
			deadline := time.Now().Add(5 * time.Second)
			for {
				c.aim(bob, i)
				resp, _ := c.do(bob, "GET", "/api/v1/me", "", nil)
				c.expect(resp, i, "GET /me after the sign-out")
				if resp.StatusCode == 401 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node %d still accepts the signed-out session: %d", i, resp.StatusCode)
				}
				time.Sleep(50 * time.Millisecond) // polling, with a deadline
			}
		}
	})

	t.Run("a run survives the SIGKILL of its node in the format stage", func(t *testing.T) {
		c := *c
		c.t = t
		runSurvivesKill(t, &c)
	})
}

// executingLine is the log line of a node that executes run %d.
const executingLine = `msg="executing run" run_id=%d `

// executors returns the nodes whose log says they execute run id.
func (c *cluster) executors(id int64) []int {
	var out []int
	for i, n := range c.nodes {
		if strings.Contains(n.srv.Stderr.String(), fmt.Sprintf(executingLine, id)) {
			out = append(out, i)
		}
	}
	return out
}

func runSurvivesKill(t *testing.T, c *cluster) {
	// Signed in through node 0.
	alice := c.client("127.0.0.6")
	c.aim(alice, 0)
	if code, n := c.login(alice, adminEmail, adminPassword); code != 200 || n != 0 {
		t.Fatalf("sign-in: %d through node %d, want 200 through node 0", code, n)
	}
	// The whole book in one request: before the book files were shared
	// through the blob store, the node that received it held it alone.
	resp, body := c.do(alice, "POST", "/api/v1/books/import", "application/zip", testkit.ZipDir(t, testkit.Corpus(t), "frankenstein/", nil))
	if resp.StatusCode != 201 {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	var imported struct{ Book struct{ ID int64 } }
	json.Unmarshal(body, &imported)
	t.Logf("book %d imported through node %d", imported.Book.ID, c.servedBy(resp))

	// Watched through node 2.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.aim(alice, 2)
	ws, watcher, err := c.dial(ctx, alice, -1)
	if err != nil {
		t.Fatalf("wss through nginx: %v", err)
	}
	defer func() { ws.CloseNow() }()
	if watcher != 2 {
		t.Fatalf("the watcher is on node %d, want 2", watcher)
	}
	last := firstFrame(t, ctx, ws).ID
	frames, errc := reader(ctx, ws)

	// Started through node 1.
	c.aim(alice, 1)
	resp, body = c.do(alice, "POST", fmt.Sprintf("/api/v1/books/%d/runs", imported.Book.ID), "application/json", []byte(`{"formats":["pdf","epub"]}`))
	c.expect(resp, 1, "the start of the run")
	if resp.StatusCode != 201 {
		t.Fatalf("start run: %d %s", resp.StatusCode, body)
	}
	var run struct{ ID int64 }
	json.Unmarshal(body, &run)

	var seen []frame // the run's events, as the watcher got them
	killed := -1
	for done := false; !done; {
		select {
		case f := <-frames:
			if f.Type == "state_sync" {
				t.Fatalf("a state_sync after frame %d from node %d: the watcher's resume was refused (its events lost)", last, watcher)
			}
			if f.ID <= last && f.Type != "pong" {
				t.Fatalf("frame %s %d after frame %d: ids must increase", f.Type, f.ID, last)
			}
			last = f.ID
			if f.RunID != run.ID {
				continue
			}
			seen = append(seen, f)
			switch {
			case f.Type == "stage_started" && f.Stage == "format" && killed < 0:
				ex := c.executors(run.ID)
				if len(ex) != 1 {
					t.Fatalf("nodes %v say they execute run %d, want one", ex, run.ID)
				}
				killed = ex[0]
				c.nodes[killed].srv.Kill()
				c.nodes[killed].dead = true
				t.Logf("run %d executed by node %d, SIGKILLed in its format stage (watcher on node %d)", run.ID, killed, watcher)
			case f.Type == "run_succeeded":
				done = true
			case f.Type == "run_failed":
				t.Fatalf("run failed: %s", f.Error)
			}
		case err := <-errc:
			if watcher != killed {
				t.Fatalf("the watcher on node %d, alive, lost its socket: %v", watcher, err)
			}
			// Its node died: reconnect through nginx, which takes a
			// live node, and resume after the last frame received.
			ws.CloseNow()
			if ws, watcher, err = c.dial(ctx, alice, last); err != nil {
				t.Fatalf("resuming after %d through nginx: %v", last, err)
			}
			if watcher == killed {
				t.Fatalf("nginx sent the resume to the dead node %d", killed)
			}
			t.Logf("the watcher resumed after frame %d on node %d", last, watcher)
			frames, errc = reader(ctx, ws)
		case <-ctx.Done():
			t.Fatalf("the run did not finish in time; its events so far: %+v", seen)
		}
	}
	if killed < 0 {
		t.Fatal("the run succeeded without a format stage")
	}

	// Another node finished it: it logged its execution, after a hand-over.
	if ex := c.executors(run.ID); len(ex) != 2 || !slices.Contains(ex, killed) {
		t.Errorf("nodes %v executed run %d, want the killed node %d and one other", ex, run.ID, killed)
	}
	var handOvers, formats int
	for _, f := range seen {
		handOvers += btoi(f.Type == "log" && f.Message == pipeline.HandOverMessage)
		formats += btoi(f.Type == "stage_started" && f.Stage == "format")
	}
	if handOvers != 1 || formats != 2 {
		t.Errorf("%d hand-overs and %d format stages in the run's events, want 1 and 2", handOvers, formats)
	}

	// Every event of the run that the database holds, once, in order, no
	// gap: the watcher's list is exactly the table's.
	stored := runEventIDs(t, c.dbURL, run.ID)
	got := make([]int64, len(seen))
	for i, f := range seen {
		got[i] = f.ID
	}
	if !slices.Equal(got, stored) {
		t.Errorf("the watcher saw events %v of run %d, the database holds %v", got, run.ID, stored)
	}

	// The artifacts download through nginx, from every live node.
	resp, body = c.do(alice, "GET", fmt.Sprintf("/api/v1/runs/%d", run.ID), "", nil)
	var view struct {
		State     string
		Artifacts []string
	}
	json.Unmarshal(body, &view)
	if resp.StatusCode != 200 || view.State != "succeeded" {
		t.Fatalf("run %d: %d %s", run.ID, resp.StatusCode, body)
	}
	magic := map[string]string{".pdf": "%PDF-", ".epub": "PK"}
	kinds := map[string]bool{}
	for _, name := range view.Artifacts {
		want, ok := magic[filepath.Ext(name)]
		if !ok {
			continue
		}
		kinds[filepath.Ext(name)] = true
		served := map[int]bool{}
		for range 2 * len(c.nodes) {
			resp, data := c.do(alice, "GET", fmt.Sprintf("/api/v1/runs/%d/artifacts/%s", run.ID, name), "", nil)
			n := c.servedBy(resp)
			if resp.StatusCode != 200 || !bytes.HasPrefix(data, []byte(want)) {
				t.Fatalf("artifact %s through node %d: %d, %d bytes starting %q", name, n, resp.StatusCode, len(data), data[:min(len(data), 16)])
			}
			served[n] = true
		}
		if len(served) != len(c.nodes)-1 || served[killed] {
			t.Errorf("artifact %s served by nodes %v, want the two alive", name, served)
		}
	}
	if len(kinds) != 2 {
		t.Errorf("artifacts %v, want a PDF and an EPUB", view.Artifacts)
	}

	deletedEverywhere(t, c, alice, imported.Book.ID, run.ID)
}

// deletedEverywhere: book id (with its run runID) deleted through one
// node is gone at once from every live node's disk — its files and the
// run's outputs — told by the deleting node, not left to the 20-minute
// sweep (a deleted manuscript must not stay on the nodes that did not
// delete it).
func deletedEverywhere(t *testing.T, c *cluster, alice *http.Client, id, runID int64) {
	bookDir := func(n *node) string { return filepath.Join(n.dir, "books", strconv.FormatInt(id, 10)) }
	// Every live node reads the book, so that each holds a copy.
	read := map[int]bool{}
	for range 4 * len(c.nodes) {
		resp, body := c.do(alice, "GET", fmt.Sprintf("/api/v1/books/%d/files", id), "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("files of book %d: %d %s", id, resp.StatusCode, body)
		}
		read[c.servedBy(resp)] = true
	}
	held := 0
	for i, n := range c.nodes {
		if n.dead {
			continue
		}
		if !read[i] {
			t.Fatalf("node %d never served the book (served by %v)", i, read)
		}
		if _, err := os.Stat(bookDir(n)); err != nil {
			t.Fatalf("node %d has no copy of the book after reading it: %v", i, err)
		}
		held++
	}
	resp, body := c.do(alice, "DELETE", fmt.Sprintf("/api/v1/books/%d", id), "", nil)
	if resp.StatusCode != 204 {
		t.Fatalf("delete book %d: %d %s", id, resp.StatusCode, body)
	}
	deleter := c.servedBy(resp)
	t.Logf("book %d deleted through node %d; %d live nodes held a copy", id, deleter, held)
	deadline := time.Now().Add(30 * time.Second)
	for i, n := range c.nodes {
		if n.dead {
			continue
		}
		for _, p := range []string{bookDir(n), filepath.Join(n.dir, "artifacts", strconv.FormatInt(runID, 10))} {
			for {
				_, err := os.Stat(p)
				if errors.Is(err, fs.ErrNotExist) {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("node %d (deleter: node %d) still holds %s 30 s after the deletion", i, deleter, p)
					break
				}
				time.Sleep(20 * time.Millisecond) // polling the node's folder, with a deadline
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runEventIDs returns the ids of the events of run id that the database
// holds, in order.
func runEventIDs(t *testing.T, dbURL string, id int64) []int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id FROM events WHERE run_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestClusterFileMatchesSingleNode: bindery-cluster.conf differs from
// bindery.conf only before its server blocks (its comment and its
// upstream): what the single-node test proves of those blocks (TLS, the
// redirect, real addresses, the WebSocket) holds for the cluster too.
func TestClusterFileMatchesSingleNode(t *testing.T) {
	servers := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx", name))
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, []byte("\nserver {"))
		if i < 0 {
			t.Fatalf("%s has no server block", name)
		}
		return string(b[i:])
	}
	if servers("bindery.conf") != servers("bindery-cluster.conf") {
		t.Fatal("the server blocks of deploy/nginx/bindery-cluster.conf differ from bindery.conf's; keep them the same")
	}
	b, _ := os.ReadFile(filepath.Join("..", "..", "deploy", "nginx", "bindery-cluster.conf"))
	for line := range strings.Lines(string(b)) {
		if d := strings.Fields(line); len(d) > 0 && slices.Contains([]string{"ip_hash", "hash", "sticky", "least_conn", "random"}, d[0]) {
			t.Fatalf("bindery-cluster.conf: %q; the nodes must be taken in turn (round robin): every node answers every request", strings.TrimSpace(line))
		}
	}
}
