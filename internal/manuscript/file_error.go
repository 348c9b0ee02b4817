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
		if h, ok := yamlHints[m[2]]; ok {
			if h.parser {
				n++
			}
			m[2] = h.hint + " (" + m[2] + ")"
		}
		return &Error{File: file, Line: n + firstLine - 1, Msg: m[2]}
	}
	return &Error{File: file, Line: firstLine, Msg: trimYAMLPrefix(msg)}
}

// yamlHints says in plain words what the YAML library's common errors
// mean. The library numbers the lines of its parser's errors from 0 and
// its scanner's from 1; parser marks which is which.
var yamlHints = map[string]struct {
	hint   string
	parser bool
}{
	"did not find expected ',' or ']'":                {"a [list] that starts on this line is not closed: a ',' or ']' is missing", true},
	"did not find expected ',' or '}'":                {"a {mapping} that starts on this line is not closed: a ',' or '}' is missing", true},
	"did not find expected key":                       {"this line is not a \"key: value\" at the indentation of the lines around it", true},
	"did not find expected '-' indicator":             {"this line is not a \"- item\" at the indentation of the list around it", true},
	"did not find expected node content":              {"a value is missing", true},
	"did not find expected <document start>":          {"the text is not a YAML mapping of keys to values", true},
	"could not find expected ':'":                     {"this line is neither \"key: value\" nor \"- item\"", false},
	"mapping values are not allowed in this context":  {"a \": \" where no \"key: value\" can start: check the indentation, or put a value that contains \": \" in quotes", false},
	"found character that cannot start any token":     {"a character that cannot start a value (a tab used for indentation, or a value starting with @ or ` that needs quotes)", false},
	"found a tab character that violates indentation": {"a tab used for indentation: indent with spaces", false},
}

func trimYAMLPrefix(s string) string {
	const p = "yaml: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
