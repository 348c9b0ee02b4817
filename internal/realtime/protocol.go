package realtime

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// Client frame types (CONTRACT.md §6).
const (
	FramePing            = "ping"
	FramePipelineControl = "pipeline_control"
	FrameGetLogs         = "get_logs"
	FrameResume          = "resume"
)

// Server frame types besides the events of package bindery.
const (
	FramePong       = "pong"
	FrameError      = "error"
	FrameStateSync  = "state_sync"
	FrameLogHistory = "log_history"
)

// Commands of pipeline_control.
const (
	CommandStart  = "start"
	CommandPause  = "pause"
	CommandResume = "resume"
	CommandStop   = "stop"
)

// authFailedMessage is the original system's message for every
// authentication failure, whatever the cause: a guesser learns nothing.
const authFailedMessage = "Invalid authentication token"

// clientFrame is any frame a client may send. Fields a type does not use
// are ignored.
type clientFrame struct {
	Type    string `json:"type"`
	Command string `json:"command"`
	RunID   int64  `json:"run_id"`
	BookID  int64  `json:"book_id"`
	Since   *int64 `json:"since"`
}

// parseClientFrame decodes and validates a frame of an authenticated
// client. Errors are EINVALID with a message for the client.
func parseClientFrame(b []byte) (clientFrame, error) {
	var f clientFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return clientFrame{}, bindery.Errorf(bindery.EINVALID, "Invalid JSON.")
	}
	if f.RunID < 0 || f.BookID < 0 {
		return clientFrame{}, bindery.Errorf(bindery.EINVALID, "Ids must be positive.")
	}
	switch f.Type {
	case FramePing:
	case FramePipelineControl:
		switch f.Command {
		case CommandStart:
			if f.BookID == 0 {
				return clientFrame{}, bindery.Errorf(bindery.EINVALID, "start needs a book_id.")
			}
		case CommandPause, CommandResume, CommandStop:
			if f.RunID == 0 {
				return clientFrame{}, bindery.Errorf(bindery.EINVALID, "%s needs a run_id.", f.Command)
			}
		default:
			return clientFrame{}, bindery.Errorf(bindery.EINVALID, "Unknown command: use start, pause, resume or stop.")
		}
	case FrameGetLogs:
		if f.RunID == 0 {
			return clientFrame{}, bindery.Errorf(bindery.EINVALID, "get_logs needs a run_id.")
		}
	case FrameResume:
		if f.Since == nil || *f.Since < 0 {
			return clientFrame{}, bindery.Errorf(bindery.EINVALID, "resume needs since, the id of the last frame received.")
		}
	default:
		return clientFrame{}, bindery.Errorf(bindery.EINVALID, "Unknown frame type.")
	}
	return f, nil
}

// tokenFrame is the first frame of a client that authenticates in band,
// as in the original: {"token": "…"}, optionally with "since" to resume.
type tokenFrame struct {
	Token *string `json:"token"`
	Since *int64  `json:"since"`
}

// parseTokenFrame returns the token of a first frame. A missing, null or
// empty token is an error: it must never compare equal to an unset
// DASHBOARD_TOKEN (NOTES.md #1, None == None).
func parseTokenFrame(b []byte) (token string, since *int64, err error) {
	var f tokenFrame
	if err := json.Unmarshal(b, &f); err != nil {
		return "", nil, bindery.Errorf(bindery.EUNAUTHORIZED, authFailedMessage)
	}
	if f.Token == nil || *f.Token == "" {
		return "", nil, bindery.Errorf(bindery.EUNAUTHORIZED, authFailedMessage)
	}
	if f.Since != nil && *f.Since < 0 {
		f.Since = nil
	}
	return *f.Token, f.Since, nil
}

// Server frames other than events. Each is encoded without its id, which
// the hub inserts when it queues the frame (withID).
type errorFrame struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Code      string    `json:"code,omitempty"`
	Message   string    `json:"message"`
}

type pongFrame struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
}

type logHistoryFrame struct {
	Type      string           `json:"type"`
	Timestamp time.Time        `json:"timestamp"`
	RunID     int64            `json:"run_id"`
	BookID    int64            `json:"book_id"`
	Logs      []*bindery.Event `json:"logs"`
}

type stateSyncFrame struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		Runs    []bindery.Run     `json:"runs"`
		History []json.RawMessage `json:"history"`
	} `json:"data"`
}

// encodeStateSync encodes a state_sync. history holds shared, already
// encoded events.
func encodeStateSync(id int64, ts time.Time, runs []bindery.Run, history []*frame) ([]byte, error) {
	f := stateSyncFrame{ID: id, Type: FrameStateSync, Timestamp: ts.UTC()}
	f.Data.Runs = runs
	if f.Data.Runs == nil {
		f.Data.Runs = []bindery.Run{}
	}
	f.Data.History = make([]json.RawMessage, len(history))
	for i, h := range history {
		f.Data.History[i] = h.data
	}
	return json.Marshal(f)
}

// withID returns body, a JSON object, with "id":id as its first member.
func withID(id int64, body []byte) []byte {
	b := make([]byte, 0, len(body)+24)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	if len(body) > 2 {
		b = append(b, ',')
	}
	return append(b, body[1:]...)
}

// mustJSON encodes frames whose types cannot fail to encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("realtime: " + err.Error())
	}
	return b
}
