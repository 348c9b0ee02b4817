package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/bindery/bindery/internal/bindery"
)

// testTimeout bounds every wait of a test; nothing sleeps for it.
const testTimeout = 10 * time.Second

// Credentials of the fakes.
const (
	dashboardToken = "dashboard-token-0123456789abcdef0123456789abcdef"
	aliceSession   = "bindery_ses_alice"   // writes book 1
	bobToken       = "bindery_pat_bob"     // reads book 2
	carolSession   = "bindery_ses_carol"   // reads book 1 only
	daveSession    = "bindery_ses_dave"    // reads books 1 and 2
	revokedSession = "bindery_ses_revoked" // Authenticate refuses it
)

type fakeViewer struct {
	id    string
	read  map[int64]bool
	write map[int64]bool
}

func (v *fakeViewer) CanRead(b int64) bool  { return v.read[b] }
func (v *fakeViewer) CanWrite(b int64) bool { return v.write[b] }
func (v *fakeViewer) ID() string            { return v.id }

var viewers = map[string]*fakeViewer{
	aliceSession: {id: "user:alice", read: map[int64]bool{1: true}, write: map[int64]bool{1: true}},
	bobToken:     {id: "user:bob", read: map[int64]bool{2: true}},
	carolSession: {id: "user:carol", read: map[int64]bool{1: true}},
	daveSession:  {id: "user:dave", read: map[int64]bool{1: true, 2: true}},
}

func fakeAuth(_ context.Context, cred string) (Viewer, error) {
	if v, ok := viewers[cred]; ok {
		return v, nil
	}
	return nil, bindery.Errorf(bindery.EUNAUTHORIZED, "Invalid credentials.")
}

// fakeBackend knows runs 10 (book 1) and 20 (book 2).
type fakeBackend struct {
	mu       sync.Mutex
	controls []string
	runsErr  error
}

var runBooks = map[int64]int64{10: 1, 20: 2}

func (b *fakeBackend) ActiveRuns(context.Context, Viewer) ([]bindery.Run, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.runsErr != nil {
		return nil, b.runsErr
	}
	return []bindery.Run{{ID: 10, BookID: 1, State: bindery.RunRunning}, {ID: 20, BookID: 2, State: bindery.RunPaused}}, nil
}

func (b *fakeBackend) RunBook(_ context.Context, runID int64) (int64, error) {
	if book, ok := runBooks[runID]; ok {
		return book, nil
	}
	return 0, bindery.Errorf(bindery.ENOTFOUND, "Run %d not found.", runID)
}

func (b *fakeBackend) Control(_ context.Context, v Viewer, command string, runID, bookID int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.controls = append(b.controls, fmt.Sprintf("%s %s run=%d book=%d", v.ID(), command, runID, bookID))
	return nil
}

func (b *fakeBackend) RunLogs(_ context.Context, _ Viewer, runID int64) ([]*bindery.Event, error) {
	return []*bindery.Event{
		{ID: 1, Type: bindery.EventLog, RunID: runID, BookID: runBooks[runID], Level: "info", Message: "one"},
		{ID: 2, Type: bindery.EventLog, RunID: runID, BookID: runBooks[runID], Level: "info", Message: "two"},
	}, nil
}

func (b *fakeBackend) Controls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.controls...)
}

type harness struct {
	t          *testing.T
	srv        *httptest.Server
	hub        *Hub
	handler    *Handler
	backend    *fakeBackend
	mu         sync.Mutex
	failures   []string
	retryAfter time.Duration // what OnAuthFailure answers
}

type harnessOption func(*HubOptions, *HandlerOptions)

// newHarness serves a Handler on a loopback httptest server whose URL is
// the public URL.
func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{t: t, backend: &fakeBackend{}}
	var ready sync.WaitGroup
	ready.Add(1)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready.Wait()
		h.handler.ServeHTTP(w, r)
	}))
	public, _ := url.Parse(h.srv.URL)
	ho := HubOptions{PingInterval: -1, Now: fixedNow}
	o := HandlerOptions{
		Auth: AuthenticatorFunc(fakeAuth), Backend: h.backend, PublicURL: public,
		DashboardToken: dashboardToken, AuthTimeout: 200 * time.Millisecond,
		OnAuthFailure: func(_ *http.Request, reason string) time.Duration {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.failures = append(h.failures, reason)
			return h.retryAfter
		},
	}
	for _, opt := range opts {
		opt(&ho, &o)
	}
	h.hub = NewHub(ho)
	o.Hub = h.hub
	var err error
	if h.handler, err = NewHandler(o); err != nil {
		t.Fatal(err)
	}
	ready.Done()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := h.hub.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		h.srv.Close()
	})
	return h
}

