package ideogram

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/config"
)

func TestKeySourceReadsTheEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     env
		version string
		key     string
		err     string // substring; "" for success
	}{
		{name: "unversioned", env: env{EnvKey: " k0 "}, version: "", key: "k0"},
		{name: "versioned", env: env{"IDEOGRAM_API_KEY_V1": "k1", "IDEOGRAM_API_KEY_V2": "k2", EnvCurrentVersion: "V2"}, version: "v2", key: "k2"},
		{name: "versioned wins over unversioned", env: env{EnvKey: "k0", "IDEOGRAM_API_KEY_V1": "k1", EnvCurrentVersion: "v1"}, version: "v1", key: "k1"},
		{name: "no current version", env: env{"IDEOGRAM_API_KEY_V1": "k1"}, err: EnvCurrentVersion + " must name"},
		{name: "unversioned and versioned without pointer", env: env{EnvKey: "k0", "IDEOGRAM_API_KEY_V1": "k1"}, err: EnvCurrentVersion + " must name"},
		{name: "current names nothing", env: env{"IDEOGRAM_API_KEY_V1": "k1", EnvCurrentVersion: "v2"}, err: `IDEOGRAM_API_KEY_CURRENT_VERSION is "v2" but IDEOGRAM_API_KEY_V2 is not set`},
		{name: "pointer without keys", env: env{EnvCurrentVersion: "v1"}, err: "no IDEOGRAM_API_KEY_V… is set"},
		{name: "value and file", env: env{EnvKey: "k", EnvKey + "_FILE": "/x"}, err: "IDEOGRAM_API_KEY and IDEOGRAM_API_KEY_FILE are both set"},
		{name: "missing file", env: env{"IDEOGRAM_API_KEY_V3_FILE": "/nonexistent/key", EnvCurrentVersion: "v3"}, err: "IDEOGRAM_API_KEY_V3_FILE cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ks, err := NewKeySource(tc.env.get)
			if tc.err != "" {
				var ve *config.VarError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want a *config.VarError containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k, err := ks.Key()
			if err != nil {
				t.Fatal(err)
			}
			if k.Version != tc.version || k.Reveal() != tc.key {
				t.Errorf("key = %s (%q), want version %q", k, k.Reveal(), tc.version)
			}
		})
	}
}

func TestKeySourceWithoutKeys(t *testing.T) {
	for _, ks := range []*KeySource{nil, func() *KeySource { ks, _ := NewKeySource(env{}.get); return ks }()} {
		if _, err := ks.Key(); !errors.Is(err, ErrNoKey) {
			t.Errorf("Key() err = %v, want ErrNoKey", err)
		}
		if st := ks.Status(); st.Configured {
			t.Errorf("Status() = %+v", st)
		}
	}
}

func TestKeySourcePicksUpARewrittenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ideogram-key")
	write := func(v string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		// Set the time explicitly: coarse file system clocks must not make
		// the test depend on how fast it runs.
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	write("first-key-aaaa", t0)
	ks, err := NewKeySource(env{"IDEOGRAM_API_KEY_V1_FILE": path, EnvCurrentVersion: "v1"}.get)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := ks.Key(); k.Reveal() != "first-key-aaaa" {
		t.Fatalf("first read = %q", k.Reveal())
	}

	// Rewritten in place, same length.
	write("second-key-bbb", t0.Add(time.Minute))
	if k, err := ks.Key(); err != nil || k.Reveal() != "second-key-bbb" {
		t.Fatalf("after rewrite = %q, %v", k.Reveal(), err)
	}

	// Replaced by rename, as Kubernetes and Vault Agent do.
	tmp := filepath.Join(dir, "tmp")
	os.WriteFile(tmp, []byte("third-key-cccc"), 0o600)
	os.Chtimes(tmp, t0.Add(time.Minute), t0.Add(time.Minute)) // same time and size as before
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if k, err := ks.Key(); err != nil || k.Reveal() != "third-key-cccc" {
		t.Fatalf("after rename = %q, %v", k.Reveal(), err)
	}
	if st := ks.Status(); !st.FromFile || st.Version != "v1" || st.Error != "" {
		t.Errorf("Status() = %+v", st)
	}

	// Emptied: an error naming the variable, not a silent empty key.
	write("", t0.Add(2*time.Minute))
	_, err = ks.Key()
	if err == nil || !strings.Contains(err.Error(), "IDEOGRAM_API_KEY_V1_FILE") {
		t.Fatalf("after emptying: err = %v", err)
	}
	if st := ks.Status(); st.Error == "" {
		t.Errorf("Status() does not report the problem: %+v", st)
	}
}

