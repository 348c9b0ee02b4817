package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/bindery/bindery/internal/bindery"
)

// Defaults of HubOptions.
const (
	DefaultQueueLimit   = 256
	DefaultRetain       = 4096
	DefaultWriteTimeout = 10 * time.Second
	DefaultPingInterval = 30 * time.Second

	// HistoryLength is how many recent events state_sync carries.
	HistoryLength = 50
)

// Close codes and reasons the hub uses. The reasons are fixed strings so
// nothing about the cause leaks beyond what the code already says.
const (
	reasonSlow     = "client too slow; resume with since"
	reasonRevoked  = "authorization changed"
	reasonShutdown = "server shutting down"
)

// HubOptions configures NewHub. Zero values take the defaults.
type HubOptions struct {
	// QueueLimit is how many frames may wait for one client before the
	// hub gives up on it and closes it with 1013 (default 256). The queue
	// holds pointers to shared, already encoded frames, so its cost is the
	// slice of pointers, not the events.
	QueueLimit int
	// Retain is how many recent events the hub keeps in memory for
	// state_sync's history and for resuming (default 4096). A resume from
	// before the oldest retained event gets a fresh state_sync.
	Retain int
	// WriteTimeout bounds every write to a client (default 10 s); a client
	// that does not take a frame within it is disconnected.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings an idle client (default
	// 30 s); a client that does not answer within WriteTimeout is
	// disconnected. Negative disables pings (tests).
	PingInterval time.Duration
	// Now is the clock for frame timestamps (default time.Now).
	Now func() time.Time
	// Logger receives connection-level warnings (default discard).
	Logger *slog.Logger
}

// Hub fans events out to connected clients. It is safe for concurrent use.
// The zero value is not usable; call NewHub.
//
// mu guards conns, every client's live and from fields, the ring and the
// ids. Publish holds mu while it queues an event to every client, which is
// what makes registration (state_sync) and resume exact: a client sees an
// event either in its snapshot or live, never both, never neither.
type Hub struct {
	opts HubOptions
	log  *slog.Logger
	now  func() time.Time

	ctx    context.Context // cancelled by Shutdown; parent of backend calls
	cancel context.CancelFunc

	mu      sync.Mutex
	conns   map[*client]struct{}
	ring    []*frame // circular window of recent events, oldest at head
	head    int
	count   int
	last    int64 // id of the newest published event
	floor   int64 // every event with id > floor is in the ring
	started bool  // floor is known (first Publish or Preload)
	closed  bool
	drained chan struct{} // closed when closed and conns is empty
	gen     uint64        // counts Disconnect calls (see authenticated)

	slow atomic.Int64 // clients closed for being too slow
}

