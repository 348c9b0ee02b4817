package realtime

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/bindery/bindery/internal/bindery"
)

// readIDs reads n event frames and returns their ids; any other frame
// fails the test.
func readIDs(t *testing.T, c *websocket.Conn, n int) []int64 {
	t.Helper()
	ids := make([]int64, 0, n)
	for len(ids) < n {
		f := mustRead(t, c)
		if f.Type != bindery.EventLog {
			t.Fatalf("got %q (id %d), want an event", f.Type, f.ID)
		}
		ids = append(ids, f.ID)
	}
	return ids
}

func span(lo, hi int64) []int64 {
	var s []int64
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

func TestEventsOnlyOfReadableBooks(t *testing.T) {
	h := newHarness(t)
	carol, _ := h.connect(carolSession) // book 1
	bob, _ := h.connect(bobToken)       // book 2 (API token as cookie value: the fake accepts it)
	dave, _ := h.connect(daveSession)   // books 1 and 2
	h.publish(1, 1)
	h.publish(2, 2)
	h.publish(1, 3)
	h.publish(3, 4) // nobody's book
	h.publish(2, 5)
	h.publish(0, 6) // no book: nobody's CanRead(0)
	h.publish(1, 7)
	h.publish(2, 8)

	if got := readIDs(t, carol, 3); !slices.Equal(got, []int64{1, 3, 7}) {
		t.Errorf("carol (book 1): got %v", got)
	}
	if got := readIDs(t, bob, 3); !slices.Equal(got, []int64{2, 5, 8}) {
		t.Errorf("bob (book 2): got %v", got)
	}
	if got := readIDs(t, dave, 6); !slices.Equal(got, []int64{1, 2, 3, 5, 7, 8}) {
		t.Errorf("dave (books 1, 2): got %v", got)
	}
	// Nothing else was queued: the pong comes next, carrying the newest id.
	for _, c := range []*websocket.Conn{carol, bob, dave} {
		if p := ping(t, c); p.ID != 8 {
			t.Errorf("pong id %d, want 8", p.ID)
		}
	}
}

func TestResumeAtConnect(t *testing.T) {
	h := newHarness(t)
	c, _ := h.connect(carolSession)
	h.publish(1, 1, 2, 3)
	if got := readIDs(t, c, 3); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("got %v", got)
	}
	c.Close(websocket.StatusNormalClosure, "")

	// Missed while away: book 1 and book 2 events.
	h.publish(1, 4, 5)
	h.publish(2, 6)
	h.publish(1, 7)
	missed := []int64{4, 5, 7}

	for _, how := range []string{"query", "token frame"} {
		t.Run(how, func(t *testing.T) {
			var c *websocket.Conn
			var err error
			if how == "query" {
				c, _, err = h.dial(dialOpts{origin: "self", cookie: carolSession, query: "?since=3"})
			} else if c, _, err = h.dial(dialOpts{}); err == nil {
				send(t, c, `{"token":"`+carolSession+`","since":3}`)
			}
			if err != nil {
				t.Fatal(err)
			}
			// No state_sync: the missed events, in order, then live ones.
			if got := readIDs(t, c, len(missed)); !slices.Equal(got, missed) {
				t.Fatalf("replay: got %v, want %v", got, missed)
			}
			id := ping(t, c).ID + 1
			h.publish(1, id)
			if got := readIDs(t, c, 1); got[0] != id {
				t.Fatalf("live: got %v, want %d", got, id)
			}
			missed = append(missed, id)
		})
	}
}

// TestResumeCatchesUp: with several nodes a client may resume after an
// event this hub has not read yet (it saw it on another node). The
// handler asks CatchUp to read up to it first: the client then gets what
// follows, not a state_sync — at connect time and in band. An id that
// no node stored still gets the state_sync.
func TestResumeCatchesUp(t *testing.T) {
	var h *harness
	var stored atomic.Int64 // what the other nodes stored
	h = newHarness(t, func(_ *HubOptions, o *HandlerOptions) {
		o.CatchUp = func(_ context.Context, id int64) { // the feed: reads what is stored
			for next := h.hub.newest() + 1; next <= stored.Load(); next++ {
				h.hub.Publish(event(next, 1))
			}
		}
	})
	h.publish(1, 1, 2, 3)
	stored.Store(5) // 4 and 5 seen on another node

	c, _, err := h.dial(dialOpts{origin: "self", cookie: carolSession, query: "?since=5"})
	if err != nil {
		t.Fatal(err)
	}
	h.publish(1, 6)
	if f := mustRead(t, c); f.Type == FrameStateSync || f.ID != 6 {
		t.Fatalf("resuming after 5: got %s id %d, want event 6", f.Type, f.ID)
	}

	stored.Store(8)
	send(t, c, `{"type":"resume","since":8}`)
	if got := readIDs(t, c, 2); !slices.Equal(got, []int64{7, 8}) {
		t.Fatalf("in-band resume after 8: got %v, want 7 and 8 (read by the catch-up)", got)
	}
	if p := ping(t, c); p.ID != 8 {
		t.Fatalf("pong id %d after the in-band resume, want 8 (no state_sync)", p.ID)
	}

	c, _, err = h.dial(dialOpts{origin: "self", cookie: carolSession, query: "?since=500"})
	if err != nil {
		t.Fatal(err)
	}
	if f := mustRead(t, c); f.Type != FrameStateSync || f.ID != 8 {
		t.Fatalf("resuming after 500, never stored: got %s id %d, want a state_sync", f.Type, f.ID)
	}
}

