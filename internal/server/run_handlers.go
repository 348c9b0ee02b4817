package server

import (
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
)

// Runs is what the server needs from the pipeline (pipeline.Engine).
type Runs interface {
	StartRun(ctx context.Context, b *bindery.Book, u *bindery.User, formats []string, publish bool) (*bindery.Run, error)
	// QueueRun is StartRun that says whether it created the run or
	// returned the book's run already queued.
	QueueRun(ctx context.Context, b *bindery.Book, u *bindery.User, o bindery.RunOptions) (*bindery.Run, bool, error)
	PauseRun(ctx context.Context, id int64) (*bindery.Run, error)
	ResumeRun(ctx context.Context, id int64) (*bindery.Run, error)
	StopRun(ctx context.Context, id int64) (*bindery.Run, error)
	// Artifact opens an artifact and says when it was written.
	Artifact(ctx context.Context, runID int64, name string) (io.ReadSeekCloser, time.Time, error)
	Artifacts(ctx context.Context, runID int64) []string
	Emit(ctx context.Context, e *bindery.Event)
}

// runView is a run with its artifacts.
type runView struct {
	*bindery.Run
	Artifacts []string `json:"artifacts"`
	// Published: this run's artifacts are the book's current edition.
	Published bool `json:"published"`
}

type startRunRequest struct {
	Formats []string `json:"formats"`
	Publish bool     `json:"publish"`
	Draft   bool     `json:"draft"`
}

// handleStartRun: POST /api/v1/books/{id}/runs {formats, publish}.
// Publishing is offered only to roles holding "publish". 201 with a new
// run; 200 with the book's run already queued, which a new request joins
// (a book queues at most one run beside its running one); 429 past the
// caller's limit of active runs.
func (s *Server) handleStartRun(w http.ResponseWriter, r *http.Request) {
	var req startRunRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	if req.Publish && !auth.Can(p.User, bindery.PermPublish) {
		s.writeError(w, r, bindery.Errorf(bindery.EFORBIDDEN, "Your role may not publish."))
		return
	}
	b := bookOf(r)
	run, created, err := s.runs.QueueRun(r.Context(), b, p.User, bindery.RunOptions{Formats: req.Formats, Publish: req.Publish, Draft: req.Draft})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !created {
		writeJSON(w, http.StatusOK, runView{Run: run, Artifacts: []string{}})
		return
	}
	s.auth.Audit(r.Context(), bookEvent(bindery.AuditRunControl, p, c, b, "start run "+strconv.FormatInt(run.ID, 10)))
	writeJSON(w, http.StatusCreated, runView{Run: run, Artifacts: []string{}})
}

// handleListRuns: GET /api/v1/books/{id}/runs (newest first, ≤ 200).
func (s *Server) handleListRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := s.store.ListRuns(r.Context(), bookOf(r).ID, 200)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// handleGetRun: GET /api/v1/runs/{id}.
func (s *Server) handleGetRun(w http.ResponseWriter, r *http.Request) {
	run := runOf(r)
	pub, err := s.store.Publication(r.Context(), run.BookID)
	if err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, runView{Run: run, Artifacts: s.runs.Artifacts(r.Context(), run.ID), Published: pub != nil && pub.RunID == run.ID})
}

// handleRunControl: POST /api/v1/runs/{id}/pause|resume|stop. Audited.
func (s *Server) handleRunControl(cmd string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := runOf(r).ID
		var run *bindery.Run
		var err error
		switch cmd {
		case "pause":
			run, err = s.runs.PauseRun(r.Context(), id)
		case "resume":
			run, err = s.runs.ResumeRun(r.Context(), id)
		default:
			run, err = s.runs.StopRun(r.Context(), id)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, c := s.callerClient(r)
		s.auth.Audit(r.Context(), bookEvent(bindery.AuditRunControl, p, c, bookOf(r), cmd+" run "+strconv.FormatInt(id, 10)))
		writeJSON(w, http.StatusOK, run)
	}
}

// artifactTypes are the exact types of build outputs.
var artifactTypes = map[string]string{
	".epub": "application/epub+zip",
	".html": "text/html; charset=utf-8",
	".pdf":  "application/pdf",
}

// handleGetArtifact: GET /api/v1/runs/{id}/artifacts/{name}, as an
// attachment with a sandboxing CSP (the HTML book is user content too).
func (s *Server) handleGetArtifact(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, modified, err := s.runs.Artifact(r.Context(), runOf(r).ID, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	ct, ok := artifactTypes[extOf(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Security-Policy", userContentCSP)
	http.ServeContent(w, r, "", modified, f)
}

func extOf(name string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == '.' {
			return name[i:]
		}
	}
	return ""
}
