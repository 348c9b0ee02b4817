package blob_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/blob"
)

// secretValue is the secret key the tests configure: made at run time,
// so no key-shaped string sits in the repository.
var secretValue = "sk-" + randomHex(12)

func TestS3ConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("  "+secretValue+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bigFile := filepath.Join(dir, "big")
	if err := os.WriteFile(bigFile, bytes.Repeat([]byte("a"), 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	full := map[string]string{
		"BINDERY_S3_ENDPOINT":   "s3.example.com",
		"BINDERY_S3_BUCKET":     "bindery-books",
		"BINDERY_S3_REGION":     "eu-west-3",
		"BINDERY_S3_ACCESS_KEY": "AKIDEXAMPLE",
		"BINDERY_S3_SECRET_KEY": secretValue,
	}
	with := func(changes ...string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for i := 0; i < len(changes); i += 2 {
			if changes[i+1] == "" {
				delete(m, changes[i])
			} else {
				m[changes[i]] = changes[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr string // a part of the error, "" for none
	}{
		{"nothing set: local folder", map[string]string{}, false, ""},
		{"all set", full, true, ""},
		{"https URL", with("BINDERY_S3_ENDPOINT", "https://s3.example.com:9000"), true, ""},
		{"region optional", with("BINDERY_S3_REGION", ""), true, ""},
		{"http to loopback", with("BINDERY_S3_ENDPOINT", "http://127.0.0.1:7070"), true, ""},
		{"http to localhost", with("BINDERY_S3_ENDPOINT", "http://localhost:7070"), true, ""},
		{"http to ::1", with("BINDERY_S3_ENDPOINT", "http://[::1]:7070"), true, ""},
		{"secret from a file, trimmed", with("BINDERY_S3_SECRET_KEY", "", "BINDERY_S3_SECRET_KEY_FILE", secretFile), true, ""},
		{"http elsewhere", with("BINDERY_S3_ENDPOINT", "http://s3.example.com"), false, "use https"},
		{"other scheme", with("BINDERY_S3_ENDPOINT", "ftp://s3.example.com"), false, "must use https"},
		{"credentials in the URL", with("BINDERY_S3_ENDPOINT", "https://user:pw@s3.example.com"), false, "must not contain credentials"},
		{"path in the URL", with("BINDERY_S3_ENDPOINT", "https://s3.example.com/bucket"), false, "without a path"},
		{"only a secret", map[string]string{"BINDERY_S3_SECRET_KEY": secretValue}, false, "BINDERY_S3_ENDPOINT is required"},
		{"no bucket", with("BINDERY_S3_BUCKET", ""), false, "BINDERY_S3_BUCKET is required"},
		{"bad bucket", with("BINDERY_S3_BUCKET", "Books_Here"), false, "BINDERY_S3_BUCKET must be"},
		{"bad region", with("BINDERY_S3_REGION", "EU West"), false, "BINDERY_S3_REGION must be"},
		{"no access key", with("BINDERY_S3_ACCESS_KEY", ""), false, "BINDERY_S3_ACCESS_KEY is required"},
		{"no secret key", with("BINDERY_S3_SECRET_KEY", ""), false, "BINDERY_S3_SECRET_KEY is required"},
		{"secret with a space", with("BINDERY_S3_SECRET_KEY", secretValue+" x"), false, "BINDERY_S3_SECRET_KEY must be printable"},
		{"both forms", with("BINDERY_S3_SECRET_KEY_FILE", secretFile), false, "BINDERY_S3_SECRET_KEY and BINDERY_S3_SECRET_KEY_FILE are both set"},
		{"missing file", with("BINDERY_S3_SECRET_KEY", "", "BINDERY_S3_SECRET_KEY_FILE", filepath.Join(dir, "nope")), false, "BINDERY_S3_SECRET_KEY_FILE: cannot read"},
		{"empty file", with("BINDERY_S3_SECRET_KEY", "", "BINDERY_S3_SECRET_KEY_FILE", emptyFile), false, "the file is empty"},
		{"huge file", with("BINDERY_S3_SECRET_KEY", "", "BINDERY_S3_SECRET_KEY_FILE", bigFile), false, "larger than"},
		{"a prefix", with("BINDERY_S3_PREFIX", "press-a/"), true, ""},
		{"a prefix without its slash", with("BINDERY_S3_PREFIX", "press-a"), false, "end with /"},
		{"a prefix climbing out", with("BINDERY_S3_PREFIX", "../x/"), false, "Invalid storage key"},
		{"endpoint from a file", with("BINDERY_S3_ENDPOINT", "", "BINDERY_S3_ENDPOINT_FILE", emptyFile), false, "BINDERY_S3_ENDPOINT_FILE: the file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok, err := blob.S3ConfigFromEnv(func(k string) string { return tc.env[k] })
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (err %v)", ok, tc.ok, err)
			}
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one saying %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), secretValue) {
				t.Fatalf("the error holds the secret: %v", err)
			}
			if ok && string(cfg.SecretKey) != secretValue {
				t.Fatalf("SecretKey = %q", string(cfg.SecretKey))
			}
			if ok && cfg.Prefix != tc.env["BINDERY_S3_PREFIX"] {
				t.Fatalf("Prefix = %q", cfg.Prefix)
			}
		})
	}
}

// TestS3ConfigPrintsNoSecret: a config printed or logged by mistake does
// not show the secret key.
func TestS3ConfigPrintsNoSecret(t *testing.T) {
	cfg := blob.S3Config{Endpoint: "s3.example.com", Bucket: "b-1", AccessKey: "AK", SecretKey: blob.Secret(secretValue)}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "s3", cfg, "secret", cfg.SecretKey)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "s3", cfg, "secret", cfg.SecretKey)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg), fmt.Sprint(cfg.SecretKey), logged.String()} {
		if strings.Contains(s, secretValue) {
			t.Errorf("printed config holds the secret: %s", s)
		}
	}
}