func TestResumeInBand(t *testing.T) {
	h := newHarness(t)
	for id := int64(1); id <= 100; id++ {
		h.publish(1, id)
	}
	c, sync := h.connect(carolSession)
	if first := sync.Data.History[0].ID; first != 51 {
		t.Fatalf("history starts at %d, want 51", first)
	}
	h.publish(1, 101) // live, already sent
	send(t, c, `{"type":"resume","since":20}`)
	h.publish(1, 102)

	seen := map[int64]int{}
	var order []int64
	for _, e := range sync.Data.History {
		seen[e.ID]++
	}
	for len(order) < 32 { // 101, 21..50, 102
		f := mustRead(t, c)
		seen[f.ID]++
		order = append(order, f.ID)
	}
	for id := int64(21); id <= 102; id++ {
		if seen[id] != 1 {
			t.Errorf("event %d seen %d times", id, seen[id])
		}
	}
	// The missed events come in id order among themselves.
	var missed []int64
	for _, id := range order {
		if id <= 50 {
			missed = append(missed, id)
		}
	}
	if !slices.Equal(missed, span(21, 50)) {
		t.Errorf("missed events: got %v", missed)
	}
	// Resuming from what was already sent sends nothing.
	send(t, c, `{"type":"resume","since":60}`)
	ping(t, c)
}

func TestResumeTooOld(t *testing.T) {
	h := newHarness(t, func(ho *HubOptions, _ *HandlerOptions) { ho.Retain = 10 })
	for id := int64(1); id <= 30; id++ {
		h.publish(1, id)
	}
	tests := map[string]string{
		"older than retention": "?since=5",
		"unknown to server":    "?since=500",
	}
	for name, q := range tests {
		t.Run(name, func(t *testing.T) {
			c, _, err := h.dial(dialOpts{origin: "self", cookie: carolSession, query: q})
			if err != nil {
				t.Fatal(err)
			}
			f := mustRead(t, c)
			if f.Type != FrameStateSync || f.ID != 30 || len(f.Data.History) != 10 {
				t.Fatalf("got %s id %d with %d history, want state_sync id 30 with 10", f.Type, f.ID, len(f.Data.History))
			}
		})
	}
	t.Run("in band", func(t *testing.T) {
		c, _ := h.connect(carolSession)
		send(t, c, `{"type":"resume","since":5}`)
		if f := mustRead(t, c); f.Type != FrameStateSync || f.ID != 30 {
			t.Fatalf("got %s id %d, want a fresh state_sync", f.Type, f.ID)
		}
	})
	t.Run("exactly at the window", func(t *testing.T) {
		c, _, err := h.dial(dialOpts{origin: "self", cookie: carolSession, query: "?since=20"})
		if err != nil {
			t.Fatal(err)
		}
		if got := readIDs(t, c, 10); !slices.Equal(got, span(21, 30)) {
			t.Fatalf("got %v", got)
		}
	})
}

