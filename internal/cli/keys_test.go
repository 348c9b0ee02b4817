package cli_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/cli"
	"github.com/bindery/bindery/internal/secretbox"
)

// runEnv calls cli.Run in-process with the given environment.
func runEnv(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestKeysRotate: data written under key A is readable under B only with
// A in ENCRYPTION_KEY_PREVIOUS until `keys rotate` has run; then A can go,
// and sign-in by e-mail (the blind index) still finds the account.
func TestKeysRotate(t *testing.T) {
	data := t.TempDir()
	a, b := secretbox.GenerateKey(), secretbox.GenerateKey()
	envA := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": a}
	if code, _, errs := runEnv(t, envA, "correct horse battery staple\n", "user", "add", "--email", "ann@example.com", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %s", errs)
	}
	envB := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": b}
	if code, _, errs := runEnv(t, envB, "", "user", "list"); code == 0 || !strings.Contains(errs, "ENCRYPTION_KEY_PREVIOUS") {
		t.Fatalf("the wrong key read the data, or said nothing useful: %d %s", code, errs)
	}
	envBA := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": b, "ENCRYPTION_KEY_PREVIOUS": a}
	code, out, errs := runEnv(t, envBA, "", "keys", "rotate")
	if code != 0 || !strings.Contains(out, "users.email_enc") || !strings.Contains(out, "1 re-encrypted") {
		t.Fatalf("keys rotate: %d\n%s\n%s", code, out, errs)
	}
	// Again: nothing left to do (resumable and idempotent).
	if code, out, _ := runEnv(t, envBA, "", "keys", "rotate"); code != 0 || strings.Contains(out, " 1 re-encrypted") {
		t.Fatalf("second rotation: %d\n%s", code, out)
	}
	if code, out, errs := runEnv(t, envB, "", "user", "list"); code != 0 || !strings.Contains(out, "ann@example.com") {
		t.Fatalf("after rotation, B alone: %d %s %s", code, out, errs)
	}
	if code, _, errs := runEnv(t, envB, "", "user", "reset-2fa", "ann@example.com"); code != 0 {
		t.Fatalf("look-up by e-mail after rotation: %s", errs)
	}
}

// TestDevelopmentKeyFile: without ENCRYPTION_KEY, development generates a
// private key file in the data folder and warns.
func TestDevelopmentKeyFile(t *testing.T) {
	data := t.TempDir()
	code, _, errs := runEnv(t, map[string]string{"BINDERY_DATA_DIR": data}, "correct horse battery staple\n", "user", "add", "--email", "ann@example.com")
	if code != 0 || !strings.Contains(errs, "generated a development encryption key") {
		t.Fatalf("user add: %d %s", code, errs)
	}
	fi, err := os.Stat(filepath.Join(data, secretbox.KeyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
}

func TestUserExportAndDelete(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"BINDERY_DATA_DIR": data}
	pw := "correct horse battery staple\n"
	runEnv(t, env, pw, "user", "add", "--email", "ann@example.com", "--role", "admin")
	runEnv(t, env, pw, "user", "add", "--email", "bob@example.com", "--role", "author")
	out := filepath.Join(t.TempDir(), "bob.zip")
	if code, _, errs := runEnv(t, env, "", "user", "export", "bob@example.com", "--out", out); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open("account.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex struct{ Account struct{ Email string } }
	if err := json.NewDecoder(f).Decode(&ex); err != nil || ex.Account.Email != "bob@example.com" {
		t.Fatalf("account.json: %+v %v", ex, err)
	}
	if code, out, errs := runEnv(t, env, "", "user", "delete", "bob@example.com"); code != 0 || !strings.Contains(out, "Deleted user") {
		t.Fatalf("delete: %d %s %s", code, out, errs)
	}
}

// TestCommandsRefuseAnotherKey: a command run without the server's key is
// refused with a message naming ENCRYPTION_KEY and both fingerprints, and
// no development key is generated next to the existing data; rotation
// still works and moves the folder to the new key.
func TestCommandsRefuseAnotherKey(t *testing.T) {
	data := t.TempDir()
	a, b := secretbox.GenerateKey(), secretbox.GenerateKey()
	fpA := fingerprint(t, a)
	pw := "correct horse battery staple\n"
	envA := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": a}
	if code, _, errs := runEnv(t, envA, pw, "user", "add", "--email", "ann@example.com", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %s", errs)
	}
	// No key at all: refused, and no key file appears.
	code, _, errs := runEnv(t, map[string]string{"BINDERY_DATA_DIR": data}, pw, "user", "add", "--email", "bob@example.com")
	if code == 0 || !strings.Contains(errs, "ENCRYPTION_KEY") || !strings.Contains(errs, fpA) {
		t.Fatalf("user add without the key: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, secretbox.KeyFileName)); err == nil {
		t.Fatal("a development key was generated next to encrypted data")
	}
	// Another key: refused, naming both.
	envB := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": b}
	code, _, errs = runEnv(t, envB, pw, "user", "add", "--email", "bob@example.com")
	if code == 0 || !strings.Contains(errs, "ENCRYPTION_KEY (key "+fingerprint(t, b)) || !strings.Contains(errs, fpA) || strings.Contains(errs, a) || strings.Contains(errs, b) {
		t.Fatalf("user add with another key: %d %s", code, errs)
	}
	// The server too refuses to start.
	serveEnv := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": b, "WEBSOCKET_PORT": "0"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, serr bytes.Buffer
	code = cli.Run(ctx, []string{"serve"}, func(k string) string { return serveEnv[k] }, strings.NewReader(""), &out, &serr)
	if code == 0 || !strings.Contains(serr.String(), "ENCRYPTION_KEY (key "+fingerprint(t, b)) || !strings.Contains(serr.String(), fpA) {
		t.Fatalf("serve with another key: %d %s", code, serr.String())
	}
	// Rotation to B, then B alone works and A alone is refused.
	envBA := map[string]string{"BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": b, "ENCRYPTION_KEY_PREVIOUS": a}
	if code, _, errs := runEnv(t, envBA, "", "keys", "rotate"); code != 0 {
		t.Fatalf("rotate: %s", errs)
	}
	if code, out, errs := runEnv(t, envB, "", "user", "list"); code != 0 || !strings.Contains(out, "ann@example.com") {
		t.Fatalf("B after rotation: %d %s", code, errs)
	}
	if code, _, errs := runEnv(t, envA, "", "user", "list"); code == 0 || !strings.Contains(errs, fpA) {
		t.Fatalf("A after rotation: %d %s", code, errs)
	}
}

func fingerprint(t *testing.T, key string) string {
	kr, err := secretbox.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	return secretbox.Fingerprint(kr.CheckValue())
}
