package clientaddr_test

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/clientaddr"
)

func resolver(cidrs ...string) *clientaddr.Resolver {
	r := &clientaddr.Resolver{}
	for _, c := range cidrs {
		r.Trusted = append(r.Trusted, netip.MustParsePrefix(c))
	}
	return r
}

func TestAddr(t *testing.T) {
	cases := []struct {
		name    string
		trusted []string
		peer    string
		xff     []string
		realIP  string
		want    string
	}{
		{"no proxy", nil, "198.51.100.9:5000", nil, "", "198.51.100.9"},
		{"untrusted peer's headers ignored", nil, "198.51.100.9:5000", []string{"203.0.113.1"}, "203.0.113.2", "198.51.100.9"},
		{"trusted proxy, XFF", []string{"10.0.0.0/8"}, "10.0.0.2:443", []string{"203.0.113.1"}, "", "203.0.113.1"},
		{"client prepends a lie", []string{"10.0.0.0/8"}, "10.0.0.2:443", []string{"1.1.1.1, 203.0.113.1"}, "", "203.0.113.1"},
		{"chain of trusted proxies", []string{"10.0.0.0/8"}, "10.0.0.2:443", []string{"203.0.113.1, 10.0.0.7"}, "", "203.0.113.1"},
		{"repeated headers", []string{"10.0.0.0/8"}, "10.0.0.2:443", []string{"1.1.1.1", "203.0.113.1"}, "", "203.0.113.1"},
		{"garbage stops the walk", []string{"10.0.0.0/8"}, "10.0.0.2:443", []string{"203.0.113.1, junk"}, "", "10.0.0.2"},
		{"X-Real-IP from trusted proxy", []string{"127.0.0.1/32"}, "127.0.0.1:9", nil, "203.0.113.5", "203.0.113.5"},
		{"bad X-Real-IP", []string{"127.0.0.1/32"}, "127.0.0.1:9", nil, "nope", "127.0.0.1"},
		{"IPv4-mapped peer", nil, "[::ffff:192.0.2.1]:80", nil, "", "192.0.2.1"},
		{"IPv6 peer", nil, "[2001:db8::1]:80", nil, "", "2001:db8::1"},
		{"all trusted", []string{"10.0.0.0/8"}, "10.0.0.2:443", []string{"10.0.0.3"}, "", "10.0.0.3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.realIP != "" {
				r.Header.Set("X-Real-IP", tc.realIP)
			}
			if got := resolver(tc.trusted...).Addr(r).String(); got != tc.want {
				t.Fatalf("Addr = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestIsHTTPS(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "198.51.100.9:1"
	r.Header.Set("X-Forwarded-Proto", "https")
	if resolver().IsHTTPS(r) {
		t.Error("X-Forwarded-Proto believed from an untrusted peer")
	}
	if !resolver("198.51.100.0/24").IsHTTPS(r) {
		t.Error("X-Forwarded-Proto ignored from a trusted proxy")
	}
	r.Header.Del("X-Forwarded-Proto")
	r.TLS = &tls.ConnectionState{}
	if !resolver().IsHTTPS(r) {
		t.Error("direct TLS not recognised")
	}
}

func TestKeyGroupsIPv6By64(t *testing.T) {
	a := clientaddr.Key(netip.MustParseAddr("2001:db8:1:2:aaaa::1"))
	b := clientaddr.Key(netip.MustParseAddr("2001:db8:1:2:bbbb::2"))
	c := clientaddr.Key(netip.MustParseAddr("2001:db8:1:3::1"))
	if a != b || a == c {
		t.Fatalf("keys %v %v %v", a, b, c)
	}
	if k := clientaddr.Key(netip.MustParseAddr("192.0.2.1")); k.Bits() != 32 {
		t.Fatalf("IPv4 key %v", k)
	}
}

// FuzzAddr: whatever the headers, an untrusted peer is always its own
// address, and a trusted peer yields either itself or an address that
// appears in the headers.
func FuzzAddr(f *testing.F) {
	f.Add("10.0.0.2:443", "203.0.113.1, 10.0.0.3", "203.0.113.9")
	f.Add("198.51.100.9:1", "1.1.1.1", "")
	f.Add("[::1]:80", ",,,", "::ffff:1.2.3.4")
	f.Add("garbage", "%zz", "fe80::1%eth0")
	f.Fuzz(func(t *testing.T, peer, xff, realIP string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("X-Real-IP", realIP)
		p := clientaddr.Peer(r)
		if got := resolver().Addr(r); got != p {
			t.Fatalf("untrusted: Addr = %v, peer %v", got, p)
		}
		tr := resolver("10.0.0.0/8", "::1/128")
		got := tr.Addr(r)
		if got != p && !containsAddr(xff+","+realIP, got) {
			t.Fatalf("trusted: Addr = %v appears nowhere in the request", got)
		}
	})
}

func containsAddr(s string, a netip.Addr) bool {
	for _, part := range strings.Split(s, ",") {
		if b, err := netip.ParseAddr(strings.TrimSpace(part)); err == nil && b.Unmap().WithZone("") == a {
			return true
		}
	}
	return false
}
