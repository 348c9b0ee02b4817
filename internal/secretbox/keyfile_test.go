package secretbox

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestOpenDevelopmentGeneratesThenReusesKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	kr1, src, err := Open(Settings{DataDir: dir})
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	path := filepath.Join(dir, KeyFileName)
	if src.File != path || !src.Created || src.Unused != "" {
		t.Errorf("first Open: source = %+v, want File %s, Created", src, path)
	}
	checkMode(t, path, 0o600)
	checkMode(t, dir, 0o700|os.ModeDir)
	tok := mustEncrypt(t, kr1, "kept across restarts")

	kr2, src, err := Open(Settings{DataDir: dir})
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	if src.File != path || src.Created {
		t.Errorf("second Open: source = %+v, want File %s, not Created", src, path)
	}
	if got, err := kr2.Decrypt(tok); err != nil || string(got) != "kept across restarts" {
		t.Errorf("second keyring: Decrypt = %q, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key file (temporary file left behind?)", len(entries))
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModeDir | os.ModePerm); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

func TestOpenProductionRequiresKey(t *testing.T) {
	dir := t.TempDir()
	_, _, err := Open(Settings{DataDir: dir, Production: true})
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Var != EnvKey || !strings.Contains(err.Error(), "required in production") {
		t.Fatalf("err = %v, want a KeyError naming ENCRYPTION_KEY", err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("production Open wrote a key file (stat err = %v)", err)
	}
	// Even an existing development key file is not used in production.
	if _, _, err := Open(Settings{DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(Settings{DataDir: dir, Production: true}); !errors.As(err, &ke) {
		t.Errorf("production Open with a key file present: err = %v, want a KeyError", err)
	}
}

func TestOpenWithKeyIgnoresAndReportsKeyFile(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := Open(Settings{DataDir: dir}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFileName)
	fileKey, _, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}

	_, src, err := Open(Settings{Key: keyA, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if src.File != "" || src.Unused != path {
		t.Errorf("source = %+v, want Unused %s", src, path)
	}
	// Listed as a previous key, the file's key is part of the keyring.
	_, src, err = Open(Settings{Key: keyA, Previous: []string{fileKey}, DataDir: dir, Production: true})
	if err != nil {
		t.Fatal(err)
	}
	if src.Unused != "" {
		t.Errorf("source = %+v, want no Unused file", src)
	}
}

func TestLoadKeyFileRefusesLooseMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), KeyFileName)
	if err := os.WriteFile(path, []byte(keyA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadKeyFile(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want a refusal telling to chmod 600", err)
	}
	if strings.Contains(err.Error(), keyA) {
		t.Errorf("err = %q shows the key", err)
	}
	os.Chmod(path, 0o600)
	if key, created, err := LoadKeyFile(path); err != nil || key != keyA || created {
		t.Errorf("after chmod: LoadKeyFile = %v, %v; want the stored key", created, err)
	}
}

func TestLoadKeyFileRefusesGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFileName)
	for name, content := range map[string]string{
		"empty": "",
		"short": "c2hvcnQ=\n",
		"large": strings.Repeat("A", 2000),
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var ke *KeyError
		if _, _, err := LoadKeyFile(path); !errors.As(err, &ke) {
			t.Errorf("%s: err = %v, want a *KeyError", name, err)
		}
	}
	if _, _, err := LoadKeyFile(t.TempDir()); err == nil {
		t.Error("a directory was accepted as key file")
	}
}

func TestLoadKeyFileConcurrentFirstUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", KeyFileName)
	const n = 8
	keys := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], _, errs[i] = LoadKeyFile(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("goroutine %d got another key than goroutine 0", i)
		}
	}
}
