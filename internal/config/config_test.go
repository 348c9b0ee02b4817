package config_test

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/config"
)

// goodToken is 32 random-looking bytes in hex.
const goodToken = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr", c.Addr(), "127.0.0.1:8765"},
		{"env", c.Env, "development"},
		{"data dir", c.DataDir, "./bindery-data"},
		{"max upload", c.MaxUploadBytes, int64(52428800)},
		{"min free", c.MinFreeBytes, int64(268435456)},
		{"max failures", c.LoginMaxFailures, 5},
		{"window", c.LoginWindow, 15 * time.Minute},
		{"block", c.BlockDuration, 15 * time.Minute},
		{"session ttl", c.SessionTTL, 24 * time.Hour},
		{"session idle", c.SessionIdle, 2 * time.Hour},
		{"log level", c.LogLevel, "info"},
		{"log format", c.LogFormat, "text"},
		{"event retention", c.EventRetention, 30 * 24 * time.Hour},
		{"audit retention", c.AuditRetention, 365 * 24 * time.Hour},
		{"run hand-over", c.RunHandOverAfter, 30 * time.Second},
		{"public url", c.PublicURL.String(), "http://127.0.0.1:8765"},
		{"loopback", c.Loopback(), true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

// TestRefusals: each bad configuration is refused with an error that names
// the variable and never contains a secret value.
func TestRefusals(t *testing.T) {
	weak := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // hex, 32 bytes, no entropy
	cases := []struct {
		name    string
		env     map[string]string
		wantVar string
		secret  string
	}{
		{"public bind without token", map[string]string{"WEBSOCKET_HOST": "0.0.0.0"}, "DASHBOARD_TOKEN", ""},
		{"public bind with short token", map[string]string{"WEBSOCKET_HOST": "0.0.0.0", "DASHBOARD_TOKEN": "s3cr3t-but-short"}, "DASHBOARD_TOKEN", "s3cr3t-but-short"},
		{"public bind with the original's placeholder", map[string]string{"WEBSOCKET_HOST": "::", "DASHBOARD_TOKEN": "your-secure-random-token-here"}, "DASHBOARD_TOKEN", "your-secure-random-token-here"},
		{"low-entropy token", map[string]string{"WEBSOCKET_HOST": "10.1.2.3", "DASHBOARD_TOKEN": weak}, "DASHBOARD_TOKEN", weak},
		{"weak token even on loopback", map[string]string{"DASHBOARD_TOKEN": "password1234password1234"}, "DASHBOARD_TOKEN", "password1234password1234"},
		{"production without TLS or proxy", map[string]string{"BINDERY_ENV": "production"}, "BINDERY_ENV", ""},
		{"production proxy without public URL", map[string]string{"BINDERY_ENV": "production", "BINDERY_TRUSTED_PROXIES": "10.0.0.1"}, "BINDERY_PUBLIC_URL", ""},
		{"production without an encryption key", map[string]string{"BINDERY_ENV": "production", "BINDERY_TRUSTED_PROXIES": "10.0.0.1", "BINDERY_PUBLIC_URL": "https://x.example"}, "ENCRYPTION_KEY", ""},
		{"production with http public URL", map[string]string{"BINDERY_ENV": "production", "BINDERY_TRUSTED_PROXIES": "10.0.0.1", "BINDERY_PUBLIC_URL": "http://x.example"}, "BINDERY_PUBLIC_URL", ""},
		{"unknown env", map[string]string{"BINDERY_ENV": "staging"}, "BINDERY_ENV", ""},
		{"bad port", map[string]string{"WEBSOCKET_PORT": "http"}, "WEBSOCKET_PORT", ""},
		{"port out of range", map[string]string{"WEBSOCKET_PORT": "70000"}, "WEBSOCKET_PORT", ""},
		{"bad duration", map[string]string{"BINDERY_LOGIN_WINDOW": "15 minutes"}, "BINDERY_LOGIN_WINDOW", ""},
		{"negative duration", map[string]string{"BINDERY_SESSION_TTL": "-1h"}, "BINDERY_SESSION_TTL", ""},
		{"bad audit retention", map[string]string{"BINDERY_AUDIT_RETENTION": "1 year"}, "BINDERY_AUDIT_RETENTION", ""},
		{"negative audit retention", map[string]string{"BINDERY_AUDIT_RETENTION": "-24h"}, "BINDERY_AUDIT_RETENTION", ""},
		{"hand-over below five heartbeats", map[string]string{"BINDERY_RUN_HANDOVER_AFTER": "5s"}, "BINDERY_RUN_HANDOVER_AFTER", ""},
		{"bad hand-over", map[string]string{"BINDERY_RUN_HANDOVER_AFTER": "soon"}, "BINDERY_RUN_HANDOVER_AFTER", ""},
		{"idle above ttl", map[string]string{"BINDERY_SESSION_TTL": "1h", "BINDERY_SESSION_IDLE": "2h"}, "BINDERY_SESSION_IDLE", ""},
		{"bad CIDR", map[string]string{"BINDERY_TRUSTED_PROXIES": "10.0.0.0/8, nginx"}, "BINDERY_TRUSTED_PROXIES", ""},
		{"bad max failures", map[string]string{"BINDERY_LOGIN_MAX_FAILURES": "0"}, "BINDERY_LOGIN_MAX_FAILURES", ""},
		{"bad upload limit", map[string]string{"BINDERY_MAX_UPLOAD_BYTES": "50MB"}, "BINDERY_MAX_UPLOAD_BYTES", ""},
		{"bad log level", map[string]string{"BINDERY_LOG_LEVEL": "loud"}, "BINDERY_LOG_LEVEL", ""},
		{"cert without key", map[string]string{"BINDERY_TLS_CERT": "/nonexistent.pem"}, "BINDERY_TLS_CERT", ""},
		{"unreadable cert", map[string]string{"BINDERY_TLS_CERT": "/nonexistent.pem", "BINDERY_TLS_KEY": "/nonexistent.key"}, "BINDERY_TLS_CERT", ""},
		{"bad public URL", map[string]string{"BINDERY_PUBLIC_URL": "books.example.org"}, "BINDERY_PUBLIC_URL", ""},
		{"value and _FILE", map[string]string{"DASHBOARD_TOKEN": goodToken, "DASHBOARD_TOKEN_FILE": "/etc/hostname"}, "DASHBOARD_TOKEN", goodToken},
		{"missing _FILE", map[string]string{"ENCRYPTION_KEY_FILE": "/nonexistent/key"}, "ENCRYPTION_KEY_FILE", ""},
		{"current key version missing", map[string]string{"IDEOGRAM_API_KEY_V1": "ideo-key-v1-secret", "IDEOGRAM_API_KEY_CURRENT_VERSION": "v2"}, "IDEOGRAM_API_KEY_CURRENT_VERSION", "ideo-key-v1-secret"},
		{"database URL of another engine", map[string]string{"BINDERY_DATABASE_URL": "mysql://bindery:db-pass-secret@db/bindery"}, "BINDERY_DATABASE_URL", "db-pass-secret"},
		{"database URL without a host", map[string]string{"BINDERY_DATABASE_URL": "postgres:///bindery?password=db-pass-secret"}, "BINDERY_DATABASE_URL", "db-pass-secret"},
		{"database URL that is no URL", map[string]string{"BINDERY_DATABASE_URL": "postgres://bindery:db-pass-secret@db:port/bindery"}, "BINDERY_DATABASE_URL", "db-pass-secret"},
		{"versioned keys without current", map[string]string{"IDEOGRAM_API_KEY_V1": "ideo-key-v1-secret"}, "IDEOGRAM_API_KEY_CURRENT_VERSION", "ideo-key-v1-secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(env(tc.env))
			if err == nil {
				t.Fatal("accepted")
			}
			var ve *config.VarError
			if !errors.As(err, &ve) || ve.Var != tc.wantVar {
				t.Fatalf("error %q does not name %s", err, tc.wantVar)
			}
			if !strings.Contains(err.Error(), tc.wantVar) {
				t.Fatalf("message %q does not name %s", err, tc.wantVar)
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Fatalf("message echoes the secret: %q", err)
			}
		})
	}
}

