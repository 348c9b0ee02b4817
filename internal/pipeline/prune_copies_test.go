package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/pipeline"
)

// TestCopiesOfRunsGoneElsewhereArePruned: with shared storage, a node's
// copy of a run's outputs is removed once the bucket no longer holds them
// (retention pruned the run on another node) or the run no longer exists
// (its book was deleted through another node): a built book is the full
// text of a manuscript, and deleted must mean gone from every node.
// Copies of runs still shared stay, and so do those changed after the
// sweep's cut-off, unless their run is gone.
func TestCopiesOfRunsGoneElsewhereArePruned(t *testing.T) {
	ctx := context.Background()
	var bucket blob.Store
	env := newEnvWith(t, noCoverBook(), nil, func(dir string, cfg *pipeline.Config, _ func(func(*pipeline.Engine))) {
		local, err := blob.OpenLocal(filepath.Join(dir, "bucket"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { local.Close() })
		cfg.Outputs, bucket = local, local
	})
	var runs []int64
	for range 2 {
		r, err := env.engine.StartRun(ctx, env.book, env.user, []string{"html"}, false)
		if err != nil {
			t.Fatal(err)
		}
		env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
		runs = append(runs, r.ID)
	}
	here := func(id int64) bool {
		_, err := os.Stat(filepath.Join(env.dir, "artifacts", strconv.FormatInt(id, 10)))
		return err == nil
	}
	if !here(runs[0]) || !here(runs[1]) {
		t.Fatal("the runs' outputs are not on this node")
	}

	// Retention on another node removed the first run's outputs from the
	// bucket (and its own copy).
	if err := blob.DeletePrefix(ctx, bucket, blob.RunPrefix(runs[0])); err != nil {
		t.Fatal(err)
	}
	if n, err := env.engine.PruneCopies(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 || !here(runs[0]) {
		t.Fatalf("a copy changed after the cut-off was pruned: %d, %v", n, err)
	}
	later := time.Now().Add(time.Hour)
	if n, err := env.engine.PruneCopies(ctx, later); err != nil || n != 1 {
		t.Fatalf("PruneCopies = %d, %v; want the pruned run's copy removed", n, err)
	}
	if here(runs[0]) || !here(runs[1]) {
		t.Fatalf("after pruning: first run here %v (want false), second %v (want true)", here(runs[0]), here(runs[1]))
	}

	// The book deleted through another node: its runs' rows are gone, and
	// their copies go whatever their age (this is what a node does when
	// told of the deletion).
	if err := env.store.DeleteBook(ctx, env.book.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := env.engine.PruneCopies(ctx, time.Now().Add(-time.Hour)); err != nil || n != 1 || here(runs[1]) {
		t.Fatalf("PruneCopies after the book's deletion = %d, %v (still here: %v)", n, err, here(runs[1]))
	}
}
