package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/realtime"
)

// wsViewer is a signed-in WebSocket client: a snapshot of the user's role
// and of the books they may read and write, taken when they connect. The
// hub asks it for every event, under its lock, so it answers from memory;
// any change to these rights (role, membership, revocation) disconnects
// the socket (Disconnect) and the client reconnects with fresh rights.
type wsViewer struct {
	user      *bindery.User
	sessionID string
	tokenID   string
	admin     bool
	read      map[int64]bool
	write     map[int64]bool
}

func (v *wsViewer) CanRead(bookID int64) bool { return v.admin || v.read[bookID] }
func (v *wsViewer) CanWrite(bookID int64) bool {
	return v.write[bookID] || (v.admin && auth.Can(v.user, bindery.PermWrite))
}
func (v *wsViewer) ID() string { return "user " + strconv.FormatInt(v.user.ID, 10) }

// wsAuthenticate turns a session or API token into a viewer.
func (s *Server) wsAuthenticate(ctx context.Context, credential string) (realtime.Viewer, error) {
	p, err := s.auth.Authenticate(ctx, credential)
	if err != nil {
		return nil, err
	}
	if s.auth.MustEnrol(p.User) {
		// As for every API route but enrolment (twoFactorSetupRoutes).
		return nil, bindery.Errorf(bindery.ETWOFACTORSETUP, "Your account must use two-factor sign-in: turn it on first.")
	}
	v := &wsViewer{user: p.User, admin: auth.IsAdmin(p.User), read: map[int64]bool{}, write: map[int64]bool{}}
	if p.Session != nil {
		v.sessionID = p.Session.ID
	}
	if p.Token != nil {
		v.tokenID = p.Token.ID
	}
	if !v.admin {
		books, err := s.store.ListBooks(ctx, p.User.ID, false)
		if err != nil {
			return nil, err
		}
		for _, b := range books {
			v.read[b.ID] = auth.Can(p.User, bindery.PermRead)
			v.write[b.ID] = auth.Can(p.User, bindery.PermWrite)
		}
	}
	return v, nil
}

// Disconnect closes the WebSockets whose credentials a revocation ended.
func Disconnect(hub *realtime.Hub, r auth.Revocation) {
	hub.Disconnect(func(v realtime.Viewer) bool {
		wv, ok := v.(*wsViewer)
		switch {
		case r.All:
			return true
		case !ok || wv.user.ID != r.UserID:
			return false
		case r.SessionID != "":
			return wv.sessionID == r.SessionID
		case r.TokenID != "":
			return wv.tokenID == r.TokenID
		}
		return true
	})
}

// wsBackend answers the protocol's questions from the store and sends its
// commands to the pipeline, with the same checks and audit as the HTTP
// routes.
type wsBackend struct{ s *Server }

func (b wsBackend) ActiveRuns(ctx context.Context, v realtime.Viewer) ([]bindery.Run, error) {
	runs, err := b.s.store.RunsInState(ctx, bindery.RunQueued, bindery.RunRunning, bindery.RunPaused)
	if err != nil {
		return nil, err
	}
	out := []bindery.Run{}
	for _, r := range runs {
		if v.CanRead(r.BookID) {
			out = append(out, *r)
		}
	}
	return out, nil
}

func (b wsBackend) RunBook(ctx context.Context, runID int64) (int64, error) {
	r, err := b.s.store.RunByID(ctx, runID)
	if err != nil {
		return 0, err
	}
	return r.BookID, nil
}

