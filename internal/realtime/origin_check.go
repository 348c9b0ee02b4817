package realtime

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// originPolicy decides which pages may open a WebSocket and under which
// host names the server answers (NOTES.md #2).
//
// A browser sends Origin with every WebSocket handshake and lets any page
// connect anywhere, cookies included: without this check a page on
// another site, open in the user's own browser, could read the dashboard's
// stream (cross-site WebSocket hijacking), even on loopback. The Host check
// defeats DNS rebinding: a page on evil.example whose name now points at
// 127.0.0.1 still sends "Host: evil.example" (and an Origin that matches
// it, which is why Origin == Host, coder/websocket's own rule, is not
// enough on its own).
type originPolicy struct {
	origins  map[string]bool // normalised "scheme://host[:port]"
	patterns []string        // the same, as coder/websocket OriginPatterns
	hosts    map[string]bool // lower-case host names, without port
}

func newOriginPolicy(public *url.URL, origins, hosts []string) (*originPolicy, error) {
	if public == nil || public.Host == "" {
		return nil, fmt.Errorf("realtime: PublicURL is required")
	}
	p := &originPolicy{origins: map[string]bool{}, hosts: map[string]bool{}}
	all := append([]string{public.Scheme + "://" + public.Host}, origins...)
	for _, o := range all {
		n, ok := normalizeOrigin(o)
		if !ok {
			return nil, fmt.Errorf("realtime: %q is not an origin (scheme://host[:port])", o)
		}
		if p.origins[n] {
			continue
		}
		p.origins[n] = true
		p.patterns = append(p.patterns, matchLiteral(n))
		// coder/websocket compares the Origin as sent; a client may spell
		// out the default port.
		if u, _ := url.Parse(n); u.Port() == "" {
			p.patterns = append(p.patterns, matchLiteral(n+":"+defaultPort(u.Scheme)))
		}
	}
	p.hosts[normalizeHost(public.Hostname())] = true
	for _, h := range hosts {
		if n := normalizeHost(h); n != "" {
			p.hosts[n] = true
		}
	}
	return p, nil
}

// allowedOrigin reports whether origin is one of ours or allowlisted.
func (p *originPolicy) allowedOrigin(origin string) bool {
	n, ok := normalizeOrigin(origin)
	return ok && p.origins[n]
}

// allowedHost reports whether the Host header names this server: a
// configured name, "localhost", or an IP literal (rebinding needs a name).
func (p *originPolicy) allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = normalizeHost(host)
	if host == "" {
		return false
	}
	return host == "localhost" || net.ParseIP(host) != nil || p.hosts[host]
}

func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// normalizeOrigin returns s as "scheme://host[:port]", lower case, without
// a default port; ok is false for anything that is not an http(s) origin,
// including "null" (sandboxed frames, file: pages).
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && port != defaultPort(scheme) {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// matchLiteral escapes s for path.Match, which coder/websocket uses for
// OriginPatterns ("[" of an IPv6 literal would otherwise open a class).
func matchLiteral(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
