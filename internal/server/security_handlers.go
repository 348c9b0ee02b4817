package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/diskspace"
)

// handleListBlocks: GET /api/v1/security/blocks.
func (s *Server) handleListBlocks(w http.ResponseWriter, r *http.Request) {
	blocks := s.auth.Guard().Blocks()
	if blocks == nil {
		blocks = []auth.Block{} // [] rather than null for clients
	}
	writeJSON(w, http.StatusOK, map[string]any{"blocks": blocks})
}

// handleLiftBlock: DELETE /api/v1/security/blocks/{addr...}. Audited and
// logged at warning level, like the block itself.
func (s *Server) handleLiftBlock(w http.ResponseWriter, r *http.Request) {
	addr := r.PathValue("addr")
	if !s.auth.Guard().Lift(addr) {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "No active block for that address."))
		return
	}
	p, c := s.callerClient(r)
	s.log.Warn("address block lifted", "client_addr", addr, "by_user_id", p.User.ID)
	s.auth.Audit(r.Context(), bindery.AuditEvent{Action: bindery.AuditAddressLifted, ActorID: &p.User.ID,
		ClientAddr: c.Addr.String(), Target: addr})
	w.WriteHeader(http.StatusNoContent)
}

// handleHealthz: GET /healthz — the process is up.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz: GET /readyz — ready (200) while the database answers and
// accepts a write and the data folder has at least BINDERY_MIN_FREE_BYTES
// free; otherwise 503 naming the failing checks (no detail: the endpoint
// is public). A load balancer then sends traffic elsewhere, and the
// answer turns ready again by itself once space is freed. The result is
// kept for a second, so anonymous callers cannot make the server write at
// will.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	failing := s.ready.check(r.Context(), s.now(), func(ctx context.Context) []string {
		var failing []string
		if err := s.store.CheckWritable(ctx); err != nil {
			s.log.Error("readiness: the database does not accept writes", "err", err)
			failing = append(failing, "database")
		}
		if min := s.cfg.MinFreeBytes; min > 0 {
			free, ok, err := diskspace.Free(s.cfg.DataDir)
			switch {
			case err != nil:
				s.log.Error("readiness: free space of the data folder unknown", "err", err)
				failing = append(failing, "disk")
			case ok && free < uint64(min): // #nosec G115 -- min > 0
				s.log.Error("readiness: the data folder's disk is almost full", "free_bytes", free, "min_free_bytes", min)
				failing = append(failing, "disk")
			}
		}
		return failing
	})
	if len(failing) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failing": failing})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// readiness keeps the last readiness result for a second.
type readiness struct {
	mu      sync.Mutex // guards the fields below and serialises checks
	at      time.Time
	failing []string
}

func (rd *readiness) check(ctx context.Context, now time.Time, run func(context.Context) []string) []string {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if !rd.at.IsZero() && now.Sub(rd.at) >= 0 && now.Sub(rd.at) < time.Second {
		return rd.failing
	}
	rd.failing, rd.at = run(ctx), now
	return rd.failing
}

// handleMetrics: GET /metrics (Prometheus). Readable from the machine
// itself (the client address, after trusted proxies, is loopback) or by an
// admin: the figures reveal activity and are nobody else's business.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if s.metrics == nil {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "Not found."))
		return
	}
	if p := principal(r); !s.addrs.Addr(r).IsLoopback() && !(p != nil && auth.IsAdmin(p.User)) {
		if p == nil {
			s.writeError(w, r, bindery.Errorf(bindery.EUNAUTHORIZED, "Metrics are readable from the server itself or by an admin."))
		} else {
			s.writeError(w, r, bindery.Errorf(bindery.EFORBIDDEN, "Metrics are readable from the server itself or by an admin."))
		}
		return
	}
	promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// Integration is what the admin view shows of a third-party integration:
// whether it is configured and which key version is active — never a key.
type Integration struct {
	Name       string   `json:"name"`
	Configured bool     `json:"configured"`
	Version    string   `json:"version"`
	Versions   []string `json:"versions"`
	FromFile   bool     `json:"from_file"`
	Error      string   `json:"error,omitempty"`
}

// credentialNames are the third-party credentials an admin may store.
var credentialNames = map[string]bool{"ideogram": true}

// maxCredentialLength bounds a stored credential.
const maxCredentialLength = 512

// handlePutCredential: PUT /api/v1/integrations/{name} {api_key} (admin).
// The key is stored encrypted and never shown again, not even to admins;
// keys set in the environment take precedence over it.
func (s *Server) handlePutCredential(w http.ResponseWriter, r *http.Request) {
	name, ok := s.credentialName(w, r)
	if !ok {
		return
	}
	var req struct {
		APIKey string `json:"api_key"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.APIKey == "" || len(req.APIKey) > maxCredentialLength || strings.ContainsFunc(req.APIKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "api_key must be 1 to %d printable characters without spaces.", maxCredentialLength))
		return
	}
	if err := s.store.PutCredential(r.Context(), name, req.APIKey, s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditCredential(r, bindery.AuditCredentialSet, name)
	w.WriteHeader(http.StatusNoContent)
}

// handleDeleteCredential: DELETE /api/v1/integrations/{name} (admin).
func (s *Server) handleDeleteCredential(w http.ResponseWriter, r *http.Request) {
	name, ok := s.credentialName(w, r)
	if !ok {
		return
	}
	if err := s.store.DeleteCredential(r.Context(), name); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.auditCredential(r, bindery.AuditCredentialDeleted, name)
	w.WriteHeader(http.StatusNoContent)
}

// credentialName is the {name} of a credential route, or a 404 answered.
func (s *Server) credentialName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !credentialNames[name] {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "No such integration."))
		return "", false
	}
	return name, true
}

// auditCredential records a change to a stored credential (its name only).
func (s *Server) auditCredential(r *http.Request, action, name string) {
	p, c := s.callerClient(r)
	s.auth.Audit(r.Context(), bindery.AuditEvent{Action: action, ActorID: &p.User.ID, ClientAddr: c.Addr.String(), Target: name})
}

// handleIntegrations: GET /api/v1/integrations (admin).
func (s *Server) handleIntegrations(w http.ResponseWriter, r *http.Request) {
	list := []Integration{}
	if s.integrations != nil {
		list = s.integrations()
	}
	writeJSON(w, http.StatusOK, map[string]any{"integrations": list})
}
