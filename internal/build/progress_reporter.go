package build

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
)

// progress reports the steps of a build: a redrawn bar on a terminal, plain
// lines otherwise (so logs and CI output stay readable).
type progress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newProgress(w io.Writer, terminal bool, steps int) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w}
	if terminal {
		p.bar = progressbar.NewOptions(steps,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(24),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// step announces the step that starts now.
func (p *progress) step(desc string) {
	if p.bar != nil {
		p.bar.Describe(desc)
	}
}

// done reports the end of a step with a message kept on screen (none
// when msg is empty).
func (p *progress) done(msg string) {
	if msg != "" {
		p.line(msg)
	}
	if p.bar != nil {
		_ = p.bar.Add(1)
	}
}

// line prints msg on its own line, above the bar when there is one.
func (p *progress) line(msg string) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.w, msg)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
