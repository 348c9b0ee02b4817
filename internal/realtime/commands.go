package realtime

import (
	"context"

	"github.com/bindery/bindery/internal/bindery"
)

// handleFrame answers one frame of an authenticated client. Every
// refusal is an error frame; the connection stays open.
func (h *Handler) handleFrame(c *client, b []byte) {
	f, err := parseClientFrame(b)
	if err != nil {
		h.hub.send(c, h.errorBody(err))
		return
	}
	switch f.Type {
	case FramePing:
		h.hub.send(c, mustJSON(pongFrame{Type: FramePong, Timestamp: h.hub.now().UTC()}))
	case FramePipelineControl:
		if err := h.control(c.viewer, f); err != nil {
			h.hub.send(c, h.errorBody(err))
		}
	case FrameGetLogs:
		h.logs(c, f.RunID)
	case FrameResume:
		h.resume(c, *f.Since)
	}
}

var (
	errRunNotFound = bindery.Errorf(bindery.ENOTFOUND, "Run not found.")
	errNoControl   = bindery.Errorf(bindery.EFORBIDDEN, "You may not control the runs of this book.")
)

// control authorises and carries out a pipeline_control command. The book
// that is checked is the run's own (Backend.RunBook), never only the one
// the client names: otherwise a writer of one book could stop another
// book's run by pairing its run_id with their own book_id.
func (h *Handler) control(v Viewer, f clientFrame) error {
	ctx, cancel := context.WithTimeout(h.hub.ctx, h.o.CallTimeout)
	defer cancel()
	bookID := f.BookID
	if f.Command != CommandStart {
		runBook, err := h.o.Backend.RunBook(ctx, f.RunID)
		if err != nil || !v.CanRead(runBook) {
			return hideNotFound(err)
		}
		if bookID != 0 && bookID != runBook {
			return bindery.Errorf(bindery.EINVALID, "run_id and book_id do not match.")
		}
		bookID = runBook
	}
	if !v.CanWrite(bookID) {
		h.log.Warn("websocket pipeline_control refused", "viewer", v.ID(), "command", f.Command, "book_id", bookID)
		return errNoControl
	}
	runID := f.RunID
	if f.Command == CommandStart {
		runID = 0
	}
	return h.o.Backend.Control(ctx, v, f.Command, runID, bookID)
}

// hideNotFound turns "no such run" and "not yours" into the same answer,
// so that ids of other books' runs cannot be probed; internal errors stay
// internal.
func hideNotFound(err error) error {
	if err == nil || bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return errRunNotFound
	}
	return err
}

// logs answers get_logs with a log_history of a run the viewer may read.
func (h *Handler) logs(c *client, runID int64) {
	ctx, cancel := context.WithTimeout(h.hub.ctx, h.o.CallTimeout)
	defer cancel()
	bookID, err := h.o.Backend.RunBook(ctx, runID)
	if err != nil || !c.viewer.CanRead(bookID) {
		h.hub.send(c, h.errorBody(hideNotFound(err)))
		return
	}
	events, err := h.o.Backend.RunLogs(ctx, c.viewer, runID)
	if err != nil {
		h.hub.send(c, h.errorBody(err))
		return
	}
	logs := make([]*bindery.Event, 0, len(events))
	for _, e := range events {
		if e != nil && c.viewer.CanRead(e.BookID) {
			logs = append(logs, e)
		}
	}
	h.hub.send(c, mustJSON(logHistoryFrame{Type: FrameLogHistory, Timestamp: h.hub.now().UTC(),
		RunID: runID, BookID: bookID, Logs: logs}))
}

// resume answers an in-band resume: the missed events, or a fresh
// state_sync when they are gone.
func (h *Handler) resume(c *client, since int64) {
	h.catchUp(since)
	if h.hub.resume(c, since) {
		return
	}
	runs, err := h.activeRuns(c.viewer)
	if err != nil {
		h.hub.send(c, h.errorBody(err))
		return
	}
	h.hub.sync(c, runs)
}
