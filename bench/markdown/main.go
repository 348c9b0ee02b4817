// Command markdown measures how the cost of parsing and rendering a
// chapter grows with its size, for ordinary prose and for each shape of
// Markdown that once made it super-linear (issue 13): per family, the time
// at n and 4n units and their ratio (linear is 4; the promise is ≤ 5),
// beside goldmark's plain speed on the same prose.
//
//	go run ./bench/markdown [-n 8000] [-runs 3] [-only NAME] [-corpus DIR]
//
// Each run loads a one-chapter book (which scans the shape and parses),
// checks it and renders it to XHTML: what `bindery build` and a preview do
// per chapter. Times are medians of -runs runs; on a shared machine expect
// ±20 % noise on small inputs, hence the count of work below.
//
// With -workdir DIR, a binary built with
//
//	go build -cover -covermode=atomic -coverpkg=... ./bench/markdown
//
// writes, for each family and size, the coverage counters of one run under
// DIR/FAMILY/SIZE: statements executed, a count of work that does not
// depend on the machine (or, in DIR/FAMILY/SIZE/refused, the message of a
// limit that refused the input). TestWorkIsLinear reads them.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/coverage"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/markdown"
	"github.com/yuin/goldmark"
)

type family struct {
	name string
	gen  func(n int) []byte
}

// families are the shapes of Markdown that made parsing super-linear (and
// ordinary prose). gen(n) makes an input of about n units. Shapes that
// manuscript refuses beyond a bound (nesting, unmatched markers per
// paragraph, footnotes per chapter) are generated at the largest bound it
// accepts, repeated: the worst accepted input of that size.
func families(prose []byte) []family {
	// paras repeats a paragraph of k copies of unit until n units.
	paras := func(unit string, k int) func(int) []byte {
		return func(n int) []byte {
			p := strings.Repeat(unit, k) + "\n\n"
			return []byte(strings.Repeat(p, max(1, n/k)))
		}
	}
	// numbered repeats f(i) for i < n.
	numbered := func(f func(i int) string) func(int) []byte {
		return func(n int) []byte {
			var b bytes.Buffer
			for i := 0; i < n; i++ {
				b.WriteString(f(i))
			}
			return b.Bytes()
		}
	}
	one := func(unit string) func(int) []byte {
		return func(n int) []byte { return []byte(strings.Repeat(unit, n) + "\n") }
	}
	return []family{
		{"prose", func(n int) []byte { return cut(prose, n*100) }},
		{"links [](", paras("[](", 60)},
		{"unclosed-links [a](<b", paras("[a](<b", 45)},
		{"unclosed-links [a](b", paras("[a](b", 50)},
		{"link-paren [ (](", paras("[ (](", 1000)},
		{"link-openers [a", paras("[a", 1000)},
		{"link-closers a]", paras("a]", 1000)},
		{"link-emph [ a_", paras("[ a_", 100)},
		{"brackets [[[x]]]", func(n int) []byte {
			p := strings.Repeat("[", 1000) + "x" + strings.Repeat("]", 1000) + "\n\n"
			return []byte(strings.Repeat(p, max(1, n/1000)))
		}},
		{"quotes >>>", paras(">", 32)},
		{"quotes > > >", paras("> ", 32)},
		{"lists - - -", paras("- ", 32)},
		{"nested-lists (indent)", numbered(func(i int) string { return strings.Repeat("  ", i%32) + "* a\n" })},
		{"emph-nested", numbered(func(i int) string {
			return strings.Repeat("*a **a ", 15) + "b" + strings.Repeat(" a** a*", 15) + "\n\n"
		})},
		{"emph-closers a_", paras("a_ ", 190)},
		{"emph-openers _a", paras("_a ", 1000)},
		{"emph-mismatch *a_", paras("*a_ ", 120)},
		{"emph-mult3 c*", paras("c* ", 190)},
		{"emph-stars ***", paras("*", 64)},
		{"strike ~~a", paras("~~a ", 250)},
		{"refdefs", numbered(func(i int) string {
			return fmt.Sprintf("[x][r%d] [r%d]\n\n[r%d]: https://e.example/%d\n\n", i, i, i, i)
		})},
		{"refdefs-block", numbered(func(i int) string {
			s := fmt.Sprintf("[r%d]: /u\n", i)
			if i%500 == 499 {
				s += "\n"
			}
			return s
		})},
		{"footnotes (one chapter, up to 1000)", func(n int) []byte {
			n = min(n/8, 1000)
			var b bytes.Buffer
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "Some text with a note.[^%d] And more text that goes on.\n\n", i)
			}
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "[^%d]: The note %d.\n", i, i)
			}
			return b.Bytes()
		}},
		{"footnote-refs", func(n int) []byte { return []byte("[^a]: n\n\n" + strings.Repeat("x[^a] ", n) + "\n") }},
		{"backticks", numbered(func(i int) string { return "e" + strings.Repeat("`", i%100) })},
		{"table-wide", func(n int) []byte {
			return []byte("|" + strings.Repeat("a|", 64) + "\n|" + strings.Repeat("-|", 64) + "\n" + strings.Repeat("|x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x|\n", n))
		}},
		{"table-rows", paras("|x|y|\n", 1)},
		{"autolinks <http://a", paras("<http://a", 1000)},
		{"html-open <a", paras("<a ", 1000)},
		{"html-comment <!--", func(n int) []byte { return []byte("</" + strings.Repeat("<!--", n) + "\n") }},
		{"html-pi <?", paras("<?", 1000)},
		{"html-decl <!A", paras("<!A ", 1000)},
		{"html-cdata", paras("<![CDATA[", 1000)},
		{"entities &#", paras("&#", 1000)},
		{"headings # h", numbered(func(i int) string { return "# h\n" })},

		// The same shapes unbounded, in one paragraph or line: manuscript
		// refuses them beyond its limits (with file:line: message), and
		// must stay linear below them.
		{"one line of [](", one("[](")},
		{"one line of [a](<b", one("[a](<b")},
		{"one line of [a](b", one("[a](b")},
		{"one line of >", one(">")},
		{"one line of - ", one("- ")},
		{"one paragraph of *a_", one("*a_ ")},
		{"one paragraph of c*", one("c* ")},
		{"one paragraph of *a*", one("*a* ")},
		{"one paragraph of _a [*a](u)b*", one("_a [*a](u)b* ")},
		{"one paragraph of _a `*a` b*", one("_a `*a` b* ")},
		{"one paragraph of _a <span>*a</span> b*", one("_a <span>*a</span> b* ")},
		{"one run of *", func(n int) []byte { return []byte(strings.Repeat("*", n) + "a" + strings.Repeat("*", n) + "\n") }},
		{"nesting by indentation", numbered(func(i int) string { return strings.Repeat("  ", i) + "* a\n" })},
		{"one block of [a]: /u", one("[a]: /u\n")},
		{"footnotes without limit", func(n int) []byte {
			var b bytes.Buffer
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "x[^%d] ", i)
			}
			b.WriteString("\n\n")
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "[^%d]: note %d\n", i, i)
			}
			return b.Bytes()
		}},
		{"table of n columns and rows", func(n int) []byte {
			return []byte("|" + strings.Repeat("a|", n) + "\n|" + strings.Repeat("-|", n) + "\n" + strings.Repeat("|x\n", n))
		}},
	}
}

