package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/manuscript"
	"golang.org/x/term"
)

// splitDir separates the book folder from flags, so that both
// `build DIR --out X` and `build --out X DIR` work.
func splitDir(args []string) (string, []string) {
	for i, a := range args {
		if len(a) > 0 && a[0] != '-' && (i == 0 || !flagTakesValue(args[i-1])) {
			rest := append(append([]string{}, args[:i]...), args[i+1:]...)
			return a, rest
		}
	}
	return "", args
}

// flagTakesValue reports whether a "--name" argument expects the next
// argument as its value (our flags are --out and --formats).
func flagTakesValue(a string) bool {
	return a == "--out" || a == "-out" || a == "--formats" || a == "-formats"
}

// isTerminal reports whether w is a terminal (for the progress bar).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func runBuild(ctx context.Context, e *env, args []string) error {
	dir, rest := splitDir(args)
	fs := newFlags(e, "build")
	out := fs.String("out", "", "output folder (default DIR/build)")
	formats := fs.String("formats", "epub,html,pdf", "comma-separated: epub, html, pdf")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if dir == "" || fs.NArg() > 0 {
		return usagef("build needs exactly one book folder: bindery build DIR [--out DIR] [--formats epub,html,pdf]")
	}
	fmts, err := build.ParseFormats(*formats)
	if err != nil {
		return usagef("%v", err)
	}
	res, err := build.Run(ctx, build.Options{
		Dir: dir, OutDir: *out, Formats: fmts,
		Progress: e.stderr, Terminal: isTerminal(e.stderr),
	})
	for _, a := range res.Artifacts {
		fmt.Fprintf(e.stdout, "%s\t%d bytes\n", a.Path, a.Size)
	}
	return err
}

// errProblems makes `check` exit non-zero after printing its report.
var errProblems = errors.New("the book has errors")

func runCheck(ctx context.Context, e *env, args []string) error {
	dir, rest := splitDir(args)
	if err := newFlags(e, "check").Parse(rest); err != nil {
		return err
	}
	if dir == "" {
		return usagef("check needs a book folder: bindery check DIR")
	}
	problems, err := build.Check(ctx, dir)
	if err != nil {
		return err
	}
	if err := build.WriteProblems(e.stdout, problems); err != nil {
		return err
	}
	if manuscript.HasErrors(problems) {
		return errProblems
	}
	return nil
}
