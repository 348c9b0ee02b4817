package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/pipeline"
)

// TestRunQuotas: while a run of a book is running, one more may queue;
// a further request gets that queued run back, not a new one; and a user
// at the limit of active runs is told so.
func TestRunQuotas(t *testing.T) {
	ill := &blockingIllustrator{entered: make(chan struct{}, 1)}
	env := newEnvWith(t, noCoverBook(), ill, func(_ string, cfg *pipeline.Config, _ func(func(*pipeline.Engine))) {
		cfg.MaxActiveRuns = 2
	})
	ctx := context.Background()
	first, created, err := env.engine.QueueRun(ctx, env.book, env.user, bindery.RunOptions{Formats: []string{"epub"}})
	if err != nil || !created {
		t.Fatalf("first run: %v %v", created, err)
	}
	<-ill.entered // running, held in the images stage
	second, created, err := env.engine.QueueRun(ctx, env.book, env.user, bindery.RunOptions{Formats: []string{"epub"}})
	if err != nil || !created || second.ID == first.ID {
		t.Fatalf("second run: %+v %v %v", second, created, err)
	}
	third, created, err := env.engine.QueueRun(ctx, env.book, env.user, bindery.RunOptions{Formats: []string{"pdf"}})
	if err != nil || created || third.ID != second.ID {
		t.Fatalf("third request = run %d (created %v, %v), want the queued run %d back", third.ID, created, err, second.ID)
	}
	other := &bindery.Book{OwnerID: env.user.ID, Title: "Other", CreatedAt: first.CreatedAt, UpdatedAt: first.CreatedAt}
	if err := env.store.CreateBook(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.engine.QueueRun(ctx, other, env.user, bindery.RunOptions{}); bindery.ErrorCode(err) != bindery.ETOOMANY {
		t.Fatalf("a third active run of the user: %v, want too_many_requests", err)
	}
	if _, err := env.engine.StopRun(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.engine.StopRun(ctx, second.ID); err != nil {
		t.Fatal(err)
	}
}

// TestOldRunsFilesArePruned: with KeepRuns 2, starting a run removes the
// files of the finished runs beyond the two newest, but never the
// published run's.
func TestOldRunsFilesArePruned(t *testing.T) {
	env := newEnvWith(t, exampleFiles(t), quickIllustrator{}, func(_ string, cfg *pipeline.Config, _ func(func(*pipeline.Engine))) {
		cfg.KeepRuns = 2
	})
	ctx := context.Background()
	var ids []int64
	for range 5 {
		r, err := env.engine.StartRun(ctx, env.book, env.user, []string{"epub"}, false)
		if err != nil {
			t.Fatal(err)
		}
		env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
		ids = append(ids, r.ID)
		if len(ids) == 1 {
			// The first run is the edition: its files stay.
			if err := env.store.PutPublication(ctx, &bindery.Publication{BookID: env.book.ID, RunID: r.ID, PublishedBy: env.user.ID, PublishedAt: r.CreatedAt, Title: "T", Files: []string{}},
				&bindery.AuditEvent{At: r.CreatedAt, Action: bindery.AuditBookPublished, Target: "book"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	has := func(id int64) bool {
		_, err := os.Stat(filepath.Join(env.dir, "artifacts", strconv.FormatInt(id, 10)))
		return err == nil
	}
	// When run 5 started, runs 3 and 4 were the two newest finished; run 2
	// went; run 1 is published.
	want := map[int64]bool{ids[0]: true, ids[1]: false, ids[2]: true, ids[3]: true, ids[4]: true}
	for id, keep := range want {
		if has(id) != keep {
			t.Errorf("run %d files kept = %v, want %v", id, has(id), keep)
		}
	}
}
