package realtime

import (
	"context"
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
	data []byte
	lazy func() ([]byte, error)
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
// Goroutines: the handler's goroutine reads; a writer goroutine exists only
// while frames are queued (started by enqueue, gone when the queue is
// empty), so an idle connection costs one goroutine. Keepalive pings run
// on a timer and borrow a goroutine only while they wait for the pong.
type client struct {
	hub  *Hub
	conn sink

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
	writing bool       // a goroutine is in writeLoop or closing the conn
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
// or, when closing, closes the connection.
func (c *client) writeLoop() {
	for {
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

		for i, f := range batch {
			batch[i] = nil
			if err := c.write(f); err != nil {
				// The library has already torn the connection down;
				// the reader sees it and cleans up.
				c.mu.Lock()
				c.closing, c.dropped, c.queue, c.pending = true, true, nil, 0
				c.mu.Unlock()
				c.stopPing()
				c.conn.CloseNow()
				return
			}
			c.mu.Lock()
			c.pending--
			if c.burst > 0 {
				c.burst--
			}
			dropped := c.dropped
			c.mu.Unlock()
			if dropped {
				break
			}
		}
	}
}

// write sends one frame within the write timeout.
func (c *client) write(f *frame) error {
	data := f.data
	if f.lazy != nil {
		var err error
		if data, err = f.lazy(); err != nil {
			c.hub.log.Error("websocket frame encoding failed", "err", err)
			return err
		}
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
