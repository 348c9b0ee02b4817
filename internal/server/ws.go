package server

import (
	"context"
	"net/http"
	"strconv"

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

// newWSHandler builds /ws. Refused connections are audited and count as
// sign-in failures of their address for the brute-force guard, and a
// blocked address cannot try at all.
func (s *Server) newWSHandler(hub *realtime.Hub) (http.Handler, error) {
	ws, err := realtime.NewHandler(realtime.HandlerOptions{
		Hub: hub, Auth: realtime.AuthenticatorFunc(s.wsAuthenticate), Backend: wsBackend{s},
		PublicURL: s.cfg.PublicURL, DashboardToken: s.cfg.DashboardToken, Logger: s.log,
		OnAuthFailure: func(r *http.Request, reason string) {
			c := s.client(r)
			s.auth.Audit(context.Background(), bindery.AuditEvent{Action: bindery.AuditWSRefused, ClientAddr: c.Addr.String(), Detail: reason})
			if d, blocked := s.auth.Guard().Failure(c.Addr, ""); blocked {
				s.log.Warn("address blocked after repeated WebSocket authentication failures", "client_addr", c.Addr.String(), "duration", d.String())
				s.auth.Audit(context.Background(), bindery.AuditEvent{Action: bindery.AuditAddressBlocked, ClientAddr: c.Addr.String(), Target: c.Addr.String(), Detail: "for " + d.String()})
			}
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
