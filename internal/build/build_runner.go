package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/epub"
	bhtml "github.com/bindery/bindery/internal/render/html"
	"github.com/bindery/bindery/internal/render/markdown"
)

// Format is an output format, named as on the command line.
type Format string

const (
	EPUB Format = "epub"
	HTML Format = "html"
	PDF  Format = "pdf"
)

// DefaultFormats are built when Options.Formats is empty.
var DefaultFormats = []Format{EPUB, HTML, PDF}

// ParseFormats parses a --formats value such as "epub,html,pdf". Names are
// case-insensitive; duplicates are dropped; an empty value gives
// DefaultFormats.
func ParseFormats(s string) ([]Format, error) {
	var out []Format
	seen := map[Format]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		switch Format(f) {
		case EPUB, HTML, PDF:
		default:
			return nil, fmt.Errorf("unknown format %q (want epub, html or pdf)", f)
		}
		if !seen[Format(f)] {
			seen[Format(f)] = true
			out = append(out, Format(f))
		}
	}
	if len(out) == 0 {
		return DefaultFormats, nil
	}
	return out, nil
}

// Renderer writes one format of a loaded book. The PDF renderer (package
// render/pdf, written separately) plugs in through Options.PDF.
type Renderer interface {
	Render(ctx context.Context, w io.Writer, m *manuscript.Manuscript) error
}

// RendererFunc adapts a function to Renderer.
type RendererFunc func(ctx context.Context, w io.Writer, m *manuscript.Manuscript) error

// Render calls f.
func (f RendererFunc) Render(ctx context.Context, w io.Writer, m *manuscript.Manuscript) error {
	return f(ctx, w, m)
}

// Options configure Run. Only Dir is required.
type Options struct {
	Dir     string   // the book folder
	OutDir  string   // where artifacts go; "" means Dir/build. Created if missing.
	Formats []Format // nil means DefaultFormats
	// PDF renders the pdf format; nil means PDFRenderer(), the native
	// typesetter of render/pdf.
	PDF Renderer
	// Progress receives the build's progress and warnings as values
	// (Event); nil discards them. Display shows them on a terminal.
	Progress func(Event)
	// Manuscript is the book already loaded from Dir (a server run loads
	// it once for all its stages); nil means Run loads Dir itself.
	Manuscript *manuscript.Manuscript
	// Modified is the EPUB's dcterms:modified; zero means the build time
	// (the time Run starts). A reproducible build sets it, from
	// SOURCE_DATE_EPOCH (see SourceDateEpoch): the command line does.
	Modified time.Time
	// Draft builds a book whose images are missing or whose links are
	// broken: those are warnings, the images placeholders and the links
	// plain text (manuscript.CheckOptions.Draft).
	Draft bool
	// Limits bound what the book may hold (manuscript.Limits; a zero
	// field takes its default): the configuration's, so that a build at
	// the terminal refuses what the server would.
	Limits manuscript.Limits
}

// Artifact is one file written by Run.
type Artifact struct {
	Format Format
	Path   string // in OutDir
	Size   int64
}

// Result is what Run did: the files written and the problems found (only
// warnings when Run succeeds).
type Result struct {
	Artifacts []Artifact
	Problems  []manuscript.Problem
}

// ProblemsError is returned by Run when Check finds errors: nothing is
// built from a book with broken images or links. It prints one
// "file:line: message" line per problem.
type ProblemsError struct {
	Problems []manuscript.Problem // all problems, errors and warnings
}

func (e *ProblemsError) Error() string {
	var lines []string
	for _, p := range e.Problems {
		if p.Severity == manuscript.SeverityError {
			lines = append(lines, p.String())
		}
	}
	return strings.Join(lines, "\n")
}

