package realtime

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// batchLimit is how many bytes a writer gathers before it sends them,
// even with more frames queued: a bound on the buffer, not a delay.
const batchLimit = 64 << 10

// batchConn is the hijacked connection underneath a *websocket.Conn, and
// the only way to its socket after the handshake: the library writes
// through it (pings, pongs, closes, and every frame of the slow path), and
// so does the hub's fan-out (tryWrite). mu makes the bytes of every writer
// reach the socket whole and in order.
//
// It exists because on loopback and on a LAN the write system call is
// most of what a frame costs the server (the kernel's TCP work and the
// wake-up of the reader), so the number of writes, and what is spent
// around each, decides how many clients stay within the latency budget:
//
//   - tryWrite sends an event's frame, encoded once by Publish for every
//     client (frame.framed), with one non-blocking write and nothing else:
//     no goroutine, no timer, no copy through the library.
//   - Between hold and release, whatever is written is gathered in memory
//     and then sent with one write: a client with several frames queued (a
//     burst, a replay, catching up) pays one system call, not one each.
//
// Frames are untouched either way: the same bytes, each event its own
// WebSocket message (CONTRACT.md §6), only fewer and larger TCP writes.
type batchConn struct {
	net.Conn
	raw syscall.RawConn // nil when Conn has no descriptor (TLS): no tryWrite

	mu   sync.Mutex // held during every write to Conn; guards the fields below
	held bool
	buf  *[]byte // gathered while held; from batchPool
	rest []byte  // unsent tail of a frame tryWrite sent in part; precedes every other byte
}

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func newBatchConn(c net.Conn) *batchConn {
	b := &batchConn{Conn: c}
	if sc, ok := c.(syscall.Conn); ok {
		b.raw, _ = sc.SyscallConn()
	}
	return b
}

// Write sends p, or gathers it while held. The library's writes come
// here; they are bounded by the library's own timeouts, which close the
// connection and so end a blocked write.
func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held {
		*b.buf = append(*b.buf, p...)
		return len(p), nil
	}
	if err := b.writeRestLocked(); err != nil {
		return 0, err
	}
	return b.Conn.Write(p)
}

// tryWrite is the fan-out's fast path. It writes the pre-encoded frames
// at the head of frames (those already framed, up to batchLimit bytes)
// with one write that does not wait: the socket takes what fits in its
// buffer. It returns how many frames it took; a frame that went out in
// part counts as taken and partial is set: its tail is kept in rest and
// goes out, by the slow path, before any other byte. It takes nothing when
// another write is under way, or without a descriptor.
func (b *batchConn) tryWrite(frames []*frame, scratch *[]byte) (taken int, partial bool) {
	if b.raw == nil || !b.mu.TryLock() {
		return 0, false
	}
	defer b.mu.Unlock()
	if b.held || len(b.rest) > 0 {
		return 0, false
	}
	buf, k := (*scratch)[:0], 0
	for k < len(frames) && frames[k].framed != nil && (k == 0 || len(buf)+len(frames[k].framed) <= batchLimit) {
		buf = append(buf, frames[k].framed...)
		k++
	}
	*scratch = buf
	if k == 0 {
		return 0, false
	}
	n := 0
	b.raw.Write(func(fd uintptr) bool {
		n = writeNow(fd, buf)
		return true // never wait: what is left goes to the slow path
	})
	off := 0
	for taken < k {
		end := off + len(frames[taken].framed)
		if end <= n {
			off, taken = end, taken+1
			continue
		}
		if n > off {
			b.rest = append([]byte(nil), frames[taken].framed[n-off:]...)
			taken, partial = taken+1, true
		}
		break
	}
	return taken, partial
}

// hold starts gathering writes.
func (b *batchConn) hold() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held = true
	if b.buf == nil {
		b.buf = batchPool.Get().(*[]byte)
	}
}

// gather adds an encoded frame to what is held.
func (b *batchConn) gather(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*b.buf = append(*b.buf, p...)
}

// gathered reports how many bytes wait to be released.
func (b *batchConn) gathered() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return 0
	}
	return len(*b.buf)
}

// release sends the rest of a partial frame and what was gathered, in
// writes that must finish by deadline, and stops gathering. The buffer
// goes back to the pool, so an idle connection holds none.
func (b *batchConn) release(deadline time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held = false
	buf := b.buf
	b.buf = nil
	if buf != nil {
		defer putBatch(buf)
	}
	if len(b.rest) == 0 && (buf == nil || len(*buf) == 0) {
		return nil
	}
	b.Conn.SetWriteDeadline(deadline)
	defer b.Conn.SetWriteDeadline(time.Time{})
	if err := b.writeRestLocked(); err != nil {
		return err
	}
	if buf == nil || len(*buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(*buf)
	return err
}

// flushRest sends the rest of a partial frame, if any, by deadline.
func (b *batchConn) flushRest(deadline time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.rest) == 0 {
		return nil
	}
	b.Conn.SetWriteDeadline(deadline)
	defer b.Conn.SetWriteDeadline(time.Time{})
	return b.writeRestLocked()
}

// discard drops what was gathered and stops gathering. The rest of a
// partial frame stays: the stream would be corrupt without it.
func (b *batchConn) discard() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held = false
	if b.buf != nil {
		putBatch(b.buf)
		b.buf = nil
	}
}

func (b *batchConn) writeRestLocked() error {
	if len(b.rest) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.rest)
	b.rest = nil
	return err
}

// putBatch returns a buffer to the pool; one grown by a huge frame is
// left to the collector.
func putBatch(buf *[]byte) {
	if cap(*buf) <= 2*batchLimit {
		*buf = (*buf)[:0]
		batchPool.Put(buf)
	}
}

// batchWriter is the http.ResponseWriter handed to websocket.Accept: its
// Hijack puts a batchConn between the library and the connection.
type batchWriter struct {
	http.ResponseWriter
	conn *batchConn // set by Hijack
}

// Unwrap lets http.ResponseController and the library reach the
// original writer's other methods.
func (w *batchWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hijacks the underlying connection and points the library's
// buffered writer at the batchConn. The buffered reader is kept as it is:
// it may already hold the client's first bytes.
func (w *batchWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil { // empty in practice
		c.Close()
		return nil, nil, err
	}
	w.conn = newBatchConn(c)
	brw.Writer.Reset(w.conn)
	return w.conn, brw, nil
}
