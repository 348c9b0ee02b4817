// Package wsclient is the load generator's WebSocket client, shared by the
// bench programs (bench/ws, bench/cluster): a minimal client that parses
// frames out of a reused buffer, and an epoll loop (Poller, Linux only)
// that reads many connections from one goroutine. It is deliberately
// minimal — no compression, no extensions, text and control frames only —
// because the clients share the machine with the servers under test, and
// whatever they spend is taken from them.
//
// Each Conn records the latency of every event it receives: the time it
// read the message minus the event's own "timestamp" (RFC 3339 with
// nanoseconds, the first one in the JSON object), and counts events
// received twice or out of order by their "id".
package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Conn is the load generator's side of one WebSocket connection: the
// handshake, then frames parsed straight out of a reused buffer. It is
// deliberately minimal — no compression, no extensions, text and control
// frames only — because the clients share the machine with the server
// under test, and whatever they spend is taken from it. Bindery and
// Centrifugo get exactly the same client.
//
// The clients read through a poller (poll_linux.go); before that, during
// the connect phase, they read with blocking calls (next).
type Conn struct {
	nc  net.Conn // until the poller takes the socket (detach)
	fd  int      // the poller's descriptor of the socket, or -1
	buf []byte   // received bytes not yet parsed: buf[off:end]
	off int
	end int
	msg []byte // a fragmented message being assembled

	// The connection's measurements.
	Lat      []int64 // latency of each event received, ns
	Last     int64   // id of the newest event received
	Disorder int64   // events received twice or after a newer one
	// KeepIDs makes the connection also record each event's id in IDs,
	// in step with Lat (for benches that tell events apart).
	KeepIDs bool
	IDs     []int64
	closed  bool
}

// WebSocket opcodes (RFC 6455 §5.2); OpText is the one callers send.
const (
	opContinuation = 0x0
	OpText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

var ErrClosed = errors.New("connection closed by the server")

// Dial opens a TCP connection and performs the opening handshake with
// header added to the request.
func Dial(ctx context.Context, rawURL string, header http.Header) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, fd: -1, buf: make([]byte, 4096)}
	if err := c.handshake(u, header); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the socket, whoever holds it.
func (c *Conn) Close() {
	if c.fd >= 0 {
		closeFD(c.fd)
		c.fd = -1
		return
	}
	c.nc.Close()
}

func (c *Conn) handshake(u *url.URL, header http.Header) error {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	key := base64.StdEncoding.EncodeToString(nonce)
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: u.Path, RawQuery: u.RawQuery},
		Host: u.Host, Header: header.Clone(), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := req.Write(c.nc); err != nil {
		return err
	}
	br := bufio.NewReader(c.nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("handshake: %s: %s", resp.Status, body)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		return errors.New("handshake: wrong Sec-WebSocket-Accept")
	}
	// Bytes after the response (the first frames) are the parser's.
	rest, _ := br.Peek(br.Buffered())
	c.end = copy(c.buf, rest)
	if c.end < len(rest) {
		c.buf = append(c.buf[:c.end], rest[c.end:]...)
		c.end = len(c.buf)
	}
	return nil
}

// Next returns the next complete message, blocking: for the connect
// phase, before the connection is handed to the poller. Control frames
// are answered on the way.
func (c *Conn) Next() ([]byte, error) {
	for {
		msg, ok, err := c.parse()
		if err != nil || ok {
			return msg, err
		}
		if err := c.fill(c.nc.Read); err != nil {
			return nil, err
		}
	}
}

// fill reads once into the free end of the buffer, moving unparsed bytes
// to its start or growing it as needed.
func (c *Conn) fill(read func([]byte) (int, error)) error {
	if c.off > 0 {
		c.end = copy(c.buf, c.buf[c.off:c.end])
		c.off = 0
	}
	if c.end == len(c.buf) {
		c.buf = append(c.buf, make([]byte, len(c.buf))...)
	}
	n, err := read(c.buf[c.end:])
	if n > 0 {
		c.end += n
		return nil
	}
	if err == nil {
		err = io.EOF
	}
	return err
}

// maxFrame bounds the frames the client accepts: events are a few hundred
// bytes, a state_sync a few KiB.
const maxFrame = 1 << 20