func TestKeySourceRotatesTheCurrentPointerFromAFile(t *testing.T) {
	dir := t.TempDir()
	cur := filepath.Join(dir, "current")
	os.WriteFile(cur, []byte("v1"), 0o600)
	ks, err := NewKeySource(env{"IDEOGRAM_API_KEY_V1": "k1", "IDEOGRAM_API_KEY_V2": "k2", EnvCurrentVersion + "_FILE": cur}.get)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := ks.Key(); k.Version != "v1" {
		t.Fatalf("version = %q", k.Version)
	}
	os.WriteFile(cur, []byte("v2\n"), 0o600)
	later := time.Now().Add(time.Hour)
	os.Chtimes(cur, later, later)
	if k, err := ks.Key(); err != nil || k.Version != "v2" || k.Reveal() != "k2" {
		t.Fatalf("after rotation: %s, %v", k, err)
	}
}

func TestKeySourceReload(t *testing.T) {
	ks, err := NewKeySource(env{"IDEOGRAM_API_KEY_V1": "k1", EnvCurrentVersion: "v1"}.get)
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Reload(env{"IDEOGRAM_API_KEY_V1": "k1", "IDEOGRAM_API_KEY_V2": "k2", EnvCurrentVersion: "v2"}.get); err != nil {
		t.Fatal(err)
	}
	st := ks.Status()
	if st.Version != "v2" || !slices.Equal(st.Versions, []string{"v1", "v2"}) {
		t.Errorf("after reload: %+v", st)
	}
	// A broken environment keeps the working keys.
	err = ks.Reload(env{"IDEOGRAM_API_KEY_V1": "k1", EnvCurrentVersion: "v9"}.get)
	if err == nil || !strings.Contains(err.Error(), EnvCurrentVersion) {
		t.Fatalf("bad reload err = %v", err)
	}
	if k, err := ks.Key(); err != nil || k.Version != "v2" {
		t.Errorf("after a bad reload: %s, %v; want v2 still", k, err)
	}
	// Removing every key turns generation off.
	if err := ks.Reload(env{}.get); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Key(); !errors.Is(err, ErrNoKey) {
		t.Errorf("err = %v, want ErrNoKey", err)
	}
}

func TestStaticKeySourceFromConfig(t *testing.T) {
	cfg, err := config.Load(env{"IDEOGRAM_API_KEY_V1": "k1", "IDEOGRAM_API_KEY_V2": "k2", EnvCurrentVersion: "v2"}.get)
	if err != nil {
		t.Skipf("config.Load needs more of the environment: %v", err)
	}
	k, err := NewStaticKeySource(cfg.Ideogram).Key()
	if err != nil || k.Version != "v2" || k.Reveal() != "k2" {
		t.Errorf("Key() = %s, %v", k, err)
	}
}

// TestStoredKey: a key entered through the API is used only when the
// environment sets none, and is reported without its value.
func TestStoredKey(t *testing.T) {
	stored := func() (string, bool) { return "stored-secret-key", true }
	ks, err := NewKeySource(env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	ks.SetStored(stored)
	k, err := ks.Key()
	if err != nil || k.Version != StoredVersion || k.value != "stored-secret-key" {
		t.Fatalf("Key() = %v, %v", k, err)
	}
	if st := ks.Status(); !st.Configured || st.Version != StoredVersion {
		t.Fatalf("Status() = %+v", st)
	}
	ks, _ = NewKeySource(env{"IDEOGRAM_API_KEY": "env-key"}.get)
	ks.SetStored(stored)
	if k, err := ks.Key(); err != nil || k.value != "env-key" {
		t.Fatalf("the environment's key must win: %v, %v", k.Version, err)
	}
	ks, _ = NewKeySource(env{}.get)
	ks.SetStored(func() (string, bool) { return "", false })
	if _, err := ks.Key(); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no stored key: %v", err)
	}
}
