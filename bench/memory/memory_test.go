//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/bindery/bindery/internal/cli"
)

// budget is issue 13's memory budget: any single build of an input within
// the limits peaks under 256 MB of resident memory.
const budget = 256 << 20

// childEnv names the book a child process builds (TestBuildChild);
// genEnv the folder a child writes the cases into (TestWriteChild).
const (
	childEnv = "BINDERY_MEMORY_TEST_BOOK"
	genEnv   = "BINDERY_MEMORY_TEST_CASES"
)

// child runs the test named test in a child process with env added, and
// returns its peak resident memory in bytes. A child shares its parent's
// memory until it executes (Go forks with CLONE_VM), so its ru_maxrss
// counts the parent's resident memory too: the parent stays small, and
// the cases are written by a child of their own.
func child(t *testing.T, test, env string) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", env, err, out.String())
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
}

// TestMemoryBudget builds each worst case of Cases in a child process —
// `bindery build --formats pdf,epub,html`, through cli.Run as main does,
// with the default limits — and asserts that its peak resident memory
// (getrusage's ru_maxrss) stays under 256 MB. Memory is not timing: the
// figure does not depend on the machine's load.
func TestMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds five books of several MB")
	}
	if raceEnabled {
		t.Skip("the race detector multiplies memory; run without -race")
	}
	dir := t.TempDir()
	child(t, "TestWriteChild", genEnv+"="+dir)
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) {
			peak := child(t, "TestBuildChild", childEnv+"="+filepath.Join(dir, c.Name))
			t.Logf("%s: peak RSS %d MB", c.About, peak>>20)
			if peak >= budget {
				t.Errorf("%s: peak RSS %d MB, over the budget of %d MB", c.About, peak>>20, budget>>20)
			}
		})
	}
}

// TestBuildChild is the child of TestMemoryBudget: it builds the book
// named by BINDERY_MEMORY_TEST_BOOK, and does nothing without it.
func TestBuildChild(t *testing.T) {
	book := os.Getenv(childEnv)
	if book == "" {
		return
	}
	var out bytes.Buffer
	code := cli.Run(context.Background(), []string{"build", book, "--out", t.TempDir(), "--formats", "pdf,epub,html"}, os.Getenv, nil, &out, &out)
	if code != 0 {
		t.Fatalf("bindery build %s: exit %d\n%s", book, code, out.String())
	}
}

// TestWriteChild is the child of TestMemoryBudget that writes the cases
// into the folder named by BINDERY_MEMORY_TEST_CASES.
func TestWriteChild(t *testing.T) {
	dir := os.Getenv(genEnv)
	if dir == "" {
		return
	}
	for _, c := range Cases {
		if err := c.Write(dir); err != nil {
			t.Fatal(err)
		}
	}
}
