package manuscript

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// countdownCtx is a context that ends by itself at the n-th look at Err:
// a cancellation that arrives in the middle of the work, deterministically.
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

// hugeChapter is legal (within every limit) and costs about a second to
// parse: 4 MiB of paragraphs with emphasis and links.
func hugeChapter() []byte {
	p := "It was on a *dreary* night of November that I beheld the [accomplishment](02-next.md) of my toils.\n\n"
	return []byte(strings.Repeat(p, (4<<20)/len(p)))
}

// TestParseStopsWhenContextEnds: when ctx ends in the middle of a huge
// chapter, ParseBody returns ctx's error having done a small part of the
// work: it allocates less than a tenth of what the full parse does
// (allocations count the nodes built, so they measure the work done after
// the cancellation without timing anything).
func TestParseStopsWhenContextEnds(t *testing.T) {
	src := hugeChapter()
	full := testing.AllocsPerRun(1, func() {
		if _, err := ParseBody(context.Background(), "chapters/01.md", src, 1); err != nil {
			t.Fatal(err)
		}
	})
	var err error
	cut := testing.AllocsPerRun(1, func() {
		_, err = ParseBody(newCountdown(3), "chapters/01.md", src, 1)
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	t.Logf("allocations: full parse %.0f, cancelled %.0f", full, cut)
	if cut*10 > full {
		t.Errorf("a cancelled parse allocated %.0f of %.0f: it went on after the cancellation", cut, full)
	}
}
