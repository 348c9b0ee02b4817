package config

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxSecretFileBytes bounds X_FILE reads.
const maxSecretFileBytes = 64 << 10

// loader reads variables and keeps the first error, so Load reads as a
// list of fields rather than a ladder of if err != nil.
type loader struct {
	getenv func(string) string
	err    error
}

// VarError is a configuration error about one variable. Its text never
// contains a secret value.
type VarError struct {
	Var    string
	Reason string
}

func (e *VarError) Error() string { return "configuration: " + e.Var + " " + e.Reason }

func (l *loader) fail(name, reason string) {
	if l.err == nil {
		l.err = &VarError{Var: name, Reason: reason}
	}
}

// lookup returns the value of name, or the content of the file named by
// name_FILE. Setting both is an error: silently preferring one would hide
// a stale secret.
func (l *loader) lookup(name string) string {
	v := l.getenv(name)
	path := l.getenv(name + "_FILE")
	if path == "" {
		return strings.TrimSpace(v)
	}
	if v != "" {
		l.fail(name, "and "+name+"_FILE are both set; set only one")
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		l.fail(name+"_FILE", fmt.Sprintf("cannot be read: %v", err))
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFileBytes+1))
	if err != nil {
		l.fail(name+"_FILE", fmt.Sprintf("cannot be read: %v", err))
		return ""
	} else if len(data) > maxSecretFileBytes {
		l.fail(name+"_FILE", fmt.Sprintf("is larger than %d bytes", maxSecretFileBytes))
		return ""
	}
	return strings.TrimSpace(string(data))
}

func (l *loader) str(name, def string) string {
	if v := l.lookup(name); v != "" {
		return v
	}
	return def
}

// secret is str for values that must never be echoed.
func (l *loader) secret(name string) string { return l.lookup(name) }

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, fmt.Sprintf("is %q; use one of %s", clip(v), strings.Join(allowed, ", ")))
	return def
}

func (l *loader) port(name string, def int) int {
	v := l.lookup(name)
	if v == "" {
		return def
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 0 || p > 65535 {
		l.fail(name, fmt.Sprintf("is %q; a port is a number from 0 to 65535", clip(v)))
		return def
	}
	return p
}

func (l *loader) int64(name string, def, min int64) int64 {
	v := l.lookup(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		l.fail(name, fmt.Sprintf("is %q; expected a whole number ≥ %d", clip(v), min))
		return def
	}
	return n
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := l.lookup(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(name, fmt.Sprintf("is %q; expected a positive duration such as 90s, 15m or 24h", clip(v)))
		return def
	}
	return d
}

// retention is duration for how long something is kept, where 0 (or
// "0s") means forever.
func (l *loader) retention(name string, def time.Duration) time.Duration {
	v := l.lookup(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		l.fail(name, fmt.Sprintf("is %q; expected a duration such as 8760h (a year), or 0 to keep forever", clip(v)))
		return def
	}
	return d
}

// prefixes parses a comma-separated list of CIDRs or single addresses.
func (l *loader) prefixes(name string) []netip.Prefix {
	v := l.lookup(name)
	if v == "" {
		return nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			l.fail(name, fmt.Sprintf("has %q, which is neither a CIDR (10.0.0.0/8) nor an address", clip(part)))
			return nil
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}

// ideogram reads IDEOGRAM_API_KEY or the versioned IDEOGRAM_API_KEY_Vn
// with IDEOGRAM_API_KEY_CURRENT_VERSION. A current version that names no
// key, or versioned keys without a current version, is an error naming the
// variable (NOTES.md #4: the original silently used None).
func (l *loader) ideogram() Ideogram {
	ig := Ideogram{Keys: map[string]string{}, BaseURL: l.str("IDEOGRAM_BASE_URL", "https://api.ideogram.ai")}
	if k := l.secret("IDEOGRAM_API_KEY"); k != "" {
		ig.Keys[""] = k
	}
	for i := 1; i <= maxVersionedKeys; i++ {
		name := fmt.Sprintf("IDEOGRAM_API_KEY_V%d", i)
		if k := l.secret(name); k != "" {
			ig.Keys[fmt.Sprintf("v%d", i)] = k
		}
	}
	cur := strings.ToLower(l.str("IDEOGRAM_API_KEY_CURRENT_VERSION", ""))
	switch {
	case cur != "":
		if ig.Keys[cur] == "" {
			l.fail("IDEOGRAM_API_KEY_CURRENT_VERSION", fmt.Sprintf("is %q but IDEOGRAM_API_KEY_%s is not set", clip(cur), strings.ToUpper(clip(cur))))
		}
		ig.CurrentVersion = cur
	case len(ig.Keys) > 1 || (len(ig.Keys) == 1 && ig.Keys[""] == ""):
		l.fail("IDEOGRAM_API_KEY_CURRENT_VERSION", "must name the key version to use (for example v2) when IDEOGRAM_API_KEY_V1… are set")
	}
	if _, err := parseHTTPURL(ig.BaseURL); err != nil {
		l.fail("IDEOGRAM_BASE_URL", fmt.Sprintf("is %q; expected an http(s) URL", clip(ig.BaseURL)))
	}
	return ig
}
