package markdown_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bindery/bindery/internal/render/markdown"
)

// countdownCtx ends by itself at the n-th look at Err: a cancellation in
// the middle of the work, without timing.
type countdownCtx struct {
	context.Context
	n    atomic.Int64
	done chan struct{}
}

func newCountdown(n int64) *countdownCtx {
	c := &countdownCtx{Context: context.Background(), done: make(chan struct{})}
	c.n.Store(n)
	return c
}

func (c *countdownCtx) Done() <-chan struct{} { return c.done }

func (c *countdownCtx) Err() error {
	if c.n.Add(-1) <= 0 {
		return context.Canceled
	}
	return nil
}

// TestRenderChapterStopsWhenContextEnds: when ctx ends while a huge but
// legal chapter renders, RenderChapter returns ctx's error having done a
// part of the work — less than half the bytes a full render allocates
// (a thousandth when it lands among the blocks), wherever in the pipeline (goldmark's renderer, the sanitiser,
// the HTML parser, the rewrite) the cancellation lands.
func TestRenderChapterStopsWhenContextEnds(t *testing.T) {
	p := "It was on a *dreary* night of November that I beheld the [accomplishment](02-b.md) of my toils.\n\n" +
		"- a list\n- of two\n\n> and a quote\n\n"
	m := newBook(t, map[string]string{
		"chapters/01-a.md": "# A\n\n" + strings.Repeat(p, (2<<20)/len(p)),
		"chapters/02-b.md": "# B\n",
	})
	r := markdown.New()
	full := allocated(func() {
		if _, err := r.RenderChapter(context.Background(), m, m.Chapters[0], epubLinker{}); err != nil {
			t.Fatal(err)
		}
	})
	blocks := 0
	for n := m.Chapters[0].Doc.FirstChild(); n != nil; n = n.NextSibling() {
		blocks++
	}
	// Err is looked at once per block, then per 32 KiB read and per 1024
	// nodes: end ctx early in each stage.
	for _, n := range []int64{1, 10, int64(blocks) + 2, int64(blocks) + 20, int64(blocks) + 200} {
		var err error
		cut := allocated(func() {
			_, err = r.RenderChapter(newCountdown(n), m, m.Chapters[0], epubLinker{})
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at look %d: err = %v, want context.Canceled", n, err)
		}
		t.Logf("cancelled at look %d: %d bytes allocated of %d", n, cut, full)
		if cut*2 > full || n < int64(blocks) && cut*1000 > full {
			t.Errorf("cancelled at look %d: %d bytes allocated of %d: it went on after the cancellation", n, cut, full)
		}
	}
}

// allocated returns the bytes f allocates: a count of the work it does.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