func fixedNow() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }

func (h *harness) Failures() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.failures...)
}

// dialOpts describes a handshake.
type dialOpts struct {
	origin string // "" none, "self" the server's own
	cookie string
	bearer string
	host   string
	query  string
}

func (h *harness) dial(o dialOpts) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{}
	switch o.origin {
	case "":
	case "self":
		hdr.Set("Origin", h.srv.URL)
	default:
		hdr.Set("Origin", o.origin)
	}
	if o.cookie != "" {
		hdr.Set("Cookie", SessionCookie+"="+o.cookie)
	}
	if o.bearer != "" {
		hdr.Set("Authorization", "Bearer "+o.bearer)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	u := "ws" + h.srv.URL[len("http"):] + "/ws" + o.query
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: hdr, Host: o.host})
	if c != nil {
		c.SetReadLimit(-1)
		h.t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

// connect dials with a session cookie from the server's own origin and
// consumes the state_sync.
func (h *harness) connect(session string) (*websocket.Conn, serverFrame) {
	h.t.Helper()
	c, _, err := h.dial(dialOpts{origin: "self", cookie: session})
	if err != nil {
		h.t.Fatalf("dial: %v", err)
	}
	f := mustRead(h.t, c)
	if f.Type != FrameStateSync {
		h.t.Fatalf("first frame: got %q, want state_sync", f.Type)
	}
	return c, f
}

// publish stores nothing: it hands events with the given ids to the hub.
func (h *harness) publish(book int64, ids ...int64) {
	h.t.Helper()
	for _, id := range ids {
		if err := h.hub.Publish(event(id, book)); err != nil {
			h.t.Fatalf("Publish(%d): %v", id, err)
		}
	}
}

func event(id, book int64) *bindery.Event {
	return &bindery.Event{ID: id, Type: bindery.EventLog, Timestamp: fixedNow(), RunID: book * 10, BookID: book,
		Level: "info", Source: "test", Message: fmt.Sprintf("event %d", id)}
}

// serverFrame is any frame the server sends.
type serverFrame struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	RunID     int64  `json:"run_id"`
	BookID    int64  `json:"book_id"`
	Message   string `json:"message"`
	Code      string `json:"code"`
	Data      struct {
		Runs    []bindery.Run    `json:"runs"`
		History []*bindery.Event `json:"history"`
	} `json:"data"`
	Logs []*bindery.Event `json:"logs"`
}

func read(c *websocket.Conn) (serverFrame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		return serverFrame{}, err
	}
	var f serverFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return serverFrame{}, fmt.Errorf("frame %s: %w", b, err)
	}
	if _, err := time.Parse(time.RFC3339, f.Timestamp); err != nil {
		return serverFrame{}, fmt.Errorf("frame %s: timestamp: %w", b, err)
	}
	return f, nil
}

func mustRead(t *testing.T, c *websocket.Conn) serverFrame {
	t.Helper()
	f, err := read(c)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return f
}

func send(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// expectClose reads until the connection ends and checks its status.
func expectClose(t *testing.T, c *websocket.Conn, want websocket.StatusCode) {
	t.Helper()
	for {
		_, err := read(c)
		if err == nil {
			continue
		}
		if got := websocket.CloseStatus(err); got != want {
			t.Fatalf("close status: got %v (%v), want %v", got, err, want)
		}
		return
	}
}

// expectAuthRefused checks CONTRACT.md §6's failure: the error frame, then 1008.
func expectAuthRefused(t *testing.T, c *websocket.Conn) {
	t.Helper()
	f, err := read(c)
	if err != nil {
		t.Fatalf("read: %v, want the error frame", err)
	}
	if f.Type != FrameError || f.Message != "Invalid authentication token" {
		t.Fatalf("got %+v, want the authentication error frame", f)
	}
	expectClose(t, c, websocket.StatusPolicyViolation)
}

// ping sends a ping and returns the pong, proving the connection is
// alive and that every frame queued before it has been read.
func ping(t *testing.T, c *websocket.Conn) serverFrame {
	t.Helper()
	send(t, c, `{"type":"ping"}`)
	for {
		f := mustRead(t, c)
		if f.Type == FramePong {
			return f
		}
		t.Fatalf("got %q (id %d) before pong", f.Type, f.ID)
	}
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// dialWith dials with headers set by edit.
func (h *harness) dialWith(edit func(http.Header)) (*websocket.Conn, *http.Response, error) {
	hdr := http.Header{}
	edit(hdr)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+h.srv.URL[len("http"):]+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if c != nil {
		c.SetReadLimit(-1)
		h.t.Cleanup(func() { c.CloseNow() })
	}
	return c, resp, err
}

var errInternalForTest = fmt.Errorf("database is on fire")
