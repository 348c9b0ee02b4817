package realtime

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestAuthenticationAccepted(t *testing.T) {
	tests := []struct {
		name  string
		dial  dialOpts
		frame string // first frame, if any
	}{
		{"session cookie, same origin", dialOpts{origin: "self", cookie: aliceSession}, ""},
		{"bearer DASHBOARD_TOKEN, no origin (a script)", dialOpts{bearer: dashboardToken}, ""},
		{"bearer API token, same origin", dialOpts{origin: "self", bearer: bobToken}, ""},
		{"token frame with DASHBOARD_TOKEN", dialOpts{origin: "self"}, `{"token":"` + dashboardToken + `"}`},
		{"token frame with API token, no origin", dialOpts{}, `{"token":"` + bobToken + `"}`},
		{"host localhost", dialOpts{origin: "self", cookie: aliceSession, host: "localhost"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			c, _, err := h.dial(tc.dial)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if tc.frame != "" {
				send(t, c, tc.frame)
			}
			f := mustRead(t, c)
			if f.Type != FrameStateSync {
				t.Fatalf("got %+v, want state_sync", f)
			}
			if got := h.Failures(); len(got) != 0 {
				t.Errorf("audited failures: %v", got)
			}
		})
	}
}

func TestAuthenticationRefused(t *testing.T) {
	tests := []struct {
		name       string
		noToken    bool // DASHBOARD_TOKEN unset
		dial       dialOpts
		frame      string // first frame; "" sends nothing (waits for the timeout)
		httpStatus int    // refused before the upgrade
		reason     string
	}{
		{name: "no credential, empty frame", dial: dialOpts{origin: "self"}, frame: `{}`, reason: FailTokenFrame},
		{name: "no credential, silence", dial: dialOpts{origin: "self"}, reason: FailTimeout},
		{name: "wrong bearer", dial: dialOpts{bearer: "bindery_pat_guess"}, reason: FailCredential},
		{name: "revoked session cookie", dial: dialOpts{origin: "self", cookie: revokedSession}, reason: FailCredential},
		{name: "wrong token frame", dial: dialOpts{}, frame: `{"token":"guess"}`, reason: FailCredential},
		{name: "DASHBOARD_TOKEN with a typo", dial: dialOpts{}, frame: `{"token":"` + dashboardToken[:len(dashboardToken)-1] + `x"}`, reason: FailCredential},
		{name: "basic authorization", dial: dialOpts{origin: "self"}, frame: "", reason: FailAuthHeader},
		{name: "invalid JSON token frame", dial: dialOpts{}, frame: `{"token":`, reason: FailTokenFrame},
		{name: "token frame not an object", dial: dialOpts{}, frame: `"` + dashboardToken + `"`, reason: FailTokenFrame},
		{name: "ping before token", dial: dialOpts{}, frame: `{"type":"ping"}`, reason: FailTokenFrame},
		{name: "oversized token frame", dial: dialOpts{}, frame: `{"token":"` + strings.Repeat("a", 8<<10) + `"}`, reason: FailTokenFrame},
		{name: "cookie without Origin is ignored", dial: dialOpts{cookie: aliceSession}, reason: FailTimeout},
		{name: "unset DASHBOARD_TOKEN, empty token", noToken: true, dial: dialOpts{}, frame: `{"token":""}`, reason: FailTokenFrame},
		{name: "unset DASHBOARD_TOKEN, null token", noToken: true, dial: dialOpts{}, frame: `{"token":null}`, reason: FailTokenFrame},
		{name: "unset DASHBOARD_TOKEN, no token", noToken: true, dial: dialOpts{}, frame: `{"type":"auth"}`, reason: FailTokenFrame},
		{name: "evil origin with a valid cookie", dial: dialOpts{origin: "http://evil.example", cookie: aliceSession}, httpStatus: http.StatusForbidden, reason: FailOrigin},
		{name: "evil origin with a valid bearer", dial: dialOpts{origin: "http://evil.example", bearer: dashboardToken}, httpStatus: http.StatusForbidden, reason: FailOrigin},
		{name: "same host, other port", dial: dialOpts{origin: "http://127.0.0.1:1", cookie: aliceSession}, httpStatus: http.StatusForbidden, reason: FailOrigin},
		{name: "https variant of our origin", dial: dialOpts{origin: "https-self", cookie: aliceSession}, httpStatus: http.StatusForbidden, reason: FailOrigin},
		{name: "null origin", dial: dialOpts{origin: "null", bearer: dashboardToken}, httpStatus: http.StatusForbidden, reason: FailOrigin},
		{name: "foreign host (DNS rebinding)", dial: dialOpts{origin: "http://evil.example", host: "evil.example", cookie: aliceSession}, httpStatus: http.StatusMisdirectedRequest, reason: FailHost},
		{name: "foreign host, no origin", dial: dialOpts{host: "evil.example", bearer: dashboardToken}, httpStatus: http.StatusMisdirectedRequest, reason: FailHost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *HubOptions, o *HandlerOptions) {
				if tc.noToken {
					o.DashboardToken = ""
				}
			})
			d := tc.dial
			if d.origin == "https-self" {
				d.origin = "https" + h.srv.URL[len("http"):]
			}
			var c *websocket.Conn
			var resp *http.Response
			var err error
			if tc.reason == FailAuthHeader {
				c, resp, err = h.dialHeader("Authorization", "Basic "+dashboardToken)
			} else {
				c, resp, err = h.dial(d)
			}
			if tc.httpStatus != 0 {
				if err == nil {
					t.Fatal("upgrade succeeded")
				}
				if resp == nil || resp.StatusCode != tc.httpStatus {
					t.Fatalf("got %v, want HTTP %d", resp, tc.httpStatus)
				}
			} else {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if tc.frame != "" {
					send(t, c, tc.frame)
				}
				expectAuthRefused(t, c)
			}
			waitFor(t, "the audit hook", func() bool { return len(h.Failures()) > 0 })
			if got := h.Failures(); !slices.Equal(got, []string{tc.reason}) {
				t.Errorf("audited %q, want [%q]", got, tc.reason)
			}
			if s := h.hub.Stats(); s.Live != 0 {
				t.Errorf("live connections: %d", s.Live)
			}
		})
	}
}