// parse takes the next complete data message out of the buffer; ok is
// false when more bytes are needed. The message is valid until the next
// fill. Pings are answered with pongs; a close frame ends the connection.
func (c *Conn) parse() (msg []byte, ok bool, err error) {
	for {
		b := c.buf[c.off:c.end]
		if len(b) < 2 {
			return nil, false, nil
		}
		fin, op, masked := b[0]&0x80 != 0, b[0]&0x0F, b[1]&0x80 != 0
		if masked {
			return nil, false, errors.New("masked frame from the server")
		}
		n, h := uint64(b[1]&0x7F), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return nil, false, nil
			}
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return nil, false, nil
			}
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		if n > maxFrame {
			return nil, false, fmt.Errorf("a %d-byte frame: more than any event", n)
		}
		if uint64(len(b)-h) < n { // #nosec G115 -- len(b) ≥ h: checked above for each header size
			if need := h + int(n); need > len(c.buf) {
				c.buf = append(c.buf, make([]byte, need-len(c.buf))...)
			}
			return nil, false, nil
		}
		payload := b[h : h+int(n)]
		c.off += h + int(n)
		switch op {
		case opPing:
			if err := c.Send(opPong, payload); err != nil {
				return nil, false, err
			}
		case opPong:
		case opClose:
			c.closed = true
			return nil, false, ErrClosed
		case OpText, opBinary, opContinuation:
			if fin && op != opContinuation && c.msg == nil {
				return payload, true, nil
			}
			c.msg = append(c.msg, payload...)
			if fin {
				msg, c.msg = c.msg, nil
				return msg, true, nil
			}
		default:
			return nil, false, fmt.Errorf("unknown opcode %d", op)
		}
	}
}

// Send writes one masked frame (RFC 6455 §5.3: client frames are masked).
func (c *Conn) Send(op byte, payload []byte) error {
	f := make([]byte, 0, 14+len(payload))
	f = append(f, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n < 1<<16:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	f = append(f, mask[:]...)
	for i, p := range payload {
		f = append(f, p^mask[i%4])
	}
	if c.fd >= 0 {
		return writeFD(c.fd, f)
	}
	_, err := c.nc.Write(f)
	return err
}

// consume records the events of one message received at now and returns
// how many there were. A message may hold several JSON objects, one a
// line (Centrifugo's JSON protocol); an empty object is a Centrifugo ping
// and is answered with one.
func (c *Conn) consume(msg []byte, now time.Time) (events int64, err error) {
	for len(msg) > 0 {
		line := msg
		if i := bytes.IndexByte(msg, '\n'); i >= 0 {
			line, msg = msg[:i], msg[i+1:]
		} else {
			msg = nil
		}
		if string(line) == "{}" {
			if err := c.Send(OpText, line); err != nil {
				return events, err
			}
			continue
		}
		ts, ok := Timestamp(line)
		if !ok {
			continue
		}
		c.Lat = append(c.Lat, int64(now.Sub(ts)))
		id := EventID(line)
		if c.KeepIDs {
			c.IDs = append(c.IDs, id)
		}
		if id <= c.Last {
			c.Disorder++
		} else {
			c.Last = id
		}
		events++
	}
	return events, nil
}

var (
	timestampKey = []byte(`"timestamp":"`)
	idKey        = []byte(`"id":`)
)

// Timestamp returns the first "timestamp" of a JSON object.
func Timestamp(line []byte) (time.Time, bool) {
	i := bytes.Index(line, timestampKey)
	if i < 0 {
		return time.Time{}, false
	}
	rest := line[i+len(timestampKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// EventID returns the first "id" of a JSON object: the event's, in the
// frames of both Bindery and Centrifugo.
func EventID(line []byte) int64 {
	i := bytes.Index(line, idKey)
	if i < 0 {
		return 0
	}
	var id int64
	for _, c := range line[i+len(idKey):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

// DialDashboard connects to Bindery's /ws with the DASHBOARD_TOKEN as a
// Bearer credential and reads the state_sync it must answer first.
func DialDashboard(ctx context.Context, url, token string) (*Conn, error) {
	c, err := Dial(ctx, url, http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return nil, err
	}
	b, err := c.Next()
	if err != nil {
		c.Close()
		return nil, err
	}
	if !bytes.Contains(b, []byte(`"type":"state_sync"`)) {
		c.Close()
		return nil, fmt.Errorf("first frame %.100s, want state_sync", b)
	}
	return c, nil
}
