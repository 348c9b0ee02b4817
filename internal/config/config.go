// Package config turns the environment into a validated Config. Every
// default and every refusal to start lives here, in one place, so that a
// reviewer can see what an operator can and cannot get away with.
//
// Nothing else in Bindery reads the environment: cli.Run passes a getenv
// function to Load, and tests pass a map.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/blob"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
)

// Config is Bindery's validated configuration. The zero value is not
// useful; build one with Load.
type Config struct {
	Host string // WEBSOCKET_HOST: address of the one server
	Port int    // WEBSOCKET_PORT: its port (0 picks a free port)

	// DashboardToken is the shared dashboard/WebSocket token. When set it
	// holds at least 32 bytes of randomness (checked by Load).
	DashboardToken string

	Env            string         // BINDERY_ENV: Development or Production
	PublicURL      *url.URL       // BINDERY_PUBLIC_URL, or derived from Host, Port and TLS
	PublicURLSet   bool           // whether PublicURL was given rather than derived
	TLSCert        string         // BINDERY_TLS_CERT: path of a PEM certificate chain
	TLSKey         string         // BINDERY_TLS_KEY: path of its PEM private key
	TrustedProxies []netip.Prefix // BINDERY_TRUSTED_PROXIES

	DataDir     string // BINDERY_DATA_DIR
	DatabaseURL string // BINDERY_DATABASE_URL; "" means SQLite in DataDir
	// S3 is the S3-compatible bucket that holds book files, artifacts,
	// editions and the image cache (BINDERY_S3_ENDPOINT, _BUCKET,
	// _REGION, _ACCESS_KEY, _SECRET_KEY); nil keeps them in DataDir.
	S3 *blob.S3Config

	EncryptionKey         string   // ENCRYPTION_KEY (Fernet), may be empty in development
	EncryptionKeyPrevious []string // ENCRYPTION_KEY_PREVIOUS

	Ideogram Ideogram

	// Limits bound a book's content and the cost of building it (the
	// BINDERY_MAX_… variables of limits.go).
	Limits Limits

	MaxUploadBytes int64 // BINDERY_MAX_UPLOAD_BYTES
	BookMaxFiles   int   // BINDERY_BOOK_MAX_FILES: files per book
	BookMaxBytes   int64 // BINDERY_BOOK_MAX_BYTES: bytes per book
	// MinFreeBytes is BINDERY_MIN_FREE_BYTES: below this much free space
	// in the data folder, /readyz reports not ready (0: not checked).
	MinFreeBytes     int64
	LoginMaxFailures int           // BINDERY_LOGIN_MAX_FAILURES
	LoginWindow      time.Duration // BINDERY_LOGIN_WINDOW
	BlockDuration    time.Duration // BINDERY_BLOCK_DURATION
	SessionTTL       time.Duration // BINDERY_SESSION_TTL: absolute session lifetime
	SessionIdle      time.Duration // BINDERY_SESSION_IDLE: idle session lifetime

	PublicCatalog bool // BINDERY_PUBLIC_CATALOG: /catalog and /opds without signing in
	// RequireTwoFactor is BINDERY_REQUIRE_TWO_FACTOR: "" (nobody must),
	// "admins" or "all".
	RequireTwoFactor string
	Workers          int           // BINDERY_WORKERS: runs executed at once
	UserMaxActive    int           // BINDERY_USER_MAX_ACTIVE_RUNS: runs one user may have queued, running or paused; 0: no limit
	KeepRuns         int           // BINDERY_KEEP_RUNS: finished runs per book whose files are kept
	EventRetention   time.Duration // BINDERY_EVENT_RETENTION: how long run events are kept
	AuditRetention   time.Duration // BINDERY_AUDIT_RETENTION: how long audit entries are kept; 0 keeps them forever
	// RunHandOverAfter is BINDERY_RUN_HANDOVER_AFTER: with several nodes
	// on one PostgreSQL database, how long a running run's execution may
	// go without a heartbeat before another node takes the run over (its
	// node died). At least MinRunHandOverAfter. Unused with SQLite.
	RunHandOverAfter time.Duration

	LogFile   string // BINDERY_LOG_FILE
	LogLevel  string // BINDERY_LOG_LEVEL: debug, info, warn or error
	LogFormat string // BINDERY_LOG_FORMAT: text or json
}

// Ideogram holds the image-generation API keys. Versions and the pointer
// to the current one are kept apart (the original kept "current" in the
// same map as the keys, see NOTES.md #4).
type Ideogram struct {
	Keys           map[string]string // version ("v1", "v2", …) → key; "" for the unversioned IDEOGRAM_API_KEY
	CurrentVersion string
	BaseURL        string
}

// CurrentKey returns the key to use now, or "" when none is configured.
func (i Ideogram) CurrentKey() string { return i.Keys[i.CurrentVersion] }

// Production reports whether BINDERY_ENV=production.
func (c *Config) Production() bool { return c.Env == Production }