func cut(p []byte, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		b.Write(p)
	}
	return b.Bytes()[:n]
}

func main() {
	n := flag.Int("n", 8000, "base size of each family (units)")
	runs := flag.Int("runs", 3, "runs per measurement (median)")
	only := flag.String("only", "", "measure only the families whose name contains this")
	corpus := flag.String("corpus", "../shared/corpus/frankenstein", "book whose chapters are the prose")
	prof := flag.String("cpuprofile", "", "write a CPU profile to this file")
	preview := flag.Bool("preview", false, "instead: time the preview of a one-line chapter in a book of 40 chapters of 200 KB")
	workdir := flag.String("workdir", "", "write coverage counters per family and size here (binary built with -cover)")
	flag.Parse()
	prose, err := readProse(*corpus)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *preview {
		if err := benchPreview(prose, *runs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	status := 0
	for _, f := range families(prose) {
		if !strings.Contains(f.name, *only) {
			continue
		}
		if *workdir != "" {
			if err := countWork(*workdir, f, *n); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", f.name, err)
				status = 1
			}
			continue
		}
		src1, src4 := f.gen(*n), f.gen(4**n)
		t1, err1 := measure(src1, *runs)
		t4, err4 := measure(src4, *runs)
		if err := errors.Join(err1, err4); err != nil {
			fmt.Printf("%-38s refused: %v\n", f.name, err)
			continue
		}
		fmt.Printf("%-38s %8d B %11v  ×4: %11v  ratio %.1f\n", f.name, len(src1), t1.Round(time.Microsecond), t4.Round(time.Microsecond), float64(t4)/float64(t1))
	}
	if *workdir == "" && *only == "" {
		src := cut(prose, 1<<20)
		md := goldmark.New()
		d, _ := median(*runs, func() error { return md.Convert(src, io.Discard) })
		fmt.Printf("goldmark alone (CommonMark to HTML, no sanitising) on 1 MiB of prose: %.1f MB/s\n", float64(len(src))/d.Seconds()/1e6)
		d, _ = measure(src, *runs)
		fmt.Printf("bindery (shape scan, parse, check, render, sanitise, XHTML) on the same: %.1f MB/s\n", float64(len(src))/d.Seconds()/1e6)
	}
	os.Exit(status)
}

func readProse(dir string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "chapters", "*.md"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no chapters in %s (run from the repository, or pass -corpus)", dir)
	}
	var prose []byte
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		prose = append(prose, d...)
		prose = append(prose, '\n')
	}
	return prose, nil
}

