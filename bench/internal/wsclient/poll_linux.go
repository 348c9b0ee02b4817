package wsclient

import (
	"errors"
	"sync/atomic"
	"syscall"
	"time"
)

// errNothing: the socket had nothing to read after all; epoll will say
// when it has.
var errNothing = errors.New("nothing to read")

// Poller reads many connections from one goroutine with epoll, level
// triggered: one epoll_wait returns every connection with bytes waiting,
// and each gets exactly one read. A goroutine per connection would cost a
// wake-up, a second read that finds nothing (Go's net.Conn reads until
// EAGAIN before it parks) and a park for every message — on this machine
// as much CPU as the server spends sending it. The same poller reads the
// clients of every server under test.
type Poller struct {
	epfd  int
	conns map[int]*Conn // by descriptor
}

// NewPoller makes an empty poller; Close releases it.
func NewPoller() (*Poller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &Poller{epfd: fd, conns: map[int]*Conn{}}, nil
}

// Add takes c's socket away from the Go runtime (detach) and watches it.
func (p *Poller) Add(c *Conn) error {
	if err := c.detach(); err != nil {
		return err
	}
	p.conns[c.fd] = c
	return syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd,
		&syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}) // #nosec G115 -- file descriptors are small non-negative ints (RLIMIT_NOFILE)
}

// Close releases the poller (not its connections).
func (p *Poller) Close() { syscall.Close(p.epfd) }

// Loop reads until stop is set, calling delivered with the number of
// events in each read. A connection that fails or is closed by the server
// is dropped from the poller; its events so far count.
func (p *Poller) Loop(stop *atomic.Bool, delivered func(int64)) {
	events := make([]syscall.EpollEvent, 256)
	for !stop.Load() {
		n, err := syscall.EpollWait(p.epfd, events, 50) // ms: how often stop is looked at
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			c := p.conns[int(ev.Fd)]
			k, err := c.readOnce()
			if k > 0 {
				delivered(k)
			}
			if err != nil {
				syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
				delete(p.conns, c.fd)
			}
		}
	}
}

// detach gives the poller a descriptor of its own for c's socket and
// closes the net.Conn, which takes the socket out of the Go runtime's
// epoll. Otherwise every message would also wake the runtime's poller,
// for nothing: no goroutine reads these connections any more.
func (c *Conn) detach() error {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return errors.New("no descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var fd int
	var derr error
	raw.Control(func(s uintptr) {
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		if fd, derr = syscall.Dup(int(s)); derr == nil {
			syscall.CloseOnExec(fd)
		}
	})
	if derr != nil {
		return derr
	}
	c.nc.Close() // the socket stays open: fd still refers to it
	c.fd = fd
	return nil
}

// writeFD writes a small frame to a detached socket. It is non-blocking,
// as the runtime left it; a frame that does not fit (it never happens
// with a few bytes and a reader that keeps up) is an error.
func writeFD(fd int, p []byte) error {
	n, err := syscall.Write(fd, p)
	if err == nil && n < len(p) {
		err = errors.New("short write")
	}
	return err
}

func closeFD(fd int) { syscall.Close(fd) }

// readOnce reads what the socket holds and records the complete messages
// in it; the rest of a message stays buffered for the next read.
func (c *Conn) readOnce() (events int64, err error) {
	err = c.fill(func(b []byte) (int, error) {
		n, err := syscall.Read(c.fd, b)
		if errors.Is(err, syscall.EAGAIN) {
			return 0, errNothing
		}
		if n < 0 {
			n = 0
		}
		return n, err
	})
	if err == errNothing {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := time.Now()
	for {
		msg, ok, err := c.parse()
		if err != nil || !ok {
			return events, err
		}
		k, err := c.consume(msg, now)
		events += k
		if err != nil {
			return events, err
		}
	}
}
