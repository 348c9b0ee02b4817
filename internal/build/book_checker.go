package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bindery/bindery/internal/manuscript"
)

// Check loads the book in dir and returns its quality report
// (manuscript.Check). A book that does not load — malformed metadata.yaml,
// a chapter with invalid UTF-8 — is reported as one error Problem at its
// file and line, not as an error, so that "bindery check" prints every
// finding the same way. The error is for folders that cannot be read at
// all (missing, not a folder) and for ctx.
func Check(ctx context.Context, dir string) ([]manuscript.Problem, error) {
	return CheckWith(ctx, dir, manuscript.CheckOptions{})
}

// CheckWith is Check with options: a draft run's checks, and the limits
// the book is loaded with (o.Limits).
func CheckWith(ctx context.Context, dir string, o manuscript.CheckOptions) ([]manuscript.Problem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	m, err := manuscript.LoadLimits(ctx, root, o.Limits)
	var me *manuscript.Error
	if errors.As(err, &me) {
		return []manuscript.Problem{{File: me.File, Line: me.Line, Severity: manuscript.SeverityError, Message: me.Msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	return manuscript.CheckWith(m, o), nil
}

// WriteProblems prints problems one per line ("file:line: message") and a
// summary line ("2 errors, 1 warning" or "no problems").
func WriteProblems(w io.Writer, problems []manuscript.Problem) error {
	var errs, warns int
	for _, p := range problems {
		if _, err := fmt.Fprintln(w, p.String()); err != nil {
			return err
		}
		if p.Severity == manuscript.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	if errs+warns == 0 {
		_, err := fmt.Fprintln(w, "no problems")
		return err
	}
	_, err := fmt.Fprintf(w, "%s, %s\n", plural(errs, "error"), plural(warns, "warning"))
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