// countWork runs family f once at n and at 4n, writing the coverage
// counters of each run to dir/NAME/SIZE.
func countWork(dir string, f family, n int) error {
	for _, size := range []int{n, 4 * n} {
		out := filepath.Join(dir, Slug(f.name), strconv.Itoa(size))
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		// Writing the meta-data first also tells the runtime the counter
		// mode, which ClearCounters needs.
		if err := coverage.WriteMetaDir(out); err != nil {
			return err
		}
		book, err := writeBook(f.gen(size))
		if err != nil {
			return err
		}
		if err := coverage.ClearCounters(); err != nil {
			os.RemoveAll(book)
			return fmt.Errorf("%w (build with -cover -covermode=atomic)", err)
		}
		err = renderOnce(book)
		os.RemoveAll(book)
		var me *manuscript.Error
		if errors.As(err, &me) { // refused by a limit: say so
			if err := os.WriteFile(filepath.Join(out, "refused"), []byte(me.Error()), 0o644); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := coverage.WriteCountersDir(out); err != nil {
			return err
		}
	}
	return nil
}

// Slug names a family's folder: letters and digits kept, every other
// character as "_" and its code, so that names differing only in
// punctuation ("*a_", "*a*") get different folders.
func Slug(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "_%x", r)
		}
	}
	return b.String()
}

func writeBook(src []byte) (string, error) {
	dir, err := os.MkdirTemp("", "mdbench")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "chapters"), 0o755); err != nil {
		return dir, err
	}
	return dir, os.WriteFile(filepath.Join(dir, "chapters", "01-a.md"), src, 0o644)
}

// renderOnce does what a build does for one chapter: load (shape scan and
// parse), check, render to a sanitised tree, write XHTML.
func renderOnce(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	m, err := manuscript.Load(root)
	if err != nil {
		return err
	}
	manuscript.Check(m)
	fr, err := markdown.New().RenderChapter(context.Background(), m, m.Chapters[0], linker{})
	if err != nil {
		return err
	}
	return fr.WriteXHTML(io.Discard)
}

func measure(src []byte, runs int) (time.Duration, error) {
	dir, err := writeBook(src)
	defer os.RemoveAll(dir)
	if err != nil {
		return 0, err
	}
	return median(runs, func() error { return renderOnce(dir) })
}

func median(runs int, f func() error) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < max(1, runs); i++ {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

type linker struct{}

func (linker) ChapterHref(c *manuscript.Chapter, id string) string { return c.ID + ".xhtml#" + id }
func (linker) ImageSrc(p, _ string) (string, error)                { return p, nil }

// benchPreview times what the preview handler did (load the whole book,
// render one chapter) against what it does (LoadChapter, render), for a
// one-line chapter in a book of 40 chapters of 200 KB of prose.
func benchPreview(prose []byte, runs int) error {
	dir, err := writeBook([]byte("One line.\n"))
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	big := cut(prose, 200_000)
	for i := 2; i <= 41; i++ {
		if err := os.WriteFile(filepath.Join(dir, "chapters", fmt.Sprintf("%02d-big.md", i)), big, 0o644); err != nil {
			return err
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	ctx := context.Background()
	whole := func() error {
		m, err := manuscript.Load(root)
		if err != nil {
			return err
		}
		_, err = markdown.New().RenderChapter(ctx, m, m.Chapters[0], linker{})
		return err
	}
	one := func() error {
		m, c, err := manuscript.LoadChapter(ctx, root, "chapters/01-a.md", manuscript.DefaultLimits)
		if err != nil {
			return err
		}
		_, err = markdown.New().RenderChapter(ctx, m, c, linker{})
		return err
	}
	for _, b := range []struct {
		name string
		f    func() error
	}{{"whole book loaded (before)", whole}, {"one chapter loaded (after)", one}} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d, err := median(runs, b.f)
		runtime.ReadMemStats(&after)
		if err != nil {
			return err
		}
		fmt.Printf("preview, %s: %v, %.1f MB allocated per preview\n", b.name, d.Round(time.Microsecond), float64(after.TotalAlloc-before.TotalAlloc)/float64(max(1, runs))/1e6)
	}
	return nil
}