func TestPreloadResumesAcrossRestart(t *testing.T) {
	h := newHarness(t)
	var stored []*bindery.Event
	for id := int64(41); id <= 60; id++ {
		stored = append(stored, event(id, 1))
	}
	if err := h.hub.Preload(stored); err != nil {
		t.Fatal(err)
	}
	c, _, err := h.dial(dialOpts{origin: "self", cookie: carolSession, query: "?since=55"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readIDs(t, c, 5); !slices.Equal(got, span(56, 60)) {
		t.Fatalf("got %v", got)
	}
	if err := h.hub.Preload(stored); bindery.ErrorCode(err) != bindery.ECONFLICT {
		t.Errorf("second Preload: got %v, want conflict", err)
	}
	c2, _, _ := h.dial(dialOpts{origin: "self", cookie: carolSession, query: "?since=30"})
	if f := mustRead(t, c2); f.Type != FrameStateSync {
		t.Fatalf("before the preloaded window: got %s, want state_sync", f.Type)
	}
}

func TestPublishOrder(t *testing.T) {
	h := NewHub(HubOptions{Retain: 4})
	for _, id := range []int64{5, 6, 7} {
		if err := h.Publish(event(id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Publish(event(6, 1)); err != nil {
		t.Errorf("duplicate: got %v, want it ignored", err)
	}
	if err := h.Publish(event(0, 1)); bindery.ErrorCode(err) != bindery.EINVALID {
		t.Errorf("unstored: got %v, want invalid", err)
	}
	if err := h.Publish(event(9, 1)); err != nil {
		t.Fatal(err)
	}
	if err := h.Publish(event(8, 1)); bindery.ErrorCode(err) != bindery.ECONFLICT {
		t.Errorf("out of order: got %v, want conflict", err)
	}
	if s := h.Stats(); s.LastID != 9 {
		t.Errorf("last id %d, want 9", s.LastID)
	}
}

// TestSlowConsumer: a client that stops reading is closed with 1013 and
// costs the others nothing; they get every event.
func TestSlowConsumer(t *testing.T) {
	h := newHarness(t, func(ho *HubOptions, _ *HandlerOptions) { ho.QueueLimit = 8 })
	fast, _ := h.connect(daveSession)
	slow, _ := h.connect(carolSession)

	big := strings.Repeat("x", 32<<10)
	var id int64
	for h.hub.Stats().Slow == 0 {
		id++
		if id > 5000 {
			t.Fatal("the slow client was never closed")
		}
		e := event(id, 1)
		e.Message = big
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := h.hub.Publish(e); err != nil {
				t.Error(err)
			}
		}()
		select { // Publish must not block on the slow client
		case <-done:
		case <-time.After(testTimeout):
			t.Fatal("Publish blocked")
		}
		if got := readIDs(t, fast, 1); got[0] != id {
			t.Fatalf("fast client: got %d, want %d", got[0], id)
		}
	}
	// The slow client now reads: what had reached its socket, then 1013.
	var last int64
	for {
		f, err := read(slow)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusTryAgainLater {
				t.Fatalf("slow client closed with %v (%v), want 1013", got, err)
			}
			break
		}
		if f.ID != last+1 {
			t.Fatalf("slow client: got %d after %d", f.ID, last)
		}
		last = f.ID
	}
	if last >= id {
		t.Errorf("slow client got everything (%d of %d)", last, id)
	}
	// The fast client is still served, and the slow one can resume.
	h.publish(1, id+1)
	if got := readIDs(t, fast, 1); got[0] != id+1 {
		t.Fatalf("fast client after: got %v", got)
	}
	c, _, err := h.dial(dialOpts{origin: "self", cookie: carolSession, query: "?since=" + strconv.FormatInt(last, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if got := readIDs(t, c, int(id+1-last)); !slices.Equal(got, span(last+1, id+1)) {
		t.Fatalf("resume after 1013: got %v", got)
	}
}

func TestDisconnect(t *testing.T) {
	h := newHarness(t)
	alice, _ := h.connect(aliceSession)
	carol, _ := h.connect(carolSession)
	n := h.hub.Disconnect(func(v Viewer) bool { return v.ID() == "user:alice" })
	if n != 1 {
		t.Errorf("Disconnect: %d, want 1", n)
	}
	expectClose(t, alice, websocket.StatusPolicyViolation)
	h.publish(1, 1)
	if got := readIDs(t, carol, 1); got[0] != 1 {
		t.Fatalf("carol: got %v", got)
	}
	waitFor(t, "alice's handler to return", func() bool { return h.hub.Stats().Conns == 1 })
}

func TestShutdown(t *testing.T) {
	h := newHarness(t)
	c, _ := h.connect(aliceSession)
	waiting, _, err := h.dial(dialOpts{}) // not yet authenticated
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both connections", func() bool { return h.hub.Stats().Conns == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.hub.Shutdown(ctx) }()
	expectClose(t, c, websocket.StatusGoingAway)
	expectClose(t, waiting, websocket.StatusGoingAway)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// A latecomer is upgraded and sent away at once.
	late, _, err := h.dial(dialOpts{origin: "self", cookie: aliceSession})
	if err != nil {
		t.Fatal(err)
	}
	expectClose(t, late, websocket.StatusGoingAway)
}

func TestKeepalive(t *testing.T) {
	h := newHarness(t, func(ho *HubOptions, _ *HandlerOptions) {
		ho.PingInterval = 20 * time.Millisecond
		ho.WriteTimeout = 200 * time.Millisecond
	})
	pings := make(chan struct{}, 16)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+h.srv.URL[4:]+"/ws", &websocket.DialOptions{
		HTTPHeader: map[string][]string{"Authorization": {"Bearer " + dashboardToken}},
		OnPingReceived: func(context.Context, []byte) bool {
			select {
			case pings <- struct{}{}:
			default:
			}
			return true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	go func() { // read, so that pings are answered
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	for range 2 {
		select {
		case <-pings:
		case <-ctx.Done():
			t.Fatal("no keepalive ping")
		}
	}
}

// TestDisconnectDuringAuthentication: a Disconnect that runs while a
// credential is being checked makes the handler check it again, so a
// session revoked at that moment cannot slip through.
func TestDisconnectDuringAuthentication(t *testing.T) {
	h := NewHub(HubOptions{})
	c := newClient(h, discardSink{new(atomic.Int64), new(atomic.Int64)})
	gen := h.generation()
	h.Disconnect(func(Viewer) bool { return true })
	if h.authenticated(c, viewers[aliceSession], gen) {
		t.Fatal("authenticated across a Disconnect")
	}
	if !h.authenticated(c, viewers[aliceSession], h.generation()) {
		t.Fatal("not authenticated without a Disconnect")
	}
}

// TestDeadPeerIsCut: a peer that stops answering pings (a half-open TCP
// connection) is disconnected after WriteTimeout.
func TestDeadPeerIsCut(t *testing.T) {
	h := newHarness(t, func(ho *HubOptions, _ *HandlerOptions) {
		ho.PingInterval = 10 * time.Millisecond
		ho.WriteTimeout = 100 * time.Millisecond
	})
	c, _, err := h.dial(dialOpts{bearer: dashboardToken})
	if err != nil {
		t.Fatal(err)
	}
	_ = c // never read again: pings go unanswered
	waitFor(t, "the live connection", func() bool { return h.hub.Stats().Live == 1 })
	waitFor(t, "the dead peer to be cut", func() bool { return h.hub.Stats().Conns == 0 })
}

// TestFanOutInOrderExactlyOnce: events published to many clients reach
// every one whole, in order, exactly once, while the fan-out's writes are
// cut short by full socket buffers and finished by the clients' own
// writers, with pongs (written by the library) in between. Afterwards no
// client has a writer, a queue or a buffer left.
func TestFanOutInOrderExactlyOnce(t *testing.T) {
	h := newHarness(t, func(ho *HubOptions, _ *HandlerOptions) { ho.QueueLimit = 1 << 20 })
	const clients, events = 16, 200
	// Small socket buffers on both sides, so that a big frame does not fit.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := new(net.Dialer).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(16 << 10)
		}
		return c, err
	}}}
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		c, _, err := websocket.Dial(ctx, "ws"+h.srv.URL[len("http"):]+"/ws", &websocket.DialOptions{HTTPClient: hc,
			HTTPHeader: http.Header{"Origin": {h.srv.URL}, "Cookie": {SessionCookie + "=" + daveSession}}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(-1)
		t.Cleanup(func() { c.CloseNow() })
		if f := mustRead(t, c); f.Type != FrameStateSync {
			t.Fatalf("first frame %q, want state_sync", f.Type)
		}
		conns[i] = c
	}
	idle := func() bool {
		h.hub.mu.Lock()
		defer h.hub.mu.Unlock()
		for c := range h.hub.conns {
			c.mu.Lock()
			busy := c.writing || c.queue != nil || c.pending != 0
			c.mu.Unlock()
			c.wire.mu.Lock()
			busy = busy || c.wire.buf != nil || c.wire.rest != nil
			c.wire.mu.Unlock()
			if busy {
				return false
			}
		}
		return true
	}
	h.hub.mu.Lock()
	for c := range h.hub.conns {
		c.wire.Conn.(*net.TCPConn).SetWriteBuffer(16 << 10)
	}
	h.hub.mu.Unlock()

	got := make([][]int64, clients)
	var readers sync.WaitGroup
	for i, c := range conns {
		readers.Go(func() {
			for len(got[i]) < events {
				f, err := read(c)
				if err != nil {
					t.Errorf("client %d after %d events: %v", i, len(got[i]), err)
					return
				}
				if f.Type != FramePong {
					got[i] = append(got[i], f.ID)
				}
			}
		})
	}
	big := strings.Repeat("x", 96<<10)
	for id := int64(1); id <= events; id++ {
		e := event(id, 1+id%2)
		if id%20 == 1 {
			// Every client is idle: the fan-out's write of this frame is
			// cut, and the small events after it queue behind the rest.
			waitFor(t, "the writers to finish", idle)
			e.Message = big
		}
		if err := h.hub.Publish(e); err != nil {
			t.Fatal(err)
		}
		if id%20 == 5 {
			for _, c := range conns {
				send(t, c, `{"type":"ping"}`)
			}
		}
	}
	readers.Wait()
	for i := range got {
		if !slices.Equal(got[i], span(1, events)) {
			t.Errorf("client %d got %d events, not 1…%d in order: %v…", i, len(got[i]), events, got[i][:min(len(got[i]), 20)])
		}
	}
	waitFor(t, "the writers to finish", idle)
}
