package realtime

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// frame is one server frame, encoded once. Event frames are shared by
// every client that receives them and must not be modified. lazy frames
// (state_sync) are encoded by the writer, outside the hub's lock.
type frame struct {
	id   int64
	book int64
	data []byte // the JSON message
	// framed is data as a whole WebSocket message, header included, for
	// frames that go to many clients (events; see newEventFrame). Server
	// frames are not masked, so these bytes are the same for every
	// client, and the fan-out writes them as they are.
	framed []byte
	lazy   func() ([]byte, error)
}

// newEventFrame encodes an event frame once for every client: data, and
// data framed as one final, unmasked, uncompressed text message (RFC 6455
// §5.2), byte for byte what coder/websocket writes for it on these
// connections (they never negotiate compression). The library has no way
// to frame a message once for many connections; the test
// TestEventFrameAsTheLibraryWritesIt holds the two together.
func newEventFrame(id, book int64, data []byte) *frame {
	n := len(data)
	w := make([]byte, 0, 10+n)
	w = append(w, 0x80|0x1) // FIN, text
	switch {
	case n < 126:
		w = append(w, byte(n))
	case n <= 0xFFFF:
		w = append(w, 126)
		w = binary.BigEndian.AppendUint16(w, uint16(n))
	default:
		w = append(w, 127)
		w = binary.BigEndian.AppendUint64(w, uint64(n))
	}
	h := len(w)
	w = append(w, data...)
	return &frame{id: id, book: book, data: w[h:], framed: w}
}

// sink is the writing half of a connection: *websocket.Conn, or a fake in
// benchmarks of the hub alone.
type sink interface {
	Write(ctx context.Context, typ websocket.MessageType, p []byte) error
	Ping(ctx context.Context) error
	Close(code websocket.StatusCode, reason string) error
	CloseNow() error
}

// client is one accepted WebSocket connection.
//
// Goroutines: the handler's goroutine reads. Published events are written
// by the hub's fan-out (Publish, flush), a few goroutines taking the
// clients in turn, with writes that never wait. A writer goroutine of the
// client's own (writeLoop) exists only while it has frames the fan-out
// cannot write at once — a full socket buffer, a state_sync or pong, a
// replay, a close — and is gone when its queue is empty, so an idle
// connection costs one goroutine. Whoever set writing is the only writer
// until it clears it. Keepalive pings run on a timer and borrow a
// goroutine only while they wait for the pong.
type client struct {
	hub  *Hub
	conn sink
	// wire is the connection underneath conn, through which every frame
	// is written (see batchConn); nil for a fake sink.
	wire *batchConn

	// viewer is set once, before the client becomes live, and never
	// changes.
	viewer Viewer

	// Guarded by hub.mu.
	live bool  // receives published events
	from int64 // every event after from that viewer may read has been queued

	mu      sync.Mutex // guards the fields below
	queue   []*frame   // frames waiting for the writer
	pending int        // queued plus being written
	burst   int        // replayed frames not yet written: extra room over QueueLimit
	writing bool       // a writer owns the queue: the fan-out (flush) or writeLoop
	closing bool       // no more frames; the connection is being closed
	dropped bool       // closing without writing what is queued
	code    websocket.StatusCode
	reason  string

	ping *time.Timer // keepalive; nil when disabled
}

func newClient(h *Hub, conn sink) *client {
	return &client{hub: h, conn: conn}
}

// enqueue queues f for writing and reports false, queuing nothing, when
// the queue is full. A closing client swallows frames (true).
func (c *client) enqueue(f *frame) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return true
	}
	if c.pending >= c.hub.opts.QueueLimit+c.burst {
		return false
	}
	c.push(f)
	return true
}

// offer queues an event frame for the fan-out. Like enqueue, but instead
// of starting a writer it reports start when the caller must flush the
// client, which is then marked as writing. ok is false, queuing nothing,
// when the queue is full.
func (c *client) offer(f *frame) (ok, start bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return true, false
	}
	if c.pending >= c.hub.opts.QueueLimit+c.burst {
		return false, false
	}
	c.queue = append(c.queue, f)
	c.pending++
	if c.writing {
		return true, false
	}
	c.writing = true
	return true, true
}

// flush is the fan-out's fast path, for a client offer marked as
// writing: it writes the queued event frames with one write that does
// not wait (batchConn.tryWrite). Whatever that cannot do — the socket's
// buffer is full, a frame needs the library, frames arrived meanwhile,
// the connection is closing — it hands to writeLoop on a goroutine of the
// client's own, which may wait.
func (c *client) flush(scratch *[]byte) {
	c.mu.Lock()
	batch := c.queue
	c.queue = nil
	c.mu.Unlock()

	taken, partial := 0, false
	if c.wire != nil {
		taken, partial = c.wire.tryWrite(batch, scratch)
	}
	clear(batch[:taken])

	c.mu.Lock()
	if c.dropped { // closeWith has emptied the queue and the counts
		c.mu.Unlock()
		go c.writeLoop()
		return
	}
	c.pending -= taken
	c.burst = max(c.burst-taken, 0)
	rest := batch[taken:]
	if len(rest) == 0 && len(c.queue) == 0 && !partial && !c.closing {
		c.writing = false
		c.mu.Unlock()
		return
	}
	if len(rest) > 0 {
		c.queue = append(rest, c.queue...)
	}
	c.mu.Unlock()
	go c.writeLoop()
}

