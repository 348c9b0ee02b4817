package manuscript

import (
	"fmt"
	"sort"
)

// Severity grades a Problem.
type Severity int

const (
	// SeverityWarning marks something a reader would notice but that still
	// builds: missing alt text, an empty chapter, a heading level jump.
	SeverityWarning Severity = iota + 1
	// SeverityError marks something that would produce a broken book: a
	// missing image, a broken internal link, a missing title. Builds stop.
	SeverityError
)

func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}

// Problem is one finding of Check.
type Problem struct {
	File     string // slash path relative to the book folder
	Line     int    // 1-based; 0 for the whole file
	Severity Severity
	Message  string
}

// String formats p as "file:line: message" (the compiler convention editors
// understand), with "warning: " in front of the message of warnings.
func (p Problem) String() string {
	msg := p.Message
	if p.Severity == SeverityWarning {
		msg = "warning: " + msg
	}
	return (&Error{File: p.File, Line: p.Line, Msg: msg}).Error()
}

// HasErrors reports whether any problem has SeverityError.
func HasErrors(ps []Problem) bool {
	for _, p := range ps {
		if p.Severity == SeverityError {
			return true
		}
	}
	return false
}

// problems collects Check's findings; draft makes the draftable ones
// warnings.
type problems struct {
	list  []Problem
	draft bool
}

func (ps *problems) add(sev Severity, file string, line int, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: file, Line: line, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// draftable adds an error that a draft build reports as a warning, saying
// what the draft shows instead.
func (ps *problems) draftable(instead, file string, line int, format string, args ...any) {
	if !ps.draft {
		ps.add(SeverityError, file, line, format, args...)
		return
	}
	ps.add(SeverityWarning, file, line, format+" (draft: %s)", append(args, instead)...)
}

func (ps problems) sorted(order map[string]int) []Problem {
	l := ps.list
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return order[a.File] < order[b.File]
		}
		return a.Line < b.Line
	})
	return l
}
