package realtime

import (
	"context"

	"github.com/bindery/bindery/internal/bindery"
)

// Authenticator resolves a credential — a session cookie value, an API
// token, or whatever else the integrator accepts — to a Viewer. It returns
// an error (EUNAUTHORIZED) for an unknown, expired or revoked credential and
// is never called with an empty one. The DASHBOARD_TOKEN is not its
// business: Handler compares it itself (HandlerOptions.DashboardToken).
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (Viewer, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, credential string) (Viewer, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, credential string) (Viewer, error) {
	return f(ctx, credential)
}

// Viewer is who is connected. CanRead and CanWrite are asked for every
// event and every command: the hub calls CanRead while it holds its lock,
// once per event and client, so both must answer from memory, quickly,
// without blocking (a snapshot of the user's role and books taken at
// authentication, or a cache). Events without a book (BookID 0) reach a
// viewer only if CanRead(0) is true. Implementations must be safe for
// concurrent use.
type Viewer interface {
	// CanRead reports whether the viewer may see the book's runs and events.
	CanRead(bookID int64) bool
	// CanWrite reports whether the viewer may start, pause, resume and
	// stop the book's runs.
	CanWrite(bookID int64) bool
	// ID names the viewer in logs and audit entries ("user:42",
	// "dashboard-token"). It must never contain a secret.
	ID() string
}

// Backend answers the protocol's questions and carries out its commands.
// Handler has already checked the viewer's right on the book before it
// calls Control or RunLogs; implementations may check again. Errors should
// be *bindery.Error: their Message is shown to the client, anything else
// becomes "Internal error.".
type Backend interface {
	// ActiveRuns lists the runs that are queued, running or paused. The
	// handler drops every run whose book the viewer may not read, so an
	// implementation may return all of them.
	ActiveRuns(ctx context.Context, v Viewer) ([]bindery.Run, error)
	// RunBook returns the book a run belongs to, or ENOTFOUND. Handler
	// uses it to authorise get_logs and pipeline_control on the run's
	// real book, never on a book id the client claims.
	RunBook(ctx context.Context, runID int64) (bookID int64, err error)
	// Control carries out command ("start", "pause", "resume", "stop") on
	// a run (runID 0 for start) of bookID. For every command but start,
	// bookID is the run's own book as RunBook reported it.
	Control(ctx context.Context, v Viewer, command string, runID, bookID int64) error
	// RunLogs returns the log events of one run, oldest first. Handler
	// drops any event of a book the viewer may not read.
	RunLogs(ctx context.Context, v Viewer, runID int64) ([]*bindery.Event, error)
}

// ReadAllViewer is the default viewer of the DASHBOARD_TOKEN: it reads
// every book and controls none. The shared token is one secret for many
// people, so by default it watches; an operator who wants it to control
// runs passes a different Viewer in HandlerOptions.DashboardViewer.
type ReadAllViewer struct{}

// CanRead is always true.
func (ReadAllViewer) CanRead(int64) bool { return true }

// CanWrite is always false.
func (ReadAllViewer) CanWrite(int64) bool { return false }

// ID is "dashboard-token".
func (ReadAllViewer) ID() string { return "dashboard-token" }

// Source delivers events stored elsewhere to a hub: another node's events
// through PostgreSQL LISTEN/NOTIFY, for instance. Run calls publish (a
// Hub's Publish) for each event, in increasing id order, until ctx ends or
// the feed fails; wiring is src.Run(ctx, hub.Publish). Nothing in this
// package implements it yet.
type Source interface {
	Run(ctx context.Context, publish func(*bindery.Event) error) error
}