// enqueueReplay queues a replayed event whatever the queue's length: a
// resume may owe the client up to Retain events at once, and closing it
// for that would make it resume forever. The room it takes is returned as
// frames are written, so live events after a replay still see a bounded
// queue.
func (c *client) enqueueReplay(f *frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.burst++
	c.push(f)
}

// push appends f and starts a writer if none is running. c.mu is held.
func (c *client) push(f *frame) {
	c.queue = append(c.queue, f)
	c.pending++
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

// closeWith closes the connection with code: at once, dropping whatever
// is queued, when drop is set (revocation, slowness, shutdown: nothing
// more may reach the client), or after the queued frames otherwise (an
// error frame that explains the close). Only the first call counts;
// frames queued afterwards are swallowed. It never blocks: the close
// handshake runs on the writer goroutine.
func (c *client) closeWith(code websocket.StatusCode, reason string, drop bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing, c.code, c.reason = true, code, reason
	if drop {
		c.dropped = true
		clear(c.queue)
		c.queue, c.pending, c.burst = nil, 0, 0
	}
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

func (c *client) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// writeLoop writes queued frames until the queue is empty, then returns,
// or, when closing, closes the connection. It is the slow path: it may
// wait for the socket, up to WriteTimeout per write.
func (c *client) writeLoop() {
	for {
		if err := c.writeRest(); err != nil {
			c.broken()
			return
		}
		c.mu.Lock()
		if len(c.queue) == 0 {
			if c.closing {
				code, reason := c.code, c.reason
				c.mu.Unlock()
				c.stopPing()
				c.conn.Close(code, reason)
				return
			}
			c.writing = false
			c.queue = nil // an idle client keeps no buffer
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()

		if err := c.writeBatch(batch); err != nil {
			c.broken()
			return
		}
	}
}

// writeRest finishes a frame the fan-out sent in part, before anything
// else may be written.
func (c *client) writeRest() error {
	if c.wire == nil {
		return nil
	}
	return c.wire.flushRest(time.Now().Add(c.hub.opts.WriteTimeout))
}

// broken gives up on a connection that failed a write or was too slow to
// take one; the reader sees it closed and cleans up.
func (c *client) broken() {
	c.mu.Lock()
	c.closing, c.dropped, c.queue, c.pending = true, true, nil, 0
	c.mu.Unlock()
	c.stopPing()
	c.conn.CloseNow()
}

// writeBatch writes the frames taken from the queue, each its own
// WebSocket message, gathered into as few TCP writes as batchLimit allows
// (see batchConn). It stops early, sending nothing it has gathered, when
// the client is dropped meanwhile: nothing more may reach it.
func (c *client) writeBatch(batch []*frame) error {
	if c.wire != nil {
		c.wire.hold()
	}
	for i, f := range batch {
		batch[i] = nil
		if c.wire != nil && f.framed != nil {
			c.wire.gather(f.framed) // already framed: no need of the library
		} else if err := c.write(f); err != nil {
			c.discard()
			return err
		}
		c.mu.Lock()
		c.pending--
		if c.burst > 0 {
			c.burst--
		}
		dropped := c.dropped
		c.mu.Unlock()
		if dropped {
			clear(batch[i:])
			c.discard()
			return nil
		}
		if c.wire != nil && c.wire.gathered() >= batchLimit {
			if err := c.wire.release(time.Now().Add(c.hub.opts.WriteTimeout)); err != nil {
				return err
			}
			c.wire.hold()
		}
	}
	if c.wire != nil {
		return c.wire.release(time.Now().Add(c.hub.opts.WriteTimeout))
	}
	return nil
}

// discard forgets the gathered frames.
func (c *client) discard() {
	if c.wire != nil {
		c.wire.discard()
	}
}

// write hands one frame to the library. With a batchConn underneath it
// only gathers bytes and cannot block, so it needs no timer of its own:
// the write timeout bounds the release. Without one (a fake sink), the
// write gets the timeout itself.
func (c *client) write(f *frame) error {
	data := f.data
	if f.lazy != nil {
		var err error
		if data, err = f.lazy(); err != nil {
			c.hub.log.Error("websocket frame encoding failed", "err", err)
			return err
		}
	}
	if c.wire != nil {
		return c.conn.Write(context.Background(), websocket.MessageText, data)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.hub.opts.WriteTimeout)
	defer cancel()
	return c.conn.Write(ctx, websocket.MessageText, data)
}

// startPing arms the keepalive timer.
func (c *client) startPing() {
	if c.hub.opts.PingInterval < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing {
		c.ping = time.AfterFunc(c.hub.opts.PingInterval, c.keepalive)
	}
}

func (c *client) stopPing() {
	c.mu.Lock()
	t := c.ping
	c.mu.Unlock()
	if t != nil {
		t.Stop()
	}
}

// keepalive pings the peer; no pong within WriteTimeout means the peer
// is gone (a half-open TCP connection), and the connection is cut.
func (c *client) keepalive() {
	ctx, cancel := context.WithTimeout(context.Background(), c.hub.opts.WriteTimeout)
	defer cancel()
	if err := c.conn.Ping(ctx); err != nil {
		c.conn.CloseNow()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing {
		c.ping.Reset(c.hub.opts.PingInterval)
	}
}
