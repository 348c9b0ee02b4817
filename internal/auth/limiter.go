package auth

import (
	"net/netip"
	"sync"
	"time"

	"github.com/bindery/bindery/internal/clientaddr"
)

// Limiter counts events per client address (an IPv4 address or an IPv6
// /64) in fixed windows, in bounded memory: each address costs one small
// entry of an LRU of Capacity entries.
//
// It is the brute-force Guard's counterpart for events that are not
// guesses at a credential — WebSocket handshakes refused for their Origin
// or Host — which must be bounded (each is logged and audited) but must
// never lock anybody out of signing in: any web page a user opens can make
// their browser send such handshakes.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	addrs *lru[netip.Prefix, limiterWindow]
}

type limiterWindow struct {
	start time.Time
	n     int
}

// NewLimiter returns a Limiter allowing max events per window and
// address, remembering at most capacity addresses (default 16384). now
// defaults to time.Now.
func NewLimiter(max int, window time.Duration, capacity int, now func() time.Time) *Limiter {
	if capacity <= 0 {
		capacity = 16384
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, now: now, addrs: newLRU[netip.Prefix, limiterWindow](capacity)}
}

// Hit records one event from addr. over is true when the address has gone
// beyond the limit in the current window, retry is then how long until the
// window ends; first is true for the one event that crossed the limit (so
// that the crossing is reported once, not once per event).
func (l *Limiter) Hit(addr netip.Addr) (over, first bool, retry time.Duration) {
	k := clientaddr.Key(addr)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, _ := l.addrs.get(k)
	if w.n == 0 || now.Sub(w.start) >= l.window || now.Before(w.start) {
		w = limiterWindow{start: now}
	}
	w.n++
	l.addrs.put(k, w)
	if w.n <= l.max {
		return false, false, 0
	}
	return true, w.n == l.max+1, w.start.Add(l.window).Sub(now)
}
