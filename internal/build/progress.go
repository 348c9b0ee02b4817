package build

import (
	"fmt"
	"io"
	"time"

	"github.com/bindery/bindery/internal/manuscript"
)

// EventKind says what a build Event reports.
type EventKind int

const (
	// StepStarted: step Step of Steps begins; Message says what it does
	// ("writing epub").
	StepStarted EventKind = iota
	// StepDone: the step ended; Message says how ("loaded 12 chapters"),
	// or is empty when the events of the step said it (Wrote).
	StepDone
	// Warning: Problem is a warning of the book (errors come back in the
	// ProblemsError instead).
	Warning
	// Wrote: Artifact was written, in Elapsed.
	Wrote
)

// Event is one piece of a build's progress, as values: the terminal shows
// it as a bar (Display), the server turns it into stage progress and run
// events — neither parses text the other printed.
type Event struct {
	Kind        EventKind
	Step, Steps int    // 1-based number of the current step, and how many there are
	Message     string // StepStarted, StepDone
	Problem     manuscript.Problem
	Artifact    Artifact
	Elapsed     time.Duration // Wrote: time spent on the artifact's format
}

// String is the event as one plain line, as "bindery build" prints it.
func (e Event) String() string {
	switch e.Kind {
	case Warning:
		return e.Problem.String()
	case Wrote:
		return fmt.Sprintf("wrote %s (%s) in %s", e.Artifact.Path, HumanSize(e.Artifact.Size), e.Elapsed.Round(time.Millisecond))
	}
	return e.Message
}

// Display returns a Progress function that shows a build on w: a redrawn
// bar on a terminal, one plain line per finished step, warning and file
// otherwise (so logs and CI output stay readable). Call the returned
// finish when the build returns.
func Display(w io.Writer, terminal bool) (report func(Event), finish func()) {
	var p *progress
	report = func(e Event) {
		if p == nil {
			p = newProgress(w, terminal, e.Steps)
		}
		switch e.Kind {
		case StepStarted:
			p.step(e.Message)
		case StepDone:
			p.done(e.Message)
		case Warning, Wrote:
			p.line(e.String())
		}
	}
	finish = func() {
		if p != nil {
			p.finish()
		}
	}
	return report, finish
}
