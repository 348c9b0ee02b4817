package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// auditView is an audit entry as admins read it in the list: ActorEmail
// is the actor's address, looked up at read time while the account
// exists, so that admins see who did what — the log itself stores no
// address, and after the account is deleted the entry shows only its id.
type auditView struct {
	*bindery.AuditEvent
	ActorEmail string `json:"actor_email,omitempty"`
}

// handleListAudit: GET /api/v1/audit?action=&actor_id=&since=RFC3339&before=ID&limit=N.
func (s *Server) handleListAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := bindery.AuditFilter{Action: q.Get("action")}
	bad := func(name string) {
		s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "Query parameter %s is malformed.", name))
	}
	var err error
	if v := q.Get("actor_id"); v != "" {
		if f.ActorID, err = strconv.ParseInt(v, 10, 64); err != nil {
			bad("actor_id")
			return
		}
	}
	if v := q.Get("before"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil {
			bad("before")
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil {
			bad("limit")
			return
		}
	}
	if v := q.Get("since"); v != "" {
		if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
			bad("since")
			return
		}
	}
	events, err := s.store.ListAudit(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	views := make([]auditView, len(events))
	emails := map[int64]string{} // actor id → address, "" when gone
	for i, e := range events {
		views[i].AuditEvent = e
		if e.ActorID == nil {
			continue
		}
		email, ok := emails[*e.ActorID]
		if !ok {
			u, err := s.store.UserByID(r.Context(), *e.ActorID)
			if err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
				s.writeError(w, r, err)
				return
			}
			if u != nil {
				email = u.Email
			}
			emails[*e.ActorID] = email
		}
		views[i].ActorEmail = email
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": views})
}

// handleExportAudit: GET /api/v1/audit/export?since=RFC3339 (admin).
// Streams every entry, oldest first, one JSON object a line
// (application/x-ndjson), exactly as stored: with the chain's prev_hash
// and hash, so that a copy kept elsewhere shows later whether the live log
// was rewritten. The export is itself audited. A failure mid-stream aborts
// the connection, so that a truncated copy cannot pass for a whole one.
func (s *Server) handleExportAudit(w http.ResponseWriter, r *http.Request) {
	var f bindery.AuditFilter
	if v := r.URL.Query().Get("since"); v != "" {
		var err error
		if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
			s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "Query parameter since is malformed; use RFC 3339, e.g. 2026-01-02T15:04:05Z."))
			return
		}
	}
	p, c := s.callerClient(r)
	e := bindery.AuditEvent{Action: bindery.AuditExported, ActorID: &p.User.ID, Detail: "JSON lines over the API"}
	if c.Addr.IsValid() {
		e.ClientAddr = c.Addr.String()
	}
	if !f.Since.IsZero() {
		e.Detail += " since " + f.Since.UTC().Format(time.RFC3339)
	}
	s.auth.Audit(r.Context(), e)

	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="bindery-audit.jsonl"`)
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(newProgressWriter(w))
	err := s.store.EachAudit(r.Context(), f, func(e *bindery.AuditEvent) error { return enc.Encode(e) })
	if err != nil {
		if r.Context().Err() == nil {
			s.log.Error("audit export failed", "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}
