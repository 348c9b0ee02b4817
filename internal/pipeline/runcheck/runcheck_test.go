package runcheck

import (
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// log builds a run's events from "type" or "type:stage" words.
func log(words ...string) []*bindery.Event {
	var out []*bindery.Event
	for i, w := range words {
		typ, stage, _ := strings.Cut(w, ":")
		e := &bindery.Event{ID: int64(i + 1), RunID: 1, Type: typ, Stage: stage}
		if typ == "recovered" {
			e.Type, e.Message = bindery.EventLog, "restart"
		}
		out = append(out, e)
	}
	return out
}

func recovered(e *bindery.Event) bool { return e.Message == "restart" }

func full(extra ...string) []string {
	w := []string{"run_queued", "run_started"}
	for _, s := range bindery.Stages {
		w = append(w, "stage_started:"+s, "stage_finished:"+s)
	}
	return append(w, extra...)
}

func TestGoodLogs(t *testing.T) {
	for name, words := range map[string][]string{
		"straight": full("run_succeeded"),
		"pause in a stage, resume": {"run_queued", "run_started", "stage_started:content", "run_paused", "run_resumed",
			"stage_started:content", "stage_finished:content", "run_stopped"},
		"restart in a stage": {"run_queued", "run_started", "stage_started:content", "stage_progress:content", "recovered",
			"stage_started:content", "stage_finished:content", "run_failed"},
		"stopped while queued": {"run_queued", "run_stopped"},
		"paused at the end":    {"run_queued", "run_paused"},
	} {
		if _, err := Check(1, log(words...), recovered); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestBadLogs(t *testing.T) {
	published := full()
	published = append(published[:len(published)-1], "book_published:publish", "run_stopped")
	for name, words := range map[string][]string{
		"event after stop":       {"run_queued", "run_started", "stage_started:content", "run_stopped", "stage_started:images"},
		"two terminal events":    full("run_succeeded", "run_succeeded"),
		"stage twice in a row":   {"run_queued", "run_started", "stage_started:content", "stage_started:content"},
		"finished stage again":   {"run_queued", "run_started", "stage_started:content", "stage_finished:content", "run_paused", "run_resumed", "stage_started:content"},
		"stopped after publish":  published,
		"succeeded early":        {"run_queued", "run_started", "stage_started:content", "stage_finished:content", "run_succeeded"},
		"stages out of order":    {"run_queued", "run_started", "stage_started:images"},
		"resume a running run":   {"run_queued", "run_started", "run_resumed"},
		"progress after pausing": {"run_queued", "run_started", "stage_started:content", "run_paused", "stage_progress:content"},
	} {
		if _, err := Check(1, log(words...), recovered); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