// TLS reports whether the server terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" }

// Addr is the listen address, host:port.
func (c *Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// Loopback reports whether the server listens on a loopback address only.
func (c *Config) Loopback() bool { return isLoopbackHost(c.Host) }

// BooksDir is where book folders live.
func (c *Config) BooksDir() string { return filepath.Join(c.DataDir, "books") }

// DatabasePath is the SQLite file used when DatabaseURL is empty.
func (c *Config) DatabasePath() string { return filepath.Join(c.DataDir, "bindery.db") }

// Secrets returns every configured secret value, for the log redactor:
// whatever shape a secret has, its literal value never reaches a log.
func (c *Config) Secrets() []string {
	s := []string{c.DashboardToken, c.EncryptionKey, c.DatabaseURL}
	if u, err := url.Parse(c.DatabaseURL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			s = append(s, pw) // alone too: a driver's message may quote it
		}
	}
	s = append(s, c.EncryptionKeyPrevious...)
	if c.S3 != nil {
		s = append(s, string(c.S3.SecretKey))
	}
	for _, k := range c.Ideogram.Keys {
		s = append(s, k)
	}
	out := s[:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// MinRunHandOverAfter is the shortest BINDERY_RUN_HANDOVER_AFTER: five
// of a running execution's heartbeats (pipeline.Config.HeartbeatInterval,
// 2 s). Shorter, a node merely slowed down (a long garbage collection, a
// busy disk, a database fail-over) would see its runs taken over while it
// still executes them; the lease keeps that safe, but the work is done
// twice.
const MinRunHandOverAfter = 10 * time.Second

// maxVersionedKeys bounds the scan for IDEOGRAM_API_KEY_V1…Vn.
const maxVersionedKeys = 99

// Load reads the configuration through getenv, applies defaults, and
// validates it. Every error names the variable at fault and never contains
// the value of a secret. Every variable X may be given as X_FILE instead.
func Load(getenv func(string) string) (*Config, error) {
	l := &loader{getenv: getenv}
	c := &Config{
		Host:             l.str("WEBSOCKET_HOST", "127.0.0.1"),
		Port:             l.port("WEBSOCKET_PORT", 8765),
		DashboardToken:   l.secret("DASHBOARD_TOKEN"),
		Env:              l.oneOf("BINDERY_ENV", Development, Development, Production),
		TLSCert:          l.str("BINDERY_TLS_CERT", ""),
		TLSKey:           l.str("BINDERY_TLS_KEY", ""),
		TrustedProxies:   l.prefixes("BINDERY_TRUSTED_PROXIES"),
		DataDir:          l.str("BINDERY_DATA_DIR", "./bindery-data"),
		DatabaseURL:      l.secret("BINDERY_DATABASE_URL"),
		EncryptionKey:    l.secret("ENCRYPTION_KEY"),
		MaxUploadBytes:   l.int64("BINDERY_MAX_UPLOAD_BYTES", 50<<20, 1),
		BookMaxFiles:     int(l.int64("BINDERY_BOOK_MAX_FILES", 2000, 1)),
		BookMaxBytes:     l.int64("BINDERY_BOOK_MAX_BYTES", 1<<30, 1),
		MinFreeBytes:     l.int64("BINDERY_MIN_FREE_BYTES", 256<<20, 0),
		LoginMaxFailures: int(l.int64("BINDERY_LOGIN_MAX_FAILURES", 5, 1)),
		LoginWindow:      l.duration("BINDERY_LOGIN_WINDOW", 15*time.Minute),
		BlockDuration:    l.duration("BINDERY_BLOCK_DURATION", 15*time.Minute),
		SessionTTL:       l.duration("BINDERY_SESSION_TTL", 24*time.Hour),
		SessionIdle:      l.duration("BINDERY_SESSION_IDLE", 2*time.Hour),
		PublicCatalog:    l.oneOf("BINDERY_PUBLIC_CATALOG", "false", "false", "true") == "true",
		RequireTwoFactor: strings.TrimPrefix(l.oneOf("BINDERY_REQUIRE_TWO_FACTOR", "none", "none", "admins", "all"), "none"),
		Workers:          int(l.int64("BINDERY_WORKERS", 2, 1)),
		UserMaxActive:    int(l.int64("BINDERY_USER_MAX_ACTIVE_RUNS", 4, 0)),
		KeepRuns:         int(l.int64("BINDERY_KEEP_RUNS", 5, 1)),
		EventRetention:   l.duration("BINDERY_EVENT_RETENTION", 30*24*time.Hour),
		AuditRetention:   l.retention("BINDERY_AUDIT_RETENTION", 365*24*time.Hour),
		RunHandOverAfter: l.duration("BINDERY_RUN_HANDOVER_AFTER", 30*time.Second),
		LogFile:          l.str("BINDERY_LOG_FILE", ""),
		LogLevel:         l.oneOf("BINDERY_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:        l.oneOf("BINDERY_LOG_FORMAT", "text", "text", "json"),
	}
	if prev := l.secret("ENCRYPTION_KEY_PREVIOUS"); prev != "" {
		for _, k := range strings.Split(prev, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.EncryptionKeyPrevious = append(c.EncryptionKeyPrevious, k)
			}
		}
	}
	c.Ideogram = l.ideogram()
	c.Limits = l.limits()
	if l.err == nil {
		s3, ok, err := blob.S3ConfigFromEnv(getenv)
		switch {
		case err != nil:
			l.err = err // names the setting, never its value
		case ok:
			c.S3 = &s3
		}
	}
	l.check(c)
	if l.err != nil {
		return nil, l.err
	}
	return c, nil
}

// check applies the cross-variable rules, in the order an operator would
// want to fix them.
func (l *loader) check(c *Config) {
	if l.err != nil {
		return
	}
	if c.Host == "" {
		l.fail("WEBSOCKET_HOST", "must not be empty")
		return
	}
	if c.DashboardToken != "" {
		if err := CheckTokenStrength(c.DashboardToken); err != nil {
			l.fail("DASHBOARD_TOKEN", err.Error())
			return
		}
	} else if !c.Loopback() {
		// NOTES.md #1: without a token the original let anyone in.
		l.fail("DASHBOARD_TOKEN", fmt.Sprintf("is required when WEBSOCKET_HOST (%s) is not a loopback address; generate one with `bindery keys generate`", c.Host))
		return
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		l.fail("BINDERY_TLS_CERT", "and BINDERY_TLS_KEY must be set together")
		return
	}
	if c.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			l.fail("BINDERY_TLS_CERT", "and BINDERY_TLS_KEY do not hold a usable certificate and key: "+tlsErrText(err))
			return
		}
	}
	if c.Production() && !c.TLS() && len(c.TrustedProxies) == 0 {
		l.fail("BINDERY_ENV", "production requires HTTPS: set BINDERY_TLS_CERT and BINDERY_TLS_KEY, or BINDERY_TRUSTED_PROXIES for a TLS-terminating proxy")
		return
	}
	if c.SessionIdle > c.SessionTTL {
		l.fail("BINDERY_SESSION_IDLE", "must not exceed BINDERY_SESSION_TTL")
		return
	}
	if c.RunHandOverAfter < MinRunHandOverAfter {
		l.fail("BINDERY_RUN_HANDOVER_AFTER", fmt.Sprintf("must be at least %s: a live run records a heartbeat every 2 s, and a node slowed down for a few heartbeats must not lose its runs to another", MinRunHandOverAfter))
		return
	}
	if c.DatabaseURL != "" {
		if reason := databaseURLProblem(c.DatabaseURL); reason != "" {
			l.fail("BINDERY_DATABASE_URL", reason)
			return
		}
	}
	c.PublicURL, c.PublicURLSet = l.publicURL(c)
	if c.Production() && c.EncryptionKey == "" {
		// In development a key file is generated in the data folder; in
		// production that would put the key next to the data it protects.
		l.fail("ENCRYPTION_KEY", "is required in production (generate one with `bindery keys generate`); a key file beside the data would protect nothing")
	}
}

