package realtime

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// FuzzParseClientFrame feeds arbitrary bytes to the parsers of client
// frames. They must never panic, must refuse with EINVALID or
// EUNAUTHORIZED only, and whatever they accept must be a frame the
// handlers can act on without further checks. The seed corpus is in
// testdata/fuzz/FuzzParseClientFrame.
func FuzzParseClientFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseClientFrame(b)
		if err != nil {
			if code := bindery.ErrorCode(err); code != bindery.EINVALID {
				t.Fatalf("error code %q, want invalid", code)
			}
		} else {
			if fr.RunID < 0 || fr.BookID < 0 {
				t.Fatalf("negative id accepted: %+v", fr)
			}
			switch fr.Type {
			case FramePing:
			case FramePipelineControl:
				if !slices.Contains([]string{CommandStart, CommandPause, CommandResume, CommandStop}, fr.Command) {
					t.Fatalf("command %q accepted", fr.Command)
				}
				if fr.Command == CommandStart && fr.BookID == 0 || fr.Command != CommandStart && fr.RunID == 0 {
					t.Fatalf("incomplete command accepted: %+v", fr)
				}
			case FrameGetLogs:
				if fr.RunID == 0 {
					t.Fatal("get_logs without run accepted")
				}
			case FrameResume:
				if fr.Since == nil || *fr.Since < 0 {
					t.Fatal("resume without since accepted")
				}
			default:
				t.Fatalf("type %q accepted", fr.Type)
			}
		}

		tok, since, err := parseTokenFrame(b)
		if err != nil {
			if code := bindery.ErrorCode(err); code != bindery.EUNAUTHORIZED {
				t.Fatalf("token frame error code %q", code)
			}
			if bindery.ErrorMessage(err) != authFailedMessage {
				t.Fatalf("token frame message %q", bindery.ErrorMessage(err))
			}
			return
		}
		if tok == "" {
			t.Fatal("empty token accepted (NOTES.md #1)")
		}
		if since != nil && *since < 0 {
			t.Fatal("negative since accepted")
		}
	})
}

func TestWithID(t *testing.T) {
	for body, want := range map[string]string{
		`{"type":"pong"}`: `{"id":7,"type":"pong"}`,
		`{}`:              `{"id":7}`,
	} {
		got := withID(7, []byte(body))
		if string(got) != want || !json.Valid(got) {
			t.Errorf("withID(%s): got %s, want %s", body, got, want)
		}
	}
}

func TestStateSyncEncoding(t *testing.T) {
	e := &frame{id: 3, data: mustJSON(event(3, 1))}
	b, err := encodeStateSync(3, time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), nil, []*frame{e})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":3,"type":"state_sync","timestamp":"2025-01-02T02:04:05Z","data":{"runs":[],"history":[` + string(e.data) + `]}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8765", "http://127.0.0.1:8765"},
		{"HTTP://LocalHost:8765", "http://localhost:8765"},
		{"https://bindery.example.org:443", "https://bindery.example.org"},
		{"http://bindery.example.org:80/", "http://bindery.example.org"},
		{"http://[::1]:8765", "http://[::1]:8765"},
		{"null", ""},
		{"file://", ""},
		{"javascript:alert(1)", ""},
		{"http://user@bindery.example.org", ""},
		{"http://bindery.example.org/path", ""},
		{"ws://bindery.example.org", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, ok := normalizeOrigin(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("normalizeOrigin(%q): got %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	if got := matchLiteral("http://[::1]:8765"); got != `http://\[::1\]:8765` {
		t.Errorf("matchLiteral: got %s", got)
	}
}
