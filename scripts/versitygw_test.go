package scripts_test

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runVersitygw runs scripts/versitygw.sh with args and extra environment.
func runVersitygw(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"versitygw.sh"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// needVersitygw skips (fails under CI=true) when the pinned versitygw is
// not installed: installing it cold takes minutes, which a unit test
// should not spend; the test command installs it before the tests.
func needVersitygw(t *testing.T) {
	t.Helper()
	bin := os.Getenv("GOBIN")
	if bin == "" {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(strings.TrimSpace(string(out)), "bin")
	}
	if _, err := os.Stat(filepath.Join(bin, "versitygw")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("versitygw is not installed in %s (scripts/versitygw.sh install)", bin)
		}
		t.Skipf("versitygw is not installed in %s (scripts/versitygw.sh install)", bin)
	}
}

// TestVersitygwStartStop starts a server as the test command does, checks
// what it exports, that it answers on loopback, that its credentials are
// not on its command line, and that stop ends it and removes its folder.
func TestVersitygwStartStop(t *testing.T) {
	needVersitygw(t)
	tmp := t.TempDir()
	stdout, stderr, err := runVersitygw(t, []string{"TMPDIR=" + tmp}, "start")
	if err != nil {
		t.Fatalf("start: %v\n%s", err, stderr)
	}
	vars := map[string]string{}
	for line := range strings.Lines(stdout) {
		kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			t.Fatalf("start printed a line that is not an export: %q", line)
		}
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	dir := vars["BINDERY_TEST_S3_DIR"]
	t.Cleanup(func() { _, _, _ = runVersitygw(t, []string{"BINDERY_TEST_S3_DIR=" + dir}, "stop") })
	for _, k := range []string{"BINDERY_TEST_S3_ENDPOINT", "BINDERY_TEST_S3_BUCKET", "BINDERY_TEST_S3_ACCESS_KEY", "BINDERY_TEST_S3_SECRET_KEY", "BINDERY_TEST_S3_DIR"} {
		if vars[k] == "" {
			t.Errorf("start did not export %s:\n%s", k, stdout)
		}
	}
	if !strings.HasPrefix(vars["BINDERY_TEST_S3_ENDPOINT"], "http://127.0.0.1:") {
		t.Errorf("endpoint %q is not on loopback", vars["BINDERY_TEST_S3_ENDPOINT"])
	}
	if !strings.HasPrefix(dir, tmp) {
		t.Errorf("folder %q is not under TMPDIR %q", dir, tmp)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("folder: %v, %v; want mode 0700", fi, err)
	}
	if strings.Contains(stderr, vars["BINDERY_TEST_S3_SECRET_KEY"]) {
		t.Errorf("start wrote the secret key to its standard error")
	}
	resp, err := http.Get(vars["BINDERY_TEST_S3_ENDPOINT"] + "/")
	if err != nil {
		t.Fatalf("the server does not answer: %v", err)
	}
	_ = resp.Body.Close()

	pidText, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(pidText))
	if cmdline, err := os.ReadFile("/proc/" + pid + "/cmdline"); err == nil && bytes.Contains(cmdline, []byte(vars["BINDERY_TEST_S3_SECRET_KEY"])) {
		t.Errorf("the secret key is on the server's command line")
	}

	if _, stderr, err := runVersitygw(t, []string{"BINDERY_TEST_S3_DIR=" + dir}, "stop"); err != nil {
		t.Fatalf("stop: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stop left the folder: %v", err)
	}
	// The server process is not our child (the script started it), so
	// poll for its end with a deadline.
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || bytes.Contains(st, []byte(") Z ")) {
			break // gone, or a zombie waiting for init
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw (pid %s) still runs after stop", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestVersitygwUsage(t *testing.T) {
	_, stderr, err := runVersitygw(t, nil, "sideways")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(stderr, "usage:") {
		t.Fatalf("versitygw.sh sideways: %v, want exit status 2 and a usage line\n%s", err, stderr)
	}
	// stop without a server is a no-op, so an EXIT trap may always run it.
	if _, stderr, err := runVersitygw(t, []string{"BINDERY_TEST_S3_DIR="}, "stop"); err != nil {
		t.Fatalf("stop with nothing started: %v\n%s", err, stderr)
	}
}