func TestAccepts(t *testing.T) {
	c, err := config.Load(env(map[string]string{
		"WEBSOCKET_HOST": "0.0.0.0", "DASHBOARD_TOKEN": goodToken, "BINDERY_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1 ,::1",
		"IDEOGRAM_API_KEY_V1": "ideo-old", "IDEOGRAM_API_KEY_V2": "ideo-new", "IDEOGRAM_API_KEY_CURRENT_VERSION": "V2",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 3 || c.TrustedProxies[1].String() != "192.0.2.1/32" {
		t.Errorf("proxies = %v", c.TrustedProxies)
	}
	if c.Ideogram.CurrentKey() != "ideo-new" {
		t.Errorf("current Ideogram key = %q", c.Ideogram.CurrentKey())
	}
	for v, want := range map[string]time.Duration{"0": 0, "0s": 0, "2160h": 90 * 24 * time.Hour} {
		r, err := config.Load(env(map[string]string{"BINDERY_AUDIT_RETENTION": v}))
		if err != nil {
			t.Errorf("BINDERY_AUDIT_RETENTION=%s refused: %v", v, err)
		} else if r.AuditRetention != want {
			t.Errorf("BINDERY_AUDIT_RETENTION=%s: %v, want %v", v, r.AuditRetention, want)
		}
	}
	if c.PublicURL.String() != "http://localhost:8765" {
		t.Errorf("derived public URL = %s", c.PublicURL)
	}
	// A base64 token (as `bindery keys generate` prints) is accepted too.
	if err := config.CheckTokenStrength("q3Zb0c4X8nRk1pT7yW2eLm9sVf6uHj5gAa0dNo3iPtE"); err != nil {
		t.Errorf("base64 token refused: %v", err)
	}
}

// TestDatabaseURL: a postgres:// URL, given directly or through
// BINDERY_DATABASE_URL_FILE (a secret: it may hold the password).
func TestDatabaseURL(t *testing.T) {
	const u = "postgres://bindery:db-pass@db.internal:5432/bindery?sslmode=verify-full"
	p := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(p, []byte(u+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, e := range []map[string]string{{"BINDERY_DATABASE_URL": u}, {"BINDERY_DATABASE_URL_FILE": p},
		{"BINDERY_DATABASE_URL": "postgresql:///bindery?host=/run/postgresql"}} {
		c, err := config.Load(env(e))
		if err != nil || c.DatabaseURL == "" {
			t.Fatalf("%v: %v", e, err)
		}
	}
	if c, _ := config.Load(env(map[string]string{"BINDERY_DATABASE_URL_FILE": p})); c.DatabaseURL != u {
		t.Fatalf("from the file: %q", c.DatabaseURL)
	}
}

// TestS3Settings: the bucket's settings, the secret key from a _FILE,
// make Config.S3; an incomplete set is refused naming the setting and
// never the secret; the secret key is among Secrets (for the log
// redactor); without any, files stay in the data folder.
func TestS3Settings(t *testing.T) {
	secret := "s3-" + hex.EncodeToString([]byte("not a real key")) // made at run time: no literal for secret scanners
	p := filepath.Join(t.TempDir(), "s3-secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := map[string]string{"BINDERY_S3_ENDPOINT": "http://127.0.0.1:7070", "BINDERY_S3_BUCKET": "books",
		"BINDERY_S3_REGION": "us-east-1", "BINDERY_S3_ACCESS_KEY": "bindery", "BINDERY_S3_SECRET_KEY_FILE": p}
	c, err := config.Load(env(e))
	if err != nil || c.S3 == nil || c.S3.Bucket != "books" || string(c.S3.SecretKey) != secret {
		t.Fatalf("Load = %+v, %v", c, err)
	}
	if !slices.Contains(c.Secrets(), secret) {
		t.Error("the S3 secret key is not among Secrets: the log redactor would not know it")
	}
	delete(e, "BINDERY_S3_BUCKET")
	if _, err := config.Load(env(e)); err == nil || !strings.Contains(err.Error(), "BINDERY_S3_BUCKET") || strings.Contains(err.Error(), secret) {
		t.Fatalf("without a bucket: %v", err)
	}
	if c, err := config.Load(env(nil)); err != nil || c.S3 != nil {
		t.Fatalf("no S3 settings: %+v, %v", c.S3, err)
	}
}

// TestFileVariables: every variable may come from X_FILE, trimmed.
func TestFileVariables(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	if err := os.WriteFile(p, []byte(goodToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := filepath.Join(dir, "port")
	os.WriteFile(port, []byte("9000\n"), 0o600)
	c, err := config.Load(env(map[string]string{"DASHBOARD_TOKEN_FILE": p, "WEBSOCKET_PORT_FILE": port}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DashboardToken != goodToken || c.Port != 9000 {
		t.Fatalf("token %q port %d", c.DashboardToken, c.Port)
	}
}

// TestDotEnv: .env fills gaps but never overrides the real environment.
func TestDotEnv(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	os.WriteFile(p, []byte(`# the original's .env
export WEBSOCKET_PORT=9100
WEBSOCKET_HOST=127.0.0.1   # loopback
BINDERY_LOG_LEVEL="debug"
DASHBOARD_TOKEN='`+goodToken+`'
`), 0o600)
	getenv, err := config.WithDotEnv(env(map[string]string{"WEBSOCKET_PORT": "9200"}), p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9200 || c.Host != "127.0.0.1" || c.LogLevel != "debug" || c.DashboardToken != goodToken {
		t.Fatalf("port %d host %q level %q token %q", c.Port, c.Host, c.LogLevel, c.DashboardToken)
	}
	// A missing .env is fine.
	if _, err := config.WithDotEnv(env(nil), filepath.Join(dir, "none")); err != nil {
		t.Fatal(err)
	}
	// A malformed line names its number, not its content.
	os.WriteFile(p, []byte("OK=1\nthis is my secret\n"), 0o600)
	_, err = config.WithDotEnv(env(nil), p)
	if err == nil || !strings.Contains(err.Error(), "line 2") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("malformed .env: %v", err)
	}
}

func TestSecretsListedForRedaction(t *testing.T) {
	const dbURL = "postgres://bindery:db-pass-secret@db.internal:5432/bindery?sslmode=verify-full"
	c, err := config.Load(env(map[string]string{"DASHBOARD_TOKEN": goodToken, "IDEOGRAM_API_KEY": "ideogram-secret-key", "ENCRYPTION_KEY": "fernet-key-value-123",
		"BINDERY_DATABASE_URL": dbURL}))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Secrets(), " ")
	for _, s := range []string{goodToken, "ideogram-secret-key", "fernet-key-value-123", dbURL, " db-pass-secret"} {
		if !strings.Contains(got, s) {
			t.Errorf("Secrets() lacks %q", s)
		}
	}
}

// FuzzLoad: any environment either loads or fails with a VarError; never
// a panic, and an error never contains the value of a secret variable.
func FuzzLoad(f *testing.F) {
	f.Add("0.0.0.0", "8765", goodToken, "15m", "10.0.0.0/8", "production", "https://x.example")
	f.Add("127.0.0.1", "0", "", "1h", "", "development", "")
	f.Add("::1", "-1", "zz", "0s", "::/0", "PRODUCTION", "ftp://x")
	f.Add("", "99999", hex.EncodeToString(make([]byte, 40)), "1h30m", "1.2.3.4/33", "x", "http://[::1]:80/")
	f.Fuzz(func(t *testing.T, host, port, token, dur, proxies, envName, public string) {
		vars := map[string]string{
			"WEBSOCKET_HOST": host, "WEBSOCKET_PORT": port, "DASHBOARD_TOKEN": token, "BINDERY_LOGIN_WINDOW": dur,
			"BINDERY_TRUSTED_PROXIES": proxies, "BINDERY_ENV": envName, "BINDERY_PUBLIC_URL": public,
		}
		c, err := config.Load(env(vars))
		if err != nil {
			var ve *config.VarError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a VarError: %v", err)
			}
			tok := strings.TrimSpace(token)
			echoedElsewhere := strings.Contains(host+port+dur+proxies+envName+public, tok) || strings.Contains("configuration: production requires HTTPS loopback address generate one with bindery keys", tok)
			if len(tok) >= 4 && !echoedElsewhere && strings.Contains(err.Error(), tok) {
				t.Fatalf("error echoes DASHBOARD_TOKEN: %q", err)
			}
			return
		}
		if !c.Loopback() && c.DashboardToken == "" {
			t.Fatalf("non-loopback host %q accepted without a token", c.Host)
		}
		if c.Production() && !c.TLS() && len(c.TrustedProxies) == 0 {
			t.Fatal("production accepted without TLS or proxies")
		}
	})
}

func FuzzParseDotEnv(f *testing.F) {
	f.Add([]byte("A=1\nexport B='x y'\nC=\"q\\\"\\n\" # c\n#x\n"))
	f.Add([]byte("=\n"))
	f.Add([]byte("A=\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vars, err := config.ParseDotEnv(data)
		if err != nil {
			return
		}
		for k := range vars {
			if k == "" || strings.ContainsAny(k, "= \t\n") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}

// Every limit has a default and is read from its variable, by Load and by
// LoadLimits (bindery build and check) alike.
func TestLimits(t *testing.T) {
	def := config.Limits{
		MaxChapters: 1000, MaxChapterBytes: 4 << 20, MaxBookTextBytes: 4 << 20,
		MaxParagraphBytes: 512 << 10, MaxNesting: 32, MaxTableColumns: 64, MaxFootnotes: 1000,
		MaxImagePixels: 16_000_000, MaxJPEGPixels: 50_000_000, MaxArchiveRatio: 100,
	}
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits != def {
		t.Errorf("default limits\n got %+v\nwant %+v", c.Limits, def)
	}
	set := map[string]string{
		"BINDERY_MAX_CHAPTERS": "10", "BINDERY_MAX_CHAPTER_BYTES": "2000", "BINDERY_MAX_BOOK_TEXT_BYTES": "3000",
		"BINDERY_MAX_PARAGRAPH_BYTES": "500", "BINDERY_MAX_NESTING": "4", "BINDERY_MAX_TABLE_COLUMNS": "5",
		"BINDERY_MAX_FOOTNOTES": "6", "BINDERY_MAX_IMAGE_MEGAPIXELS": "2", "BINDERY_MAX_JPEG_MEGAPIXELS": "3",
		"BINDERY_MAX_ARCHIVE_RATIO": "7",
	}
	want := config.Limits{
		MaxChapters: 10, MaxChapterBytes: 2000, MaxBookTextBytes: 3000,
		MaxParagraphBytes: 500, MaxNesting: 4, MaxTableColumns: 5, MaxFootnotes: 6,
		MaxImagePixels: 2_000_000, MaxJPEGPixels: 3_000_000, MaxArchiveRatio: 7,
	}
	c, err = config.Load(env(set))
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits != want {
		t.Errorf("Load limits\n got %+v\nwant %+v", c.Limits, want)
	}
	l, err := config.LoadLimits(env(set))
	if err != nil || l != want {
		t.Errorf("LoadLimits = %+v, %v; want %+v", l, err, want)
	}
}

// A bad limit stops Load and LoadLimits with the variable and the range.
func TestLimitRefusals(t *testing.T) {
	cases := []struct{ name, value, want string }{
		{"BINDERY_MAX_CHAPTERS", "0", `configuration: BINDERY_MAX_CHAPTERS is "0"; expected a whole number from 1 to 1000000`},
		{"BINDERY_MAX_CHAPTER_BYTES", "4MiB", `configuration: BINDERY_MAX_CHAPTER_BYTES is "4MiB"; expected a whole number ≥ 1`},
		{"BINDERY_MAX_BOOK_TEXT_BYTES", "-1", `configuration: BINDERY_MAX_BOOK_TEXT_BYTES is "-1"; expected a whole number ≥ 1`},
		{"BINDERY_MAX_PARAGRAPH_BYTES", "x", `configuration: BINDERY_MAX_PARAGRAPH_BYTES is "x"; expected a whole number from 1 to 1073741824`},
		{"BINDERY_MAX_NESTING", "101", `configuration: BINDERY_MAX_NESTING is "101"; expected a whole number from 1 to 100`},
		{"BINDERY_MAX_TABLE_COLUMNS", "0", `configuration: BINDERY_MAX_TABLE_COLUMNS is "0"; expected a whole number from 1 to 10000`},
		{"BINDERY_MAX_FOOTNOTES", "1.5", `configuration: BINDERY_MAX_FOOTNOTES is "1.5"; expected a whole number from 1 to 1000000`},
		{"BINDERY_MAX_IMAGE_MEGAPIXELS", "0", `configuration: BINDERY_MAX_IMAGE_MEGAPIXELS is "0"; expected a whole number from 1 to 200`},
		{"BINDERY_MAX_JPEG_MEGAPIXELS", "500", `configuration: BINDERY_MAX_JPEG_MEGAPIXELS is "500"; expected a whole number from 1 to 200`},
		{"BINDERY_MAX_ARCHIVE_RATIO", "0", `configuration: BINDERY_MAX_ARCHIVE_RATIO is "0"; expected a whole number from 1 to 10000`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := env(map[string]string{tc.name: tc.value})
			if _, err := config.Load(e); err == nil || err.Error() != tc.want {
				t.Errorf("Load: %v\nwant %s", err, tc.want)
			}
			if _, err := config.LoadLimits(e); err == nil || err.Error() != tc.want {
				t.Errorf("LoadLimits: %v\nwant %s", err, tc.want)
			}
		})
	}
}
