package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/config"
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
// argument as its value (--out, --formats, --book).
func flagTakesValue(a string) bool {
	switch strings.TrimLeft(a, "-") {
	case "out", "formats", "book":
		return !strings.Contains(a, "=")
	}
	return false
}

// setUsage makes --help print text: the command's arguments, what it
// does, and an example.
func setUsage(e *env, fs *flag.FlagSet, text string) {
	fs.Usage = func() { fmt.Fprint(e.stderr, text) }
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
	draft := fs.Bool("draft", false, "build despite missing images and broken links")
	setUsage(e, fs, `Usage: bindery build DIR [--out DIR] [--formats epub,html,pdf] [--draft]

Builds the book folder DIR (metadata.yaml, chapters/, assets/) into
<slug>.epub, .html and .pdf in --out (default DIR/build), after the
checks of bindery check. Problems are printed as file:line: message; any
error makes the exit code 1 and writes nothing.

  --out DIR        where to write the outputs (default DIR/build)
  --formats LIST   which outputs, comma-separated (default epub,html,pdf)
  --draft          build a work in progress: a missing image becomes a
                   visible placeholder and a broken link plain text, each
                   reported as a warning

Examples:
  bindery build examples/lighthouse --out out
  bindery build ~/books/novel --formats pdf
`)
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
	lim, err := buildLimits(e)
	if err != nil {
		return err
	}
	// Reproducible builds stamp the EPUB with SOURCE_DATE_EPOCH instead of
	// the clock.
	modified, err := build.SourceDateEpoch(e.getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	show, finish := build.Display(e.stderr, isTerminal(e.stderr))
	res, err := build.Run(ctx, build.Options{Dir: dir, OutDir: *out, Formats: fmts, Draft: *draft, Limits: lim, Modified: modified, Progress: show})
	finish()
	for _, a := range res.Artifacts {
		fmt.Fprintf(e.stdout, "%s\t%d bytes\n", a.Path, a.Size)
	}
	return err
}

// buildLimits are the limits of the environment (and .env), the server's
// own: a book built here is refused where the server would refuse it.
func buildLimits(e *env) (manuscript.Limits, error) {
	getenv, err := layeredEnv(e)
	if err != nil {
		return manuscript.Limits{}, err
	}
	l, err := config.LoadLimits(getenv)
	if err != nil {
		return manuscript.Limits{}, err
	}
	return manuscriptLimits(l, 0), nil
}

// errProblems makes `check` exit non-zero after printing its report.
var errProblems = errors.New("the book has errors")

func runCheck(ctx context.Context, e *env, args []string) error {
	dir, rest := splitDir(args)
	fs := newFlags(e, "check")
	setUsage(e, fs, `Usage: bindery check DIR

Checks the book folder DIR as a build would, without building: metadata,
chapters, images, links, footnotes, the stylesheet. Prints the report as
file:line: message (warnings marked) and exits 1 when there is an error.

Example:
  bindery check examples/lighthouse
`)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if dir == "" {
		return usagef("check needs a book folder: bindery check DIR")
	}
	lim, err := buildLimits(e)
	if err != nil {
		return err
	}
	problems, err := build.CheckWith(ctx, dir, manuscript.CheckOptions{Limits: lim})
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
