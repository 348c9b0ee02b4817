package manuscript

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// Error is a problem with one file of a book folder. It prints as
// "file:line: message", or "file: message" when Line is 0, so that editors
// and terminals can jump to it. File is slash-separated and relative to the
// book folder; it never holds an absolute path of the machine.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem concerns the whole file
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// yamlLineRE finds the "line N: message" part of a YAML library error.
var yamlLineRE = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError turns an error of the YAML library into an *Error for file, whose
// YAML text starts at line firstLine of the file.
func yamlError(file string, firstLine int, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: n + firstLine - 1, Msg: m[2]}
	}
	return &Error{File: file, Line: firstLine, Msg: trimYAMLPrefix(msg)}
}

func trimYAMLPrefix(s string) string {
	const p = "yaml: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
