// Package clientaddr decides which address a request came from.
//
// The brute-force defence keys on this address, so it must not be
// forgeable: forwarding headers (X-Forwarded-For, X-Real-IP,
// X-Forwarded-Proto) are believed only when the TCP peer is one of the
// configured trusted proxies (NOTES.md #3). Otherwise any client could
// claim a fresh address with every request and never be blocked.
package clientaddr

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxHops bounds how many X-Forwarded-For entries are examined, so a
// header stuffed with thousands of addresses costs nothing.
const maxHops = 16

// Resolver finds client addresses. The zero value trusts no proxy.
type Resolver struct {
	Trusted []netip.Prefix
}

// trusted reports whether a is inside a trusted prefix.
func (r *Resolver) trusted(a netip.Addr) bool {
	for _, p := range r.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer parses the TCP peer of a request; the zero Addr if it cannot.
func Peer(req *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// Addr returns the client's address. For a peer that is not a trusted
// proxy it is the peer itself. For a trusted peer it walks X-Forwarded-For
// from the right (the entries nearest us, added by proxies we trust) and
// returns the first address that is not itself a trusted proxy; without
// that header it uses X-Real-IP. Malformed entries end the walk at the
// last trusted hop: a garbled header never yields an address the client
// chose.
func (r *Resolver) Addr(req *http.Request) netip.Addr {
	peer := Peer(req)
	if !peer.IsValid() || !r.trusted(peer) {
		return peer
	}
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		hops := splitHops(xff)
		client := peer
		for i := len(hops) - 1; i >= 0 && len(hops)-i <= maxHops; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			client = a.Unmap().WithZone("")
			if !r.trusted(client) {
				break
			}
		}
		return client
	}
	if xr := strings.TrimSpace(req.Header.Get("X-Real-IP")); xr != "" {
		if a, err := netip.ParseAddr(xr); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	return peer
}

// splitHops flattens repeated X-Forwarded-For headers into one list,
// keeping at most maxHops of the rightmost entries.
func splitHops(values []string) []string {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) > maxHops {
		hops = hops[len(hops)-maxHops:]
	}
	return hops
}

// IsHTTPS reports whether the client reached us over HTTPS: a TLS
// connection to us, or X-Forwarded-Proto: https from a trusted proxy.
func (r *Resolver) IsHTTPS(req *http.Request) bool {
	if req.TLS != nil {
		return true
	}
	peer := Peer(req)
	if !peer.IsValid() || !r.trusted(peer) {
		return false
	}
	return strings.EqualFold(strings.TrimSpace(req.Header.Get("X-Forwarded-Proto")), "https")
}

// Key is the address used for rate limiting: IPv4 addresses as they are,
// IPv6 addresses reduced to their /64, because one subscriber commonly
// holds a whole /64 and could otherwise rotate through 2^64 addresses.
func Key(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}