// databaseURLProblem says what is wrong with a BINDERY_DATABASE_URL, ""
// when nothing is. The reason never quotes the value: it may hold the
// database password.
func databaseURLProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL; use postgres://user:password@host:5432/database?sslmode=verify-full"
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		return "must be a postgres:// URL (PostgreSQL); unset it to use the SQLite database in BINDERY_DATA_DIR"
	case u.Host == "" && u.Query().Get("host") == "":
		return "names no host: postgres://user:password@host:5432/database, or ?host=/run/postgresql for a Unix socket"
	}
	return ""
}

// tlsErrText keeps the reason but not any PEM content.
func tlsErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + " " + pe.Path + ": " + pe.Err.Error()
	}
	return "not a valid PEM certificate and key pair"
}

func (l *loader) publicURL(c *Config) (*url.URL, bool) {
	raw := l.str("BINDERY_PUBLIC_URL", "")
	if raw == "" {
		if c.Production() && !c.TLS() {
			l.fail("BINDERY_PUBLIC_URL", "is required in production behind a proxy: it is where plain HTTP is redirected")
			return nil, false
		}
		scheme := "http"
		if c.TLS() {
			scheme = "https"
		}
		host := c.Host
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
			host = "localhost"
		}
		return &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(c.Port))}, false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		l.fail("BINDERY_PUBLIC_URL", fmt.Sprintf("%q is not an http(s) URL of the form https://host[:port]", clip(raw)))
		return nil, false
	}
	if c.Production() && u.Scheme != "https" {
		l.fail("BINDERY_PUBLIC_URL", "must be https:// in production")
		return nil, false
	}
	u.Path = ""
	return u, true
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// clip shortens a non-secret value for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
