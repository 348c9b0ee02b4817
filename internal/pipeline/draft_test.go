package pipeline_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// TestDraftRun: a book with a missing image and a broken link fails a
// normal run in the content stage, builds as a draft (the problems logged
// as warnings), and the draft can be neither published by the run nor
// published afterwards.
func TestDraftRun(t *testing.T) {
	files := noCoverBook()
	files["chapters/01-one.md"] = []byte("# One\n\n![The map](../assets/images/map.png)\n\nSee [two](02-two.md).\n")
	env := newEnv(t, files, quickIllustrator{})
	ctx := context.Background()

	normal, _, err := env.engine.QueueRun(ctx, env.book, env.user, bindery.RunOptions{Formats: []string{"epub"}})
	if err != nil {
		t.Fatal(err)
	}
	env.rec.wait(t, "the normal run to fail", forRun(normal.ID, bindery.EventRunFailed))

	if _, _, err := env.engine.QueueRun(ctx, env.book, env.user, bindery.RunOptions{Draft: true, Publish: true}); bindery.ErrorCode(err) != bindery.EINVALID {
		t.Errorf("a draft run that publishes: %v, want invalid", err)
	}
	draft, _, err := env.engine.QueueRun(ctx, env.book, env.user, bindery.RunOptions{Formats: []string{"epub", "pdf"}, Draft: true})
	if err != nil {
		t.Fatal(err)
	}
	env.rec.wait(t, "the draft run to succeed", forRun(draft.ID, bindery.EventRunSucceeded))
	logs, _ := env.store.RunLogs(ctx, draft.ID, 0)
	var warned []string
	for _, l := range logs {
		if l.Level == "warn" && strings.Contains(l.Message, "(draft: ") {
			warned = append(warned, l.Message)
		}
	}
	if len(warned) != 2 {
		t.Errorf("draft warnings in the log: %q, want the image and the link", warned)
	}
	if got := env.engine.Artifacts(context.Background(), draft.ID); len(got) != 2 {
		t.Errorf("draft artifacts = %v", got)
	}
}
