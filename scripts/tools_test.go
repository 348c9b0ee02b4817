// Package scripts_test tests the shell scripts beside it: the paths a
// brand-new machine takes, which a warm developer machine never does
// (issue 11: the test command died silently where the pinned tools were
// not installed yet).
package scripts_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A small pinned tool: the test installs it into an empty folder. The
// test command installs it first (scripts/tools.sh), so its module and
// build are cached and this costs a link, not a download.
const (
	toolBin = "staticcheck"
	toolPkg = "honnef.co/go/tools/cmd/staticcheck@v0.8.2"
)

// runTools runs scripts/tools.sh with args and extra environment and
// returns its standard output, standard error and error.
func runTools(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is needed to test the scripts: %v", err)
	}
	cmd := exec.Command("bash", append([]string{"tools.sh"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestToolsInstallIntoAnEmptyFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("installs a Go tool")
	}
	bin := t.TempDir()
	env := []string{"GOBIN=" + bin}

	stdout, stderr, err := runTools(t, env, toolBin, toolPkg)
	if err != nil {
		t.Fatalf("tools.sh into an empty folder: %v\nstderr:\n%s", err, stderr)
	}
	if want := "installing staticcheck: " + toolPkg + " (missing)"; !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say what it installs and why; want %q in:\n%s", want, stderr)
	}
	if got := lastLine(stdout); got != bin {
		t.Errorf("last line of stdout = %q, want the tool folder %q", got, bin)
	}
	if _, err := os.Stat(filepath.Join(bin, toolBin)); err != nil {
		t.Fatalf("the tool was not installed: %v", err)
	}

	// Present and the pinned version: nothing to do, nothing said.
	_, stderr, err = runTools(t, env, toolBin, toolPkg)
	if err != nil {
		t.Fatalf("second run: %v\nstderr:\n%s", err, stderr)
	}
	if strings.Contains(stderr, "installing") {
		t.Errorf("second run installed again:\n%s", stderr)
	}
}

func TestToolsReplaceAnotherVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("installs a Go tool")
	}
	// Another Go program under the tool's name stands for another version.
	bin := t.TempDir()
	src := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/impostor\n\ngo 1.26\n")
	write("main.go", "package main\n\nfunc main() {}\n")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, toolBin), ".")
	build.Dir = src
	build.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the impostor: %v\n%s", err, out)
	}

	_, stderr, err := runTools(t, []string{"GOBIN=" + bin}, toolBin, toolPkg)
	if err != nil {
		t.Fatalf("tools.sh over another version: %v\nstderr:\n%s", err, stderr)
	}
	if want := "installing staticcheck: " + toolPkg + " (have example.com/impostor@"; !strings.Contains(stderr, want) {
		t.Errorf("stderr does not name the version it replaces; want %q in:\n%s", want, stderr)
	}
}

func TestToolsFailureIsNamed(t *testing.T) {
	// No network and no cache: go install fails at once, and the script
	// must say where instead of exiting quietly.
	bin := t.TempDir()
	_, stderr, err := runTools(t, []string{"GOBIN=" + bin, "GOPROXY=off"}, "nosuchtool", "example.invalid/nosuchtool@v1.0.0")
	if err == nil {
		t.Fatalf("tools.sh succeeded installing a module that cannot exist:\n%s", stderr)
	}
	for _, want := range []string{
		"installing nosuchtool: example.invalid/nosuchtool@v1.0.0 (missing)",
		"tools.sh: line ",
		"go install",
		"(exit 1)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestToolsUsage(t *testing.T) {
	_, stderr, err := runTools(t, nil, "only-one-argument")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("tools.sh with one argument: err = %v, want exit status 2\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "usage:") {
		t.Errorf("no usage message:\n%s", stderr)
	}
}

// TestTestScriptNamesTheFailingStep makes the test command's go vet step
// fail at once (an unknown flag in GOFLAGS) and checks that the script
// says which step and which command failed, instead of a bare exit 1.
func TestTestScriptNamesTheFailingStep(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatalf("bash is needed to test the scripts: %v", err)
	}
	cmd := exec.Command("bash", "test.sh", "--audit")
	cmd.Env = append(os.Environ(), "GOFLAGS=-no-such-flag")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		t.Fatalf("test.sh passed with a broken GOFLAGS:\n%s", out.String())
	}
	for _, want := range []string{
		"== go vet",
		`test.sh: step "go vet" failed at line `,
		"`go vet ./...` (exit 1)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