// NewHub returns a hub.
func NewHub(o HubOptions) *Hub {
	if o.QueueLimit <= 0 {
		o.QueueLimit = DefaultQueueLimit
	}
	if o.Retain <= 0 {
		o.Retain = DefaultRetain
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.PingInterval == 0 {
		o.PingInterval = DefaultPingInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{opts: o, log: o.Logger, now: o.Now, conns: make(map[*client]struct{}),
		ring: make([]*frame, o.Retain), drained: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// Publish fans e out to every connected client whose viewer may read
// e.BookID. Call it after e is stored, so e.ID is set; ids must arrive in
// increasing order. An id the hub has already seen is ignored (nil), so a
// feed that delivers at least once is harmless; an id older than the
// newest but never seen is refused with ECONFLICT, because delivering it
// would break every client's resume point.
//
// e is encoded once, WebSocket framing included; every client gets the
// same bytes. Publish never blocks on a client: a client whose queue is
// full is closed with 1013. It queues the event to every reader under the
// hub's lock, then leaves the writing to the fan-out (fanOut) and
// returns. e must not be modified after the call.
func (h *Hub) Publish(e *bindery.Event) error {
	if e == nil || e.ID <= 0 {
		return bindery.Errorf(bindery.EINVALID, "Event without an id: store it before publishing.")
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	f := newEventFrame(e.ID, e.BookID, data)

	h.mu.Lock()
	if e.ID <= h.last {
		defer h.mu.Unlock()
		if h.retained(e.ID) || e.ID <= h.floor {
			return nil
		}
		return bindery.Errorf(bindery.ECONFLICT, "Event %d published after %d.", e.ID, h.last)
	}
	if !h.started {
		h.floor, h.started = e.ID-1, true
	}
	h.push(f)
	ready := make([]*client, 0, len(h.conns))
	for c := range h.conns {
		if !c.live || !c.viewer.CanRead(f.book) {
			continue
		}
		switch ok, start := c.offer(f); {
		case !ok:
			h.dropSlowLocked(c)
		case start:
			ready = append(ready, c)
		}
	}
	h.mu.Unlock()
	fanOut(ready)
	return nil
}

// fanOutGrab is how many clients a fan-out goroutine takes at a time.
const fanOutGrab = 8

// fanOut writes a just-published event to the clients that were idle
// (the others have a writer already, which will take it), on at most
// GOMAXPROCS goroutines that take the clients a few at a time, so that
// one goroutine held up by the scheduler does not hold up its share. Each
// client costs one write that does not wait (client.flush): one goroutine
// per core writes to the sockets back to back, instead of a goroutine per
// client to create and schedule.
func fanOut(ready []*client) {
	if len(ready) == 0 {
		return
	}
	j := &fanOutJob{clients: ready}
	for range min(runtime.GOMAXPROCS(0), (len(ready)+fanOutGrab-1)/fanOutGrab) {
		go j.run()
	}
}

type fanOutJob struct {
	clients []*client
	next    atomic.Int64 // index of the next client to take
}

func (j *fanOutJob) run() {
	scratch := batchPool.Get().(*[]byte)
	defer putBatch(scratch)
	for {
		i := int(j.next.Add(fanOutGrab)) - fanOutGrab
		if i >= len(j.clients) {
			return
		}
		for _, c := range j.clients[i:min(i+fanOutGrab, len(j.clients))] {
			c.flush(scratch)
		}
	}
}

// Preload fills the replay window with events stored before this process
// started (for example EventStore.RecentEvents(ctx, Retain)), oldest
// first, so that clients can resume across a restart. It must be called
// before the first Publish; later it returns ECONFLICT.
func (h *Hub) Preload(events []*bindery.Event) error {
	frames := make([]*frame, 0, len(events))
	for i, e := range events {
		if e == nil || e.ID <= 0 || (i > 0 && e.ID <= events[i-1].ID) {
			return bindery.Errorf(bindery.EINVALID, "Preload needs stored events in increasing id order.")
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		frames = append(frames, newEventFrame(e.ID, e.BookID, data))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return bindery.Errorf(bindery.ECONFLICT, "Preload after Publish.")
	}
	if len(frames) == 0 {
		return nil
	}
	h.floor, h.started = frames[0].id-1, true
	for _, f := range frames {
		h.push(f)
		h.last = f.id
	}
	return nil
}

// Disconnect closes, with 1008, every authenticated connection whose viewer
// matches, and returns how many. Call it when a role changes, a session or
// token is revoked, or a user is deleted: the viewer was authorised when it
// connected and would otherwise keep reading with stale rights. match is
// called with the hub's lock held and must not call back into the hub.
func (h *Hub) Disconnect(match func(Viewer) bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen++
	n := 0
	for c := range h.conns {
		if c.viewer != nil && !c.isClosing() && match(c.viewer) {
			c.live = false
			c.closeWith(websocket.StatusPolicyViolation, reasonRevoked, true)
			n++
		}
	}
	return n
}

// Shutdown refuses new connections, closes every connection with 1001
// (going away) and waits until their handlers have returned or ctx ends;
// then it cuts what is left and returns ctx's error. net/http's
// Server.Shutdown does not wait for hijacked connections, so call this
// alongside it.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		for c := range h.conns {
			c.live = false
			c.closeWith(websocket.StatusGoingAway, reasonShutdown, true)
		}
		if len(h.conns) == 0 {
			close(h.drained)
		}
	}
	h.mu.Unlock()
	defer h.cancel()
	select {
	case <-h.drained:
		return nil
	case <-ctx.Done():
	}
	h.mu.Lock()
	for c := range h.conns {
		c.conn.CloseNow()
	}
	h.mu.Unlock()
	return ctx.Err()
}

// newest is the id of the newest event published.
func (h *Hub) newest() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// HubStats is a snapshot of the hub for metrics and tests.
type HubStats struct {
	Conns  int   // accepted connections, authenticated or not
	Live   int   // connections receiving events
	LastID int64 // newest published event
	Slow   int64 // connections closed with 1013 since start
}

// Stats returns a snapshot.
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := HubStats{Conns: len(h.conns), LastID: h.last, Slow: h.slow.Load()}
	for c := range h.conns {
		if c.live {
			s.Live++
		}
	}
	return s
}

// push appends f to the ring, evicting the oldest event when full.
func (h *Hub) push(f *frame) {
	n := len(h.ring)
	if h.count == n {
		h.floor = h.ring[h.head].id
		h.ring[h.head] = nil
		h.head = (h.head + 1) % n
		h.count--
	}
	h.ring[(h.head+h.count)%n] = f
	h.count++
	h.last = f.id
}

// at returns the i-th retained event, oldest first.
func (h *Hub) at(i int) *frame { return h.ring[(h.head+i)%len(h.ring)] }

// after returns the index of the first retained event with id > id.
func (h *Hub) after(id int64) int {
	return sort.Search(h.count, func(i int) bool { return h.at(i).id > id })
}

func (h *Hub) retained(id int64) bool {
	i := h.after(id - 1)
	return i < h.count && h.at(i).id == id
}

// resumable reports whether every event after since is still retained.
func (h *Hub) resumable(since int64) bool {
	return since >= 0 && since <= h.last && (since >= h.floor || !h.started)
}

// track registers an accepted connection, or reports false after Shutdown.
func (h *Hub) track(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	return true
}

// generation returns the Disconnect counter; see authenticated.
func (h *Hub) generation() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen
}

// authenticated records c's viewer, so that Disconnect reaches c from now
// on, and reports false when a Disconnect ran since gen was read (before
// the credential was checked): the check may have seen a session that
// was being revoked, and the caller must check again.
func (h *Hub) authenticated(c *client, v Viewer, gen uint64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gen != gen {
		return false
	}
	c.viewer = v
	return true
}

// untrack forgets a connection whose handler is returning.
func (h *Hub) untrack(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	c.live = false
	if h.closed && len(h.conns) == 0 {
		select {
		case <-h.drained:
		default:
			close(h.drained)
		}
	}
}

func (h *Hub) dropSlowLocked(c *client) {
	c.live = false
	h.slow.Add(1)
	c.closeWith(websocket.StatusTryAgainLater, reasonSlow, true)
	h.log.Warn("websocket client too slow, closed", "viewer", c.viewer.ID())
}

// attach makes an authenticated client live. With resume set and every
// event after since retained, it queues the missed events the viewer may
// read; otherwise a state_sync of runs (which the caller has filtered) and
// the recent history. It returns needRuns without doing anything when a
// state_sync is due and runs is nil, so the caller fetches runs only when
// needed and calls again.
func (h *Hub) attach(c *client, resume bool, since int64, runs []bindery.Run) (needRuns bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || c.isClosing() {
		return false
	}
	if resume && h.resumable(since) {
		h.replayLocked(c, since, h.last)
		c.from = since
		c.live = true
		return false
	}
	if runs == nil {
		return true
	}
	h.syncLocked(c, runs)
	c.live = true
	return false
}

// resume answers an in-band resume frame: it queues the readable events
// after since that c has not been sent yet. It reports false, queuing
// nothing, when they are no longer retained; the caller then sends a fresh
// state_sync (sync).
func (h *Hub) resume(c *client, since int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !c.live {
		return true // closing: nothing to send
	}
	if !h.resumable(since) {
		return false
	}
	if since < c.from {
		h.replayLocked(c, since, c.from)
		c.from = since
	}
	return true
}

// sync queues a fresh state_sync to a live client.
func (h *Hub) sync(c *client, runs []bindery.Run) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.live {
		h.syncLocked(c, runs)
	}
}