// Control runs a pipeline_control command. The handler has checked that
// the viewer may write the run's book.
func (b wsBackend) Control(ctx context.Context, v realtime.Viewer, command string, runID, bookID int64) error {
	wv, ok := v.(*wsViewer)
	if !ok {
		return bindery.Errorf(bindery.EFORBIDDEN, "This connection may not control runs.")
	}
	var err error
	switch command {
	case "start":
		var book *bindery.Book
		if book, err = b.s.store.BookByID(ctx, bookID); err == nil {
			var r *bindery.Run
			r, err = b.s.runs.StartRun(ctx, book, wv.user, nil, false)
			if err == nil {
				runID = r.ID
			}
		}
	case "pause":
		_, err = b.s.runs.PauseRun(ctx, runID)
	case "resume":
		_, err = b.s.runs.ResumeRun(ctx, runID)
	case "stop":
		_, err = b.s.runs.StopRun(ctx, runID)
	default:
		return bindery.Errorf(bindery.EINVALID, "Unknown command.")
	}
	if err != nil {
		return err
	}
	b.s.auth.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditRunControl, ActorID: &wv.user.ID,
		Target: "book " + strconv.FormatInt(bookID, 10), Detail: command + " run " + strconv.FormatInt(runID, 10) + " (WebSocket)"})
	return nil
}

func (b wsBackend) RunLogs(ctx context.Context, v realtime.Viewer, runID int64) ([]*bindery.Event, error) {
	return b.s.store.RunLogs(ctx, runID, 5000)
}

// Refused WebSocket handshakes that are not credential guesses are limited
// per address to wsRefusalLimit per wsRefusalWindow: beyond it they are
// answered 429 and no longer audited one by one.
const (
	wsRefusalLimit  = 20
	wsRefusalWindow = time.Minute
)

// newWSHandler builds /ws. A blocked address cannot try at all.
//
// Of the refused connections, only a credential presented and refused
// (realtime.FailCredential: a wrong token, a bad DASHBOARD_TOKEN guess)
// counts as a sign-in failure of the address for the brute-force guard.
// A foreign web page cannot produce one: its handshake carries its own
// Origin and is refused before any credential is looked at, and the
// session cookie is used only with our Origin. Everything else — foreign
// Origin or Host, a missing or malformed token frame — is no guess at a
// secret, and the first two are exactly what any page the user opens can
// make the browser send; counting them as sign-in failures let any web
// page lock the user (and everyone behind the same NAT) out. They are
// counted apart by a bounded per-address limiter instead, whose only
// effect is that refusals beyond it get 429 and stop filling the audit
// log; sign-in and valid connections are untouched.
func (s *Server) newWSHandler(hub *realtime.Hub, catchUp func(context.Context, int64)) (http.Handler, error) {
	refusals := auth.NewLimiter(wsRefusalLimit, wsRefusalWindow, 0, s.now)
	ws, err := realtime.NewHandler(realtime.HandlerOptions{
		Hub: hub, Auth: realtime.AuthenticatorFunc(s.wsAuthenticate), Backend: wsBackend{s},
		PublicURL: s.cfg.PublicURL, DashboardToken: s.cfg.DashboardToken, Logger: s.log, CatchUp: catchUp,
		OnAuthFailure: func(r *http.Request, reason string) time.Duration {
			c := s.client(r)
			ctx := context.Background()
			if reason == realtime.FailCredential {
				s.auth.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditWSRefused, ClientAddr: c.Addr.String(), Detail: reason})
				if d, blocked := s.auth.Guard().Failure(c.Addr, ""); blocked {
					s.log.Warn("address blocked after repeated WebSocket authentication failures", "client_addr", c.Addr.String(), "duration", d.String())
					s.auth.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditAddressBlocked, ClientAddr: c.Addr.String(), Target: c.Addr.String(), Detail: "for " + d.String()})
				}
				return 0
			}
			over, first, retry := refusals.Hit(c.Addr)
			switch {
			case !over:
				s.auth.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditWSRefused, ClientAddr: c.Addr.String(), Detail: reason})
			case first:
				s.log.Warn("too many refused WebSocket handshakes from an address", "client_addr", c.Addr.String())
				s.auth.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditWSRefused, ClientAddr: c.Addr.String(),
					Detail: fmt.Sprintf("over %d refusals per %s: further ones answered 429, not audited", wsRefusalLimit, wsRefusalWindow)})
			}
			return retry
		},
	})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if left, blocked := s.auth.Guard().Blocked(s.client(r).Addr); blocked {
			s.writeError(w, r, &bindery.Error{Code: bindery.ETOOMANY, Message: "Too many failed attempts from your address; try again later.", RetryAfter: left})
			return
		}
		ws.ServeHTTP(w, r)
	}), nil
}