// Run builds the book in opts.Dir. Errors of the book are
// *manuscript.Error ("file:line: message", from loading) or
// *ProblemsError (from checking); others concern the file system or ctx.
// Artifacts are named after the book title ("the-keeper.epub") and written
// atomically; on error, the artifacts already written stay listed in the
// Result.
func Run(ctx context.Context, opts Options) (Result, error) {
	var res Result
	formats := opts.Formats
	if len(formats) == 0 {
		formats = DefaultFormats
	}
	opts.Formats = formats
	if opts.PDF == nil {
		opts.PDF = PDFRenderer()
	}
	opts.Modified = modifiedTime(opts.Modified, time.Now)
	out := opts.OutDir
	if out == "" {
		out = filepath.Join(opts.Dir, "build")
	}
	report := opts.Progress
	if report == nil {
		report = func(Event) {}
	}
	steps, step := 2+len(formats), 0
	start := func(msg string) {
		step++
		report(Event{Kind: StepStarted, Step: step, Steps: steps, Message: msg})
	}
	done := func(msg string) { report(Event{Kind: StepDone, Step: step, Steps: steps, Message: msg}) }

	start("loading " + opts.Dir)
	m := opts.Manuscript
	if m == nil {
		root, err := os.OpenRoot(opts.Dir)
		if err != nil {
			return res, err
		}
		defer root.Close()
		if m, err = manuscript.LoadLimits(ctx, root, opts.Limits); err != nil {
			return res, err
		}
	}
	done("loaded " + plural(len(m.Chapters), "chapter"))

	start("checking")
	res.Problems = manuscript.CheckWith(m, manuscript.CheckOptions{Draft: opts.Draft, Limits: opts.Limits})
	res.Problems = append(res.Problems, epubWarnings(m, formats)...)
	for _, pr := range res.Problems {
		if pr.Severity == manuscript.SeverityWarning { // errors come back in the ProblemsError
			report(Event{Kind: Warning, Step: step, Steps: steps, Problem: pr})
		}
	}
	if manuscript.HasErrors(res.Problems) {
		return res, &ProblemsError{Problems: res.Problems}
	}
	done("checked")

	if err := os.MkdirAll(out, 0o755); err != nil {
		return res, err
	}
	r := markdown.New()
	base := baseName(m)
	for _, f := range buildOrder(formats) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		start("writing " + string(f))
		began := time.Now()
		a, err := writeFormat(ctx, out, base, f, m, r, opts)
		res.Artifacts = append(res.Artifacts, a...)
		if err != nil {
			return res, fmt.Errorf("%s: %w", f, err)
		}
		for _, x := range a {
			report(Event{Kind: Wrote, Step: step, Steps: steps, Artifact: x, Elapsed: time.Since(began)})
		}
		for _, pr := range formatWarnings(f, opts) {
			res.Problems = append(res.Problems, pr)
			report(Event{Kind: Warning, Step: step, Steps: steps, Problem: pr})
		}
		// What one format built (the PDF's whole layout, a decoded
		// image) is garbage now: collect it and give it back before the
		// next format, whose allocations would otherwise pile on top up
		// to twice the last peak (Go's heap goal). A few milliseconds.
		debug.FreeOSMemory()
		done("") // the Wrote events said it
	}
	slices.SortStableFunc(res.Artifacts, func(a, b Artifact) int {
		return slices.Index(formats, a.Format) - slices.Index(formats, b.Format)
	})
	return res, nil
}

// formatWarnings are the warnings of writing format f: the PDF
// renderer's, when it has any (see nativePDF.Warnings).
func formatWarnings(f Format, opts Options) []manuscript.Problem {
	if w, ok := opts.PDF.(interface{ Warnings() []manuscript.Problem }); ok && f == PDF {
		return w.Warnings()
	}
	return nil
}

// buildOrder is the order formats are written in: as asked, except that
// the PDF comes before an EPUB, whose page-list then takes where the
// printed pages start from the PDF's layout instead of holding a layout
// of its own while it is written. Result.Artifacts keeps the asked order.
func buildOrder(formats []Format) []Format {
	e, p := slices.Index(formats, EPUB), slices.Index(formats, PDF)
	if e < 0 || p < e {
		return formats
	}
	out := slices.Clone(formats)
	out = slices.Delete(out, p, p+1)
	return slices.Insert(out, e, PDF)
}

func writeFormat(ctx context.Context, out, base string, f Format, m *manuscript.Manuscript, r *markdown.Renderer, opts Options) ([]Artifact, error) {
	var write func(w io.Writer) error
	var extra []bhtml.File
	switch f {
	case EPUB:
		write = func(w io.Writer) error {
			var pages func() ([]epub.PrintPage, error)
			if slices.Contains(opts.Formats, PDF) { // a print edition to map the pages to
				pages = printPages(ctx, m, opts.PDF)
			}
			return epub.Write(ctx, w, m, epub.Options{Modified: opts.Modified, Renderer: r, PrintPages: pages})
		}
	case HTML:
		write = func(w io.Writer) error {
			var err error
			extra, err = bhtml.Write(ctx, w, m, bhtml.Options{Renderer: r})
			return err
		}
	case PDF:
		write = func(w io.Writer) error { return opts.PDF.Render(ctx, w, m) }
	default:
		return nil, fmt.Errorf("unknown format %q", f)
	}
	a, err := WriteAtomic(filepath.Join(out, base+"."+string(f)), write)
	if err != nil {
		return nil, err
	}
	a.Format = f
	arts := []Artifact{a}
	for _, x := range extra { // none with embedded images; kept for CopyImages
		xa, err := WriteAtomic(filepath.Join(out, filepath.FromSlash(x.Name)), func(w io.Writer) error {
			_, err := w.Write(x.Data)
			return err
		})
		if err != nil {
			return arts, err
		}
		xa.Format = f
		arts = append(arts, xa)
	}
	return arts, nil
}

// baseName names the artifacts after the book: the slug of its title, or
// "book".
func baseName(m *manuscript.Manuscript) string {
	if m.Metadata.Title == "" {
		return "book"
	}
	s := manuscript.Slug(m.Metadata.Title)
	if s == "section" {
		return "book"
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return strings.Trim(s, ".-")
}

// HumanSize is n bytes in binary units ("1.5 MiB"), as builds report sizes.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
