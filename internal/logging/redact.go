// Package logging builds Bindery's slog logger: text or JSON to standard
// error and optionally to a file, every record passed through a redacting
// handler first.
//
// Why redaction lives in a handler and not at call sites: the original
// filtered only the message and only "api_key=" (NOTES.md #13), so secrets
// passed as arguments leaked. A handler sees every attribute of every
// record, from every package, including the standard library's error log
// (which we route through slog too).
package logging

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
)

// Redacted replaces every secret the redactor finds.
const Redacted = "[REDACTED]"

// secretKeys are substrings of attribute keys whose values are always
// redacted, whatever they look like.
var secretKeys = []string{
	"password", "passwd", "secret", "token", "authorization", "cookie",
	"api_key", "apikey", "credential", "encryption_key", "private_key", "session_id",
}

// secretShapes match secrets inside free text: header values, key=value
// pairs, and the prefixes of Bindery's and common providers' tokens. The
// first group, when present, is kept (it names what was redacted).
var secretShapes = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(authorization\s*[:=]\s*)("[^"]*"|\S+(\s+\S+)?)`),
	regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`),
	regexp.MustCompile(`(?i)((?:set-)?cookie\s*[:=]\s*)[^\n]+`),
	regexp.MustCompile(`(?i)((?:api[_-]?key|apikey|password|passwd|secret|token|access_token|refresh_token|key)\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)`),
	regexp.MustCompile(`(bindery_(?:pat|ses|setup)_)[A-Za-z0-9_-]+`),
	regexp.MustCompile(`()\bsk-[A-Za-z0-9_-]{8,}`),
	regexp.MustCompile(`()\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), // JWT
}

// Redactor removes secrets from strings. Its zero value redacts shapes but
// knows no literal secret values.
type Redactor struct {
	literals []string
}

// NewRedactor returns a Redactor that also removes each of the given
// literal values (the configured secrets themselves), whatever their
// shape. Values shorter than 8 bytes are ignored: redacting "abc"
// everywhere would shred logs without protecting anything.
func NewRedactor(literals ...string) *Redactor {
	r := &Redactor{}
	for _, l := range literals {
		if len(l) >= 8 {
			r.literals = append(r.literals, l)
		}
	}
	return r
}

// String returns s with every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	for _, l := range r.literals {
		if strings.Contains(s, l) {
			s = strings.ReplaceAll(s, l, Redacted)
		}
	}
	if !mayHoldSecret(s) {
		return s
	}
	for _, re := range secretShapes {
		s = re.ReplaceAllString(s, "${1}"+Redacted)
	}
	return s
}

// mayHoldSecret is a cheap pre-filter so that the common log line (a path,
// a status) skips the regular expressions.
func mayHoldSecret(s string) bool {
	if len(s) < 8 {
		return false
	}
	l := strings.ToLower(s)
	for _, k := range []string{"auth", "bearer", "cookie", "key", "pass", "secret", "token", "bindery_", "sk-", "eyj"} {
		if strings.Contains(l, k) {
			return true
		}
	}
	return false
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// Attr returns a with secrets removed: by key name, then by shape and
// literal value in string content, recursing into groups. Values of other
// kinds are rendered to text first when they might carry a secret (errors,
// Stringers, arbitrary structs).
func (r *Redactor) Attr(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if secretKey(a.Key) && a.Value.Kind() != slog.KindGroup {
		return slog.String(a.Key, Redacted)
	}
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(r.String(a.Value.String()))
	case slog.KindGroup:
		attrs := a.Value.Group()
		out := make([]slog.Attr, len(attrs))
		for i, g := range attrs {
			out[i] = r.Attr(g)
		}
		a.Value = slog.GroupValue(out...)
	case slog.KindAny:
		// errors, fmt.Stringers, maps, structs: their text is what a
		// handler would print, so redact that text.
		a.Value = slog.StringValue(r.String(a.Value.String()))
	}
	return a
}

// Handler is a slog.Handler that redacts every record before passing it
// on. Attributes added with WithAttrs are redacted once, when added.
type Handler struct {
	next slog.Handler
	r    *Redactor
}

// NewHandler wraps next so that nothing reaches it unredacted.
func NewHandler(next slog.Handler, r *Redactor) *Handler { return &Handler{next: next, r: r} }

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.r.Attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.r.Attr(a)
	}
	return &Handler{next: h.next.WithAttrs(red), r: h.r}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), r: h.r}
}
