package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"github.com/bindery/bindery/internal/bindery"
)

// Follow reads the live events of run runID over /ws and hands each one
// to see, in order, until the run ends; it returns the run as it ended.
// Events are the server's (bindery.Event); nothing is parsed back from
// text. If the run ended before the socket was open, the run is returned
// at once from the API.
func (c *Client) Follow(ctx context.Context, runID int64, see func(*bindery.Event)) (*Run, error) {
	u := *c.base
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	u.Path += "/ws"
	h := http.Header{"Authorization": {"Bearer " + c.Token}}
	conn, _, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{HTTPHeader: h, HTTPClient: c.http})
	if err != nil {
		return nil, err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	synced := false
	var last int64 // the newest event shown: none twice
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		var f struct {
			bindery.Event
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			continue
		}
		switch {
		case f.Type == "error":
			return nil, &Error{Code: bindery.EUNAUTHORIZED, Message: "live events: " + f.Message}
		case f.Type == "state_sync":
			if !synced {
				synced = true
				// What happened before the socket opened is in the
				// history (the last 50 events): show this run's part.
				var sync struct {
					History []bindery.Event `json:"history"`
				}
				_ = json.Unmarshal(f.Data, &sync)
				for i := range sync.History {
					if ev := &sync.History[i]; ev.RunID == runID && ev.ID > last {
						last = ev.ID
						see(ev)
					}
				}
				// The run may have ended before the socket opened.
				r, err := c.GetRun(ctx, runID)
				if err != nil {
					return nil, err
				}
				if terminal(r.State) {
					return r, nil
				}
			}
		case f.RunID == runID && f.ID > last:
			last = f.ID
			see(&f.Event)
			switch f.Type {
			case bindery.EventRunSucceeded, bindery.EventRunFailed, bindery.EventRunStopped:
				conn.Close(websocket.StatusNormalClosure, "")
				return c.GetRun(ctx, runID)
			}
		}
	}
}

func terminal(state string) bool {
	return state == bindery.RunSucceeded || state == bindery.RunFailed || state == bindery.RunStopped
}
