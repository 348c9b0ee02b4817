package logging

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
)

// Options configures New.
type Options struct {
	Level   string   // debug, info, warn or error; default info
	Format  string   // text or json; default text
	File    string   // when set, records also go to this file (created 0600)
	Secrets []string // literal secret values to redact wherever they appear
}

// New returns a logger writing to stderr (and Options.File) through the
// redacting Handler, and a close function for the file. The file is opened
// for appending with mode 0600: logs name users and addresses.
func New(stderr io.Writer, o Options) (*slog.Logger, func() error, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToLower(o.Level))); err != nil && o.Level != "" {
		return nil, nil, fmt.Errorf("log level %q: %w", o.Level, err)
	}
	w, closeFn := stderr, func() error { return nil }
	if o.File != "" {
		f, err := os.OpenFile(o.File, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("opening BINDERY_LOG_FILE: %w", err)
		}
		// An existing file keeps its mode on open; tighten it.
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("BINDERY_LOG_FILE: %w", err)
		}
		w, closeFn = io.MultiWriter(stderr, f), f.Close
	}
	ho := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(w, ho)
	if strings.EqualFold(o.Format, "json") {
		h = slog.NewJSONHandler(w, ho)
	}
	return slog.New(NewHandler(h, NewRedactor(o.Secrets...))), closeFn, nil
}

// StdLogger returns a *log.Logger (for http.Server.ErrorLog) whose output
// goes through logger at the given level, so the standard library's
// messages are redacted like ours.
func StdLogger(logger *slog.Logger, level slog.Level) *log.Logger {
	return log.New(&stdWriter{l: logger, level: level}, "", 0)
}

type stdWriter struct {
	l     *slog.Logger
	level slog.Level
}

func (w *stdWriter) Write(p []byte) (int, error) {
	w.l.Log(context.Background(), w.level, strings.TrimRight(string(p), "\n"), "source", "net/http")
	return len(p), nil
}
