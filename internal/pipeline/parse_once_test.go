package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/pipeline"
)

// TestARunParsesItsBookOnce: the stages of one execution share one parse
// of the manuscript. The chapter is rewritten on disk once the content
// stage has checked it; the built HTML still holds the text that was
// checked (a second parse — in the images or format stage — would build
// the rewritten one), and the cover the images stage made is in it.
func TestARunParsesItsBookOnce(t *testing.T) {
	var env *env
	rewritten := make(chan struct{})
	env = newEnvWith(t, noCoverBook(), quickIllustrator{}, func(dir string, cfg *pipeline.Config, late func(func(*pipeline.Engine))) {
		late(func(e *pipeline.Engine) {
			pipeline.SetHook(e, func(ctx context.Context, runID int64, point string) {
				if point != "done:"+bindery.StageContent {
					return
				}
				if _, err := env.books.Put(ctx, env.book.ID, "chapters/01-one.md", strings.NewReader("# Changed\n\nOther words.\n")); err != nil {
					t.Error(err)
				}
				close(rewritten)
			})
		})
	})
	ctx := context.Background()
	r, err := env.engine.StartRun(ctx, env.book, env.user, []string{"html"}, false)
	if err != nil {
		t.Fatal(err)
	}
	ev := env.rec.wait(t, "the end of the run", func(e *bindery.Event) bool {
		return e.RunID == r.ID && (e.Type == bindery.EventRunSucceeded || e.Type == bindery.EventRunFailed)
	})
	<-rewritten
	if ev.Type != bindery.EventRunSucceeded {
		t.Fatalf("run ended %s: %s", ev.Type, ev.Error)
	}
	html, err := os.ReadFile(filepath.Join(env.dir, "artifacts", strconv.FormatInt(r.ID, 10), "no-cover.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("Some text.")) || bytes.Contains(html, []byte("Other words.")) {
		t.Error("the format stage built a second parse of the book, not the one the content stage checked")
	}
	if !bytes.Contains(html, []byte("data:image/png;base64,")) {
		t.Error("the cover the images stage added is not in the build")
	}
}
