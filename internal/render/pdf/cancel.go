package pdf

import (
	"context"

	"github.com/yuin/goldmark/text"
)

// stopper tells the long loops of a render — chapters, blocks, words,
// line breaking, pages, image rows, compression — that its context has
// ended, so that a render stops within milliseconds of it: each loop asks
// stopped() once per unit of work (a word, an image row, 256 KiB
// compressed), and a unit is small. ctx.Err() is looked at every
// stopEvery calls, so a check is a counter increment; once stopped, it
// stays stopped. A nil *stopper never stops.
type stopper struct {
	ctx   context.Context
	calls int
	err   error
}

// stopEvery is how many calls of stopped share one look at ctx.Err().
const stopEvery = 16

func newStopper(ctx context.Context) *stopper {
	if ctx.Done() == nil {
		return nil // never ends
	}
	return &stopper{ctx: ctx}
}

func (s *stopper) stopped() bool {
	if s == nil {
		return false
	}
	if s.err == nil {
		s.calls++
		if s.calls%stopEvery == 0 {
			s.err = s.ctx.Err()
		}
	}
	return s.err != nil
}

// now looks at ctx at once (between large steps: chapters, pages).
func (s *stopper) now() error {
	if s == nil {
		return nil
	}
	if s.err == nil {
		s.err = s.ctx.Err()
	}
	return s.err
}

// stopFunc is stopped as a func, nil for a nil stopper (for
// linebreak.Params.Stop).
func (s *stopper) stopFunc() func() bool {
	if s == nil {
		return nil
	}
	return s.stopped
}

// stopReader ends the text for goldmark's block parser once the render
// is stopped: the parser reads every line through PeekLine or
// SkipBlankLines, so the parse stops within a few lines, as at the end of
// the text (as manuscript's parse does).
type stopReader struct {
	text.Reader
	s *stopper
}

func (r *stopReader) PeekLine() ([]byte, text.Segment) {
	if r.s.stopped() {
		return nil, text.Segment{}
	}
	return r.Reader.PeekLine()
}

func (r *stopReader) SkipBlankLines() (text.Segment, int, bool) {
	if r.s.stopped() {
		return text.Segment{}, 0, false
	}
	return r.Reader.SkipBlankLines()
}
