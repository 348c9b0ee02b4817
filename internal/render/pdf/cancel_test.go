package pdf

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"
	"time"
)

// countdown is a context that ends from inside the render, after its Err
// has said "not yet" left times: a cancellation after so many units of
// work, with no clock. It counts the looks after it ended (after) and
// the bytes written once it had (see written). Renders run on one
// goroutine, so it needs no lock.
type countdown struct {
	left, looks, after int
	done               chan struct{}
}

func newCountdown(n int) *countdown { return &countdown{left: n, done: make(chan struct{})} }

func (c *countdown) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *countdown) Value(any) any               { return nil }
func (c *countdown) Done() <-chan struct{}       { return c.done }
func (c *countdown) Err() error {
	if c.left > 0 {
		c.left--
		c.looks++
		if c.left == 0 {
			close(c.done)
		}
		return nil
	}
	c.after++
	return context.Canceled
}

// written counts the bytes w receives after c ended.
type written struct {
	c *countdown
	n int
}

func (w *written) Write(p []byte) (int, error) {
	if w.c.left == 0 {
		w.n += len(p)
	}
	return len(p), nil
}

// stopsEverywhere renders b once to count the looks at the context
// (looks), asserts that there is at least one look per unit of work
// (minLooks), then cancels at points spread over the whole render and
// asserts that each render returns context.Canceled at once: at most one
// more look at the context and no more than a buffer's worth of output.
func stopsEverywhere(t *testing.T, b *Book, minLooks int) {
	t.Helper()
	full := newCountdown(1 << 40)
	if err := RenderContext(full, io.Discard, b, Options{}); err != nil {
		t.Fatal(err)
	}
	total := full.looks
	if total < minLooks {
		t.Fatalf("the render looked at its context %d times, want at least %d", total, minLooks)
	}
	for _, at := range []int{1, total / 10, total / 4, total / 2, 3 * total / 4, total - 2, total - 1} {
		if at < 1 {
			continue
		}
		c := newCountdown(at)
		w := &written{c: c}
		err := RenderContext(c, w, b, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at look %d of %d: %v, want context.Canceled", at, total, err)
			continue
		}
		if c.after > 1 {
			t.Errorf("cancelled at look %d of %d: the render looked %d more times", at, total, c.after)
		}
		if w.n > 64<<10 {
			t.Errorf("cancelled at look %d of %d: %d bytes written afterwards", at, total, w.n)
		}
	}
}

// A book stops between chapters, blocks, words and pages: some 20 looks
// at the context per page of 400 words, so a stop lands within a few
// words' typesetting.
func TestRenderStopsInABook(t *testing.T) {
	b := corpusBook(t)
	b.Chapters = b.Chapters[:6]
	var words int
	for _, c := range b.Chapters {
		words += len(strings.Fields(string(c.Markdown)))
	}
	stopsEverywhere(t, b, words/stopEvery)
}

// The longest paragraph accepted (512 KiB) stops while its words are
// shaped and while its lines are broken.
func TestRenderStopsInALongParagraph(t *testing.T) {
	word := []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dogs", "question", "unfortunately"}
	var p strings.Builder
	for i := 0; p.Len() < 500<<10; i++ {
		p.WriteString(word[i%len(word)])
		p.WriteByte(' ')
	}
	b := &Book{Title: "Long", Chapters: []Chapter{{Title: "One", Markdown: []byte(p.String())}}}
	words := len(strings.Fields(p.String()))
	stopsEverywhere(t, b, words/stopEvery)
}

// A large PNG stops while it is decoded, converted and compressed.
func TestRenderStopsInAnImage(t *testing.T) {
	const w, h = 1600, 1200
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * y), uint8(x ^ y), uint8(x + 3*y), 255})
		}
	}
	var data bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&data, img); err != nil {
		t.Fatal(err)
	}
	b := &Book{
		Title:    "Picture",
		Chapters: []Chapter{{Title: "One", Markdown: []byte("![A picture](p.png)\n")}},
		Images:   func(string) ([]byte, error) { return data.Bytes(), nil },
	}
	// One look per 64 rows converted and per 256 KiB compressed, besides
	// those of the decoder's reads.
	stopsEverywhere(t, b, h/64+3*w*h/(256<<10))
}

// endOnWrite ends c when the PDF's first bytes are written (the first
// 64 KiB, some pages in) and counts the bytes written after that.
type endOnWrite struct {
	c     *countdown
	after int
}

func (w *endOnWrite) Write(p []byte) (int, error) {
	if w.c.left > 0 {
		w.c.left = 0
		close(w.c.done)
		return len(p), nil
	}
	w.after += len(p)
	return len(p), nil
}

// Writing stops between pages: a render cancelled when its first bytes
// are written writes at most a buffer more, not the rest of the book.
func TestRenderStopsWhileWriting(t *testing.T) {
	b := corpusBook(t)
	b.Chapters = b.Chapters[:6]
	var whole bytes.Buffer
	if err := Render(&whole, b, Options{}); err != nil {
		t.Fatal(err)
	}
	c := newCountdown(1 << 40)
	w := &endOnWrite{c: c}
	if err := RenderContext(c, w, b, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while writing: %v, want context.Canceled", err)
	}
	if w.after > 64<<10 {
		t.Errorf("%d bytes written after the cancellation (the whole PDF is %d)", w.after, whole.Len())
	}
}
