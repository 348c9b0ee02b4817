package logging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/logging"
)

// Known secrets, in every shape the redactor must catch.
const (
	dashboardToken = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	ideogramKey    = "ideo_live_Zx81kQp0wLm3"
	sessionToken   = "bindery_ses_y3iOV954jjt9NfP_zY-RUlQwXv7AbQ4JNSG-26ZMIYA"
	apiToken       = "bindery_pat_AfBtvPr6rmg34K-ocPJKqc_Y9PGDTSabL3eimt_wHJA"
	password       = "correct horse battery staple"
	openAIKey      = "sk-proj-abcdefghijklmnop"
	jwt            = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)

var secrets = []string{dashboardToken, ideogramKey, sessionToken, apiToken, password, openAIKey, jwt}

type leakyStringer struct{}

func (leakyStringer) String() string { return "config{token=" + dashboardToken + "}" }

type leakyValuer struct{}

func (leakyValuer) LogValue() slog.Value { return slog.StringValue("Bearer " + apiToken) }

// logEverywhere sends each secret through every way code can log.
func logEverywhere(l *slog.Logger) {
	ctx := context.Background()
	// In the message itself, in several shapes.
	l.Info("calling ideogram with api_key=" + ideogramKey)
	l.Info("header Authorization: Bearer " + apiToken)
	l.Warn(fmt.Sprintf("cookie: bindery_session=%s", sessionToken))
	l.Error("login for bob password=" + password + " failed")
	l.Info("provider key " + openAIKey + " and jwt " + jwt)
	// As attributes, by key name.
	l.Info("attrs", "password", password, "DASHBOARD_TOKEN", dashboardToken, "Authorization", "Bearer "+apiToken,
		"cookie", "bindery_session="+sessionToken, "api_key", ideogramKey)
	// As attributes whose key says nothing, by shape or literal value.
	l.Info("values", "detail", "token="+sessionToken, "x", dashboardToken, "y", "key: "+ideogramKey)
	// Errors, Stringers, LogValuers, groups, With and WithGroup.
	l.Error("request failed", "err", errors.New("upstream said: invalid api_key="+ideogramKey))
	l.Info("stringer", "cfg", leakyStringer{}, "valuer", leakyValuer{})
	l.Info("grouped", slog.Group("req", "headers", "Authorization: Bearer "+apiToken, slog.Group("deep", "password", password)))
	l.With("token", sessionToken, "note", "key="+ideogramKey).Info("with")
	l.WithGroup("g").Info("group", "secret", dashboardToken, "text", "sk-"+openAIKey[3:])
	l.Log(ctx, slog.LevelDebug, "debug "+dashboardToken)
	// The standard library's log (http.Server.ErrorLog) goes through too.
	logging.StdLogger(l, slog.LevelWarn).Printf("http: TLS handshake error, Authorization: Bearer %s", apiToken)
}

// TestNoSecretInAnyLogPath pushes known secrets through every log path,
// in both formats, to standard error and to the log file, and asserts
// that none survives.
func TestNoSecretInAnyLogPath(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var stderr bytes.Buffer
			file := filepath.Join(t.TempDir(), "bindery.log")
			l, closeFn, err := logging.New(&stderr, logging.Options{Level: "debug", Format: format, File: file, Secrets: []string{dashboardToken, ideogramKey}})
			if err != nil {
				t.Fatal(err)
			}
			logEverywhere(l)
			closeFn()
			fileData, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for name, out := range map[string]string{"stderr": stderr.String(), "file": string(fileData)} {
				if !strings.Contains(out, logging.Redacted) || strings.Count(out, "\n") < 14 {
					t.Fatalf("%s: expected 14+ redacted lines, got:\n%s", name, out)
				}
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%s (%s) leaks %q:\n%s", name, format, s, out)
					}
				}
			}
			fi, _ := os.Stat(file)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("log file mode %o, want 600", fi.Mode().Perm())
			}
		})
	}
}

func TestOrdinaryLinesUntouched(t *testing.T) {
	var buf bytes.Buffer
	l, _, _ := logging.New(&buf, logging.Options{Format: "text"})
	l.Info("request", "method", "GET", "path", "/api/v1/books/12", "status", 200, "client_addr", "192.0.2.1")
	if strings.Contains(buf.String(), logging.Redacted) || !strings.Contains(buf.String(), "path=/api/v1/books/12") {
		t.Fatalf("over-redacted: %s", buf.String())
	}
}

func TestExistingLogFileIsTightened(t *testing.T) {
	file := filepath.Join(t.TempDir(), "old.log")
	os.WriteFile(file, nil, 0o644)
	_, closeFn, err := logging.New(&bytes.Buffer{}, logging.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	closeFn()
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o, want 600", fi.Mode().Perm())
	}
}

func FuzzRedactorString(f *testing.F) {
	f.Add("Authorization: Bearer abc.def", "abcdefgh")
	f.Add("api_key=xyz&password=hunter2hunter2", "")
	f.Fuzz(func(t *testing.T, s, literal string) {
		r := logging.NewRedactor(literal)
		out := r.String(s)
		if len(literal) >= 8 && strings.Contains(out, literal) && !strings.Contains(logging.Redacted, literal) {
			t.Fatalf("literal %q survived in %q", literal, out)
		}
	})
}
