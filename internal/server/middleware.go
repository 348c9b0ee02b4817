package server

import (
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
)

// SessionCookie is the name of the session cookie (CONTRACT.md §5).
const SessionCookie = "bindery_session"

// contentSecurityPolicy allows scripts, styles and connections from our
// own origin only: no inline script or style, no eval, no plugins, no
// framing by others, no <base> hijack, forms post only to us. frame-src
// 'self' lets the dashboard show chapter previews (a sandboxed frame).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// outer is the middleware chain every request passes, outermost first.
func (s *Server) outer(mux http.Handler) http.Handler {
	h := s.authenticate(mux)
	h = s.csrf.Handler(h)
	h = s.requireHTTPS(h)
	h = s.checkHost(h)
	h = s.logRequests(h)
	h = s.recoverPanics(h)
	return s.securityHeaders(h)
}

// everyResponse holds the headers of every response, errors included. The keys
// are already in canonical form and the values are shared, read-only
// slices, so setting them allocates nothing (this runs on every request).
var everyResponse = map[string][]string{
	"Content-Security-Policy":      {contentSecurityPolicy},
	"X-Content-Type-Options":       {"nosniff"},
	"X-Frame-Options":              {"DENY"},
	"Referrer-Policy":              {"no-referrer"},
	"Cross-Origin-Opener-Policy":   {"same-origin"},
	"Cross-Origin-Resource-Policy": {"same-origin"},
	"Permissions-Policy":           {"camera=(), microphone=(), geolocation=(), payment=(), usb=()"},
}

// hsts is sent in production or over TLS: two years, after which browsers
// refuse plain HTTP to this host.
var hsts = []string{"max-age=63072000; includeSubDomains"}

// securityHeaders sets the headers of every response, errors included.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	strict := s.cfg.Production() || s.cfg.TLS()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range everyResponse {
			h[k] = v
		}
		if strict {
			h["Strict-Transport-Security"] = hsts
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler panic into a logged 500. The panic value
// goes through the redacting logger; the client sees a generic message.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.writeError(w, r, bindery.Errorf(bindery.EINTERNAL, "Internal error."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// checkHost refuses requests whose Host header names a host we do not
// serve. This defeats DNS rebinding (NOTES.md #2): a page on evil.example
// that rebinds its name to 127.0.0.1 still sends "Host: evil.example".
// IP literals and "localhost" are always accepted (rebinding needs a
// name), as is the public URL's host name.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowedHost(r.Host) {
			s.writeErrorStatus(w, http.StatusMisdirectedRequest, "misdirected_request",
				"This server does not answer for that host name; set BINDERY_PUBLIC_URL to the address users type.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) allowedHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	return host == "localhost" || net.ParseIP(host) != nil || host == strings.ToLower(s.hostname)
}

// requireHTTPS redirects plain-HTTP requests to the public URL in
// production. The target is built from BINDERY_PUBLIC_URL, never from the
// Host header (an open redirect, NOTES.md #11), and the scheme is learned
// from X-Forwarded-Proto only when a trusted proxy sent it (otherwise
// behind nginx every request looks like plain HTTP: a redirect loop).
// Health probes are exempt: load balancers check them over plain HTTP.
func (s *Server) requireHTTPS(next http.Handler) http.Handler {
	if !s.cfg.Production() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.addrs.IsHTTPS(r) && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			target := *s.cfg.PublicURL
			target.Path, target.RawPath, target.RawQuery = r.URL.Path, r.URL.RawPath, r.URL.RawQuery
			http.Redirect(w, r, target.String(), http.StatusPermanentRedirect)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate resolves the caller's credentials (Authorization: Bearer,
// else the session cookie) into a principal on the request context. It
// refuses nothing itself: a bad credential just means "anonymous", and the
// route's Access decides (authorize).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := credential(r)
		if tok == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.auth.Authenticate(r.Context(), tok)
		if err != nil && ErrorStatus(err) >= 500 {
			s.writeError(w, r, err)
			return
		}
		if p != nil {
			r = r.WithContext(withPrincipal(r.Context(), p))
			if !strings.HasPrefix(r.URL.Path, "/static/") {
				w = &privateWriter{ResponseWriter: w}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// privateNoStore is the Cache-Control of every authenticated response but
// static assets.
var privateNoStore = []string{"private, no-store"}

// privateWriter forces Cache-Control: private, no-store on a response to
// an authenticated request, whatever the handler set: what a signed-in
// caller gets (their books, files, the catalog and OPDS feed they may
// see, errors that confirm an object exists) must not be kept by a shared
// proxy nor stored on disk by the browser, where the next user of the
// machine or the proxy's other clients could read it. Doing it here, once,
// means a new handler cannot forget it; static assets are exempt (they
// are the same for everybody). Unwrap keeps http.ResponseController
// (deadlines, hijacking for WebSockets) working.
type privateWriter struct {
	http.ResponseWriter
	sealed bool
}

func (w *privateWriter) seal() {
	if !w.sealed {
		w.sealed = true
		w.ResponseWriter.Header()["Cache-Control"] = privateNoStore
	}
}

func (w *privateWriter) WriteHeader(code int) {
	w.seal()
	w.ResponseWriter.WriteHeader(code)
}

func (w *privateWriter) Write(b []byte) (int, error) {
	w.seal()
	return w.ResponseWriter.Write(b)
}

func (w *privateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// credential returns the bearer token or session cookie of r, or "".
func credential(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// statusWriter records the status for the request log. Unwrap keeps
// http.ResponseController (deadlines, hijacking for WebSockets) working.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs every request at debug level and server errors at
// error level. Only the path is logged, never the query string or
// headers: those are where secrets travel. (Security events — failures,
// blocks — are logged and audited where they happen.)
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if s.metrics != nil {
			// r.Pattern is set by the mux: the route table's pattern, so
			// the label's values are bounded.
			s.metrics.Request(r.Pattern, r.Method, sw.status, s.now().Sub(start))
		}
		level := s.requestLevel(sw.status)
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", s.now().Sub(start).String(), "client_addr", s.addrs.Addr(r).String())
	})
}

func (s *Server) requestLevel(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelDebug
}

// writeErrorStatus writes a JSON error with an explicit status and code,
// for the few answers that have no bindery code (421).
func (s *Server) writeErrorStatus(w http.ResponseWriter, status int, code, msg string) {
	var body errorBody
	body.Error.Code, body.Error.Message = code, msg
	writeJSON(w, status, body)
}
