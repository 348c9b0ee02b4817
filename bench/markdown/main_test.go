package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// coverPkgs are the packages whose statements count as work: the parser,
// (this package too: a main package without counters turns coverage off),
// our shape scan, check and renderer, the sanitiser and the HTML parser.
const coverPkgs = "github.com/bindery/bindery/bench/markdown,github.com/yuin/goldmark/...,github.com/bindery/bindery/internal/manuscript,github.com/bindery/bindery/internal/render/markdown,golang.org/x/net/html,github.com/microcosm-cc/bluemonday"

// TestWorkIsLinear fails if any family of bench/markdown turns
// super-linear again: for each, the statements executed (coverage
// counters, which do not depend on the machine's speed or load) while
// loading, checking and rendering an input of 4n units must be at most 5
// times those for n units. Wall time would be flaky on a shared machine;
// a count of work is not. A family may instead be refused by a limit of
// package manuscript (the shapes grown without bound in one paragraph).
func TestWorkIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a coverage binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed to build the counting binary:", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "mdbench")
	build := exec.Command(goTool, "build", "-cover", "-covermode=atomic", "-coverpkg="+coverPkgs, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -cover: %v\n%s", err, out)
	}
	work := filepath.Join(dir, "work")
	// testdata/prose: two chapters of Frankenstein (public domain).
	run := exec.Command(bin, "-workdir", work, "-n", "1000", "-corpus", "testdata/prose")
	run.Env = append(os.Environ(), "GOCOVERDIR="+t.TempDir()) // turns the counters on
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", run, err, out)
	}
	prose, err := readProse("testdata/prose")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families(prose) {
		t.Run(f.name, func(t *testing.T) {
			for _, size := range []string{"1000", "4000"} {
				if msg, err := os.ReadFile(filepath.Join(work, Slug(f.name), size, "refused")); err == nil {
					t.Logf("%s units refused: %s", size, msg)
					return // a limit with a file:line message is the promised behaviour
				}
			}
			w1 := statements(t, goTool, filepath.Join(work, Slug(f.name), "1000"))
			w4 := statements(t, goTool, filepath.Join(work, Slug(f.name), "4000"))
			ratio := float64(w4) / float64(w1)
			t.Logf("%d → %d statements: ×%.2f", w1, w4, ratio)
			if ratio > 5 {
				t.Errorf("×4 input costs ×%.1f work (%d → %d statements): super-linear", ratio, w1, w4)
			}
		})
	}
}

// statements sums the statements executed in the coverage data of dir.
func statements(t *testing.T, goTool, dir string) int64 {
	t.Helper()
	txt := filepath.Join(t.TempDir(), "cover.txt")
	if out, err := exec.Command(goTool, "tool", "covdata", "textfmt", "-i="+dir, "-o="+txt).CombinedOutput(); err != nil {
		t.Fatalf("covdata: %v\n%s", err, out)
	}
	f, err := os.Open(txt)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sum int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue // the "mode:" line
		}
		stmts, err1 := strconv.ParseInt(fields[1], 10, 64)
		count, err2 := strconv.ParseInt(fields[2], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		sum += stmts * count
	}
	if sum == 0 {
		t.Fatalf("no work counted in %s", dir)
	}
	return sum
}