// replayLocked queues the events in (lo, hi] that c may read. A replay is
// bounded by Retain, not by QueueLimit (see enqueueReplay).
func (h *Hub) replayLocked(c *client, lo, hi int64) {
	for i := h.after(lo); i < h.count; i++ {
		f := h.at(i)
		if f.id > hi {
			break
		}
		if c.viewer.CanRead(f.book) {
			c.enqueueReplay(f)
		}
	}
}

// syncLocked queues a state_sync with the last HistoryLength events c may
// read and sets c.from accordingly. The frame is encoded by the writer,
// outside the lock.
func (h *Hub) syncLocked(c *client, runs []bindery.Run) {
	hist := make([]*frame, 0, HistoryLength)
	for i := h.count - 1; i >= 0 && len(hist) < HistoryLength; i-- {
		if f := h.at(i); c.viewer.CanRead(f.book) {
			hist = append(hist, f)
		}
	}
	for i, j := 0, len(hist)-1; i < j; i, j = i+1, j-1 {
		hist[i], hist[j] = hist[j], hist[i]
	}
	if len(hist) == HistoryLength {
		c.from = hist[0].id - 1
	} else {
		c.from = h.floor
	}
	id, ts := h.last, h.now()
	f := &frame{id: id, lazy: func() ([]byte, error) { return encodeStateSync(id, ts, runs, hist) }}
	if !c.enqueue(f) {
		h.dropSlowLocked(c)
	}
}

// send queues a non-event frame to c, stamped with the newest event id.
// body is a JSON object without "id".
func (h *Hub) send(c *client, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := &frame{id: h.last, data: withID(h.last, body)}
	if !c.enqueue(f) && c.live {
		h.dropSlowLocked(c)
	}
}
