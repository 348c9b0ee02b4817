package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/cli"
)

// copyTree copies the regular files of src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o640)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRemoteCommands: login, push (create, nothing changed, one change and
// a deletion), pull and run --follow against a real `bindery serve`.
func TestRemoteCommands(t *testing.T) {
	p := start(t, map[string]string{"WEBSOCKET_PORT": "0"})
	addr := p.expect(t, listening)[2]
	link := p.expect(t, setupLink)
	base := "http://" + addr
	body := fmt.Sprintf(`{"token":%q,"email":"ann@example.com","password":"correct horse battery staple"}`, link[2])
	resp, err := http.Post(base+"/api/v1/setup", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("setup: %v %v", resp, err)
	}
	resp.Body.Close()

	config := t.TempDir()
	remote := remoteIn(t, config)

	if code, _, errs := remote("", "push", "."); code != 1 || !strings.Contains(errs, "not signed in") {
		t.Fatalf("push before login: %d %s", code, errs)
	}
	if code, _, errs := remote("correct horse battery staple\n", "login", "--server", "http://localhost:1/x?y"); code != 1 || !strings.Contains(errs, "https://host") {
		t.Errorf("a server URL with a query: %d %s", code, errs)
	}
	code, out, errs := remote("correct horse battery staple\n", "login", "--server", base, "--email", "ann@example.com")
	if code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errs)
	}
	credFile := filepath.Join(config, "bindery", "credentials.json")
	fi, err := os.Stat(credFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(credFile); bytes.Contains(data, []byte("correct horse")) || !bytes.Contains(data, []byte("bindery_")) {
		t.Errorf("credentials file holds the password or no token:\n%s", data)
	}

	book := filepath.Join(t.TempDir(), "lighthouse")
	copyTree(t, filepath.Join("..", "..", "examples", "lighthouse"), book)
	code, out, errs = remote("", "push", book)
	m := regexp.MustCompile(`Created book (\d+)`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("first push: %d %s %s", code, out, errs)
	}
	if !strings.Contains(errs, "skipped genimages.go") {
		t.Errorf("the generator script was not reported as skipped: %s", errs)
	}
	if code, out, errs = remote("", "push", book); code != 0 || !strings.Contains(out, " 0 sent,") || !strings.Contains(out, " 0 deleted") {
		t.Errorf("push with nothing changed: %d %s %s", code, out, errs)
	}
	chapter := filepath.Join(book, "chapters", "04-morning.md")
	if err := os.WriteFile(chapter, []byte("# Morning\n\nA new ending.\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(book, "README.md")); err != nil {
		t.Fatal(err)
	}
	code, out, errs = remote("", "push", book, "--delete")
	if code != 0 || !strings.Contains(out, ": 1 sent,") || !strings.Contains(out, " 1 deleted") || !strings.Contains(errs, "sent chapters/04-morning.md") {
		t.Errorf("push of one change and one deletion: %d %s %s", code, out, errs)
	}

	pulled := filepath.Join(t.TempDir(), "copy")
	if code, out, errs = remote("", "pull", m[1], pulled); code != 0 {
		t.Fatalf("pull: %d %s %s", code, out, errs)
	}
	if got, _ := os.ReadFile(filepath.Join(pulled, "chapters", "04-morning.md")); string(got) != "# Morning\n\nA new ending.\n" {
		t.Errorf("pulled chapter = %q", got)
	}
	if _, err := os.Stat(filepath.Join(pulled, "README.md")); err == nil {
		t.Error("the deleted README came back")
	}
	// push → pull is byte-identical: every book file pushed comes back
	// with the same bytes, and nothing else comes back.
	pushed, got := treeBytes(t, book), treeBytes(t, pulled)
	delete(pushed, "genimages.go") // not a book file: skipped by push, as it said
	if len(pushed) != len(got) {
		t.Errorf("pushed %d files, pulled %d", len(pushed), len(got))
	}
	for name, data := range pushed {
		if !bytes.Equal(got[name], data) {
			t.Errorf("%s differs after push and pull (%d bytes pushed, %d pulled)", name, len(data), len(got[name]))
		}
	}
	if code, out, errs = remote("", "push", pulled, "--book", m[1]); code != 0 || !strings.Contains(out, " 0 sent,") {
		t.Errorf("pushing the pulled copy back: %d %s %s", code, out, errs)
	}
	if code, _, errs := remote("", "pull", m[1], pulled); code != 1 || !strings.Contains(errs, "not empty") {
		t.Errorf("pull into a non-empty folder: %d %s", code, errs)
	}

	code, out, errs = remote("", "run", book, "--formats", "epub,html", "--follow")
	if code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("run --follow: %d %s %s", code, out, errs)
	}
	for _, st := range []string{"content", "images", "format", "quality"} {
		if !strings.Contains(errs, st) {
			t.Errorf("the live output does not show the %s stage:\n%s", st, errs)
		}
	}
	t.Logf("run --follow:\n%s%s", out, errs)
}

// treeBytes maps every file under dir (slash paths) to its bytes.
func treeBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := root.ReadFile(p)
		out[p] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// remoteIn runs the client commands as a user whose config folder is
// config: cli.Run with stdin, returning the exit code, stdout and stderr.
func remoteIn(t *testing.T, config string) func(stdin string, args ...string) (int, string, string) {
	return func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		getenv := func(k string) string {
			if k == "XDG_CONFIG_HOME" {
				return config
			}
			return ""
		}
		code := cli.Run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
}
