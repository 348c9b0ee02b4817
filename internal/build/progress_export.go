package build

import "io"

// Progress is the build's progress display — a bar redrawn on a terminal,
// plain lines otherwise — for other commands that show a build the same
// way (bindery run --follow shows a server's run with it).
type Progress = progress

// NewProgress returns a display of steps steps on w.
func NewProgress(w io.Writer, terminal bool, steps int) *Progress {
	return newProgress(w, terminal, steps)
}

// Step announces the step that starts now.
func (p *progress) Step(desc string) { p.step(desc) }

// Done ends a step with a message kept on screen.
func (p *progress) Done(msg string) { p.done(msg) }

// Line prints msg on its own line, above the bar when there is one.
func (p *progress) Line(msg string) { p.line(msg) }

// Finish completes the bar.
func (p *progress) Finish() { p.finish() }
