package cli

import (
	"bufio"
	"net"
	"sync"
	"time"
)

// splitListener sorts the connections of one port into TLS and plain
// HTTP by their first byte (0x16 opens every TLS handshake), so that when
// Bindery terminates TLS itself, a user who types http:// still gets a
// redirect to the public URL instead of a TLS error.
type splitListener struct {
	inner     net.Listener
	tls       *chanListener
	plain     *chanListener
	closeOnce sync.Once
}

// sniffTimeout bounds how long a new connection may stay silent before
// being dropped; it also keeps idle probes from piling up.
const sniffTimeout = 10 * time.Second

func newSplitListener(l net.Listener) *splitListener {
	s := &splitListener{inner: l}
	s.tls = &chanListener{addr: l.Addr(), conns: make(chan net.Conn), done: make(chan struct{}), close: s.Close}
	s.plain = &chanListener{addr: l.Addr(), conns: make(chan net.Conn), done: s.tls.done, close: s.Close}
	go s.run()
	return s
}

func (s *splitListener) run() {
	for {
		c, err := s.inner.Accept()
		if err != nil {
			s.Close()
			return
		}
		go s.sort(c)
	}
}

func (s *splitListener) sort(c net.Conn) {
	br := bufio.NewReaderSize(c, 1)
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		c.Close()
		return
	}
	target := s.plain
	if first[0] == 0x16 {
		target = s.tls
	}
	select {
	case target.conns <- &peekedConn{Conn: c, r: br}:
	case <-target.done:
		c.Close()
	}
}

// Close stops accepting on both halves.
func (s *splitListener) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.tls.done)
		err = s.inner.Close()
	})
	return err
}

// chanListener is a net.Listener fed by splitListener.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	close func() error
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { return l.close() }
func (l *chanListener) Addr() net.Addr { return l.addr }

// peekedConn replays the sniffed byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