// dialHeader dials from our own origin with one extra header.
func (h *harness) dialHeader(k, v string) (*websocket.Conn, *http.Response, error) {
	return h.dialWith(func(hdr http.Header) { hdr.Set("Origin", h.srv.URL); hdr.Set(k, v) })
}

func TestAllowlistedOrigin(t *testing.T) {
	h := newHarness(t, func(_ *HubOptions, o *HandlerOptions) {
		o.AllowedOrigins = []string{"https://admin.example.org"}
		o.AllowedHosts = []string{"bindery.example.org"}
	})
	c, _, err := h.dial(dialOpts{origin: "https://admin.example.org", cookie: aliceSession, host: "bindery.example.org"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if f := mustRead(t, c); f.Type != FrameStateSync {
		t.Fatalf("got %q, want state_sync", f.Type)
	}
	if _, resp, err := h.dial(dialOpts{origin: "https://evil.example.org", cookie: aliceSession, host: "bindery.example.org"}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("evil origin: got %v, want 403", err)
	}
}

func TestNewHandlerRefusesBadOptions(t *testing.T) {
	h := newHarness(t)
	good := HandlerOptions{Hub: h.hub, Auth: AuthenticatorFunc(fakeAuth), Backend: h.backend, PublicURL: h.handler.o.PublicURL}
	if _, err := NewHandler(good); err != nil {
		t.Fatalf("good options: %v", err)
	}
	for name, mutate := range map[string]func(*HandlerOptions){
		"no hub":        func(o *HandlerOptions) { o.Hub = nil },
		"no auth":       func(o *HandlerOptions) { o.Auth = nil },
		"no public URL": func(o *HandlerOptions) { o.PublicURL = nil },
		"wildcard":      func(o *HandlerOptions) { o.AllowedOrigins = []string{"*"} },
		"path":          func(o *HandlerOptions) { o.AllowedOrigins = []string{"https://a.example/x"} },
	} {
		o := good
		mutate(&o)
		if _, err := NewHandler(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestStateSync(t *testing.T) {
	h := newHarness(t)
	for id := int64(1); id <= 120; id++ {
		h.publish(1+id%2, id) // odd ids: book 2, even: book 1
	}
	_, f := h.connect(carolSession) // reads book 1
	if f.ID != 120 {
		t.Errorf("state_sync id: got %d, want 120", f.ID)
	}
	if len(f.Data.Runs) != 1 || f.Data.Runs[0].ID != 10 {
		t.Errorf("runs: got %+v, want only run 10 (book 1)", f.Data.Runs)
	}
	if len(f.Data.History) != HistoryLength {
		t.Fatalf("history: got %d events, want %d", len(f.Data.History), HistoryLength)
	}
	for i, e := range f.Data.History {
		if want := int64(22 + 2*i); e.ID != want || e.BookID != 1 {
			t.Fatalf("history[%d]: got id %d book %d, want id %d book 1", i, e.ID, e.BookID, want)
		}
	}
}

func TestStateSyncBackendFailure(t *testing.T) {
	h := newHarness(t)
	h.backend.runsErr = errInternalForTest
	c, _, err := h.dial(dialOpts{origin: "self", cookie: aliceSession})
	if err != nil {
		t.Fatal(err)
	}
	f := mustRead(t, c)
	if f.Type != FrameError || f.Message != "Internal error." {
		t.Fatalf("got %+v, want an internal error frame", f)
	}
	expectClose(t, c, websocket.StatusInternalError)
}

func TestPingPong(t *testing.T) {
	h := newHarness(t)
	c, sync := h.connect(aliceSession)
	h.publish(1, 1, 2)
	for _, want := range []int64{1, 2} {
		if f := mustRead(t, c); f.ID != want {
			t.Fatalf("got id %d, want %d", f.ID, want)
		}
	}
	p := ping(t, c)
	if p.ID != 2 || sync.ID != 0 {
		t.Errorf("ids: state_sync %d, pong %d; want 0, 2 (the newest event)", sync.ID, p.ID)
	}
}

func TestPipelineControl(t *testing.T) {
	h := newHarness(t)
	alice, _ := h.connect(aliceSession) // writes book 1
	carol, _ := h.connect(carolSession) // reads book 1

	tests := []struct {
		name    string
		conn    *websocket.Conn
		frame   string
		wantErr string // "" means accepted
	}{
		{"viewer pauses", carol, `{"type":"pipeline_control","command":"pause","run_id":10,"book_id":1}`, "You may not control the runs of this book."},
		{"viewer starts", carol, `{"type":"pipeline_control","command":"start","book_id":1}`, "You may not control the runs of this book."},
		{"writer pauses", alice, `{"type":"pipeline_control","command":"pause","run_id":10,"book_id":1}`, ""},
		{"writer pauses without book_id", alice, `{"type":"pipeline_control","command":"resume","run_id":10}`, ""},
		{"writer starts", alice, `{"type":"pipeline_control","command":"start","book_id":1}`, ""},
		{"another book's run with own book_id", alice, `{"type":"pipeline_control","command":"stop","run_id":20,"book_id":1}`, "Run not found."},
		{"another book", alice, `{"type":"pipeline_control","command":"start","book_id":2}`, "You may not control the runs of this book."},
		{"unknown run", alice, `{"type":"pipeline_control","command":"stop","run_id":99}`, "Run not found."},
		{"unknown command", alice, `{"type":"pipeline_control","command":"delete","run_id":10}`, "Unknown command: use start, pause, resume or stop."},
		{"pause without run", alice, `{"type":"pipeline_control","command":"pause","book_id":1}`, "pause needs a run_id."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.backend.Controls())
			send(t, tc.conn, tc.frame)
			if tc.wantErr != "" {
				f := mustRead(t, tc.conn)
				if f.Type != FrameError || f.Message != tc.wantErr {
					t.Fatalf("got %+v, want error %q", f, tc.wantErr)
				}
			}
			ping(t, tc.conn) // still connected, and the command has been handled
			if got := len(h.backend.Controls()) - before; (got == 1) != (tc.wantErr == "") {
				t.Fatalf("backend got %d commands", got)
			}
		})
	}
	want := []string{"user:alice pause run=10 book=1", "user:alice resume run=10 book=1", "user:alice start run=0 book=1"}
	if got := h.backend.Controls(); !slices.Equal(got, want) {
		t.Errorf("commands:\n got %q\nwant %q", got, want)
	}
}

func TestGetLogs(t *testing.T) {
	h := newHarness(t)
	c, _ := h.connect(carolSession)
	send(t, c, `{"type":"get_logs","run_id":10}`)
	f := mustRead(t, c)
	if f.Type != FrameLogHistory || f.RunID != 10 || len(f.Logs) != 2 || f.Logs[1].Message != "two" {
		t.Fatalf("got %+v, want log_history of run 10", f)
	}
	for _, run := range []string{"20", "99"} { // another book's run, and no run
		send(t, c, `{"type":"get_logs","run_id":`+run+`}`)
		if f := mustRead(t, c); f.Type != FrameError || f.Message != "Run not found." {
			t.Fatalf("run %s: got %+v, want Run not found.", run, f)
		}
	}
}

func TestBadFramesKeepTheConnection(t *testing.T) {
	h := newHarness(t)
	c, _ := h.connect(aliceSession)
	tests := []struct {
		frame, want string
	}{
		{`not json`, "Invalid JSON."},
		{`{"type":"ping"`, "Invalid JSON."},
		{`[]`, "Invalid JSON."},
		{`null`, "Unknown frame type."},
		{`{"type":"subscribe_all"}`, "Unknown frame type."},
		{`{"token":"` + dashboardToken + `"}`, "Unknown frame type."},
		{`{"type":"get_logs","run_id":"10"}`, "Invalid JSON."},
		{`{"type":"get_logs","run_id":-1}`, "Ids must be positive."},
		{`{"type":"resume"}`, "resume needs since, the id of the last frame received."},
		{`{"type":"ping","pad":"` + strings.Repeat("x", DefaultMaxFrameBytes) + `"}`, "Frame too large: the limit is 65536 bytes."},
	}
	for _, tc := range tests {
		send(t, c, tc.frame)
		if f := mustRead(t, c); f.Type != FrameError || f.Message != tc.want {
			t.Fatalf("%.40q: got %+v, want error %q", tc.frame, f, tc.want)
		}
	}
	ping(t, c)
	// A frame at the limit is fine.
	send(t, c, `{"type":"ping","pad":"`+strings.Repeat("x", DefaultMaxFrameBytes-len(`{"type":"ping","pad":""}`))+`"}`)
	if f := mustRead(t, c); f.Type != FramePong {
		t.Fatalf("frame at the limit: got %+v, want pong", f)
	}
}

func TestHugeFrameClosesWith1009(t *testing.T) {
	h := newHarness(t)
	c, _ := h.connect(aliceSession)
	send(t, c, `{"type":"ping","pad":"`+strings.Repeat("x", drainLimit+DefaultMaxFrameBytes)+`"}`)
	if f := mustRead(t, c); f.Type != FrameError || f.Code != "too_large" {
		t.Fatalf("got %+v, want the too_large error frame", f)
	}
	expectClose(t, c, websocket.StatusMessageTooBig)
	// The server is unharmed.
	d, _ := h.connect(aliceSession)
	ping(t, d)
}

// TestRefusedHandshakeOverLimit: when OnAuthFailure says the address is
// over its limit, a handshake refused for its Origin or Host is answered
// 429 with Retry-After.
func TestRefusedHandshakeOverLimit(t *testing.T) {
	h := newHarness(t)
	h.mu.Lock()
	h.retryAfter = 1500 * time.Millisecond
	h.mu.Unlock()
	for _, d := range []dialOpts{{origin: "http://evil.example"}, {host: "evil.example"}} {
		_, resp, err := h.dial(d)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("%+v: got %v %v, want 429 with Retry-After 2", d, resp, err)
		}
	}
}
