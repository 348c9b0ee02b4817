package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/cli"
	"github.com/bindery/bindery/internal/clock"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

// tamper runs SQL on the database file directly, as an intruder with
// write access to it but without the encryption key would.
func tamper(t *testing.T, dataDir, q string) {
	t.Helper()
	db, err := sqlite.OpenPool(filepath.Join(dataDir, "bindery.db"), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

var verified = regexp.MustCompile(`^(\d+) entries verified, head ([0-9a-f]{64})\n`)

// TestAuditVerifyAndExport: `bindery audit verify` passes on an honest log
// (printing the count and head), fails with exit 1 naming the entry after
// an edit; `bindery audit export` writes JSON lines with the hashes, to
// standard output or a private file.
func TestAuditVerifyAndExport(t *testing.T) {
	data := t.TempDir()
	pw := "correct horse battery staple\n"
	if code, _, errs := run(t, data, pw, "user", "add", "--email", "ann@example.com", "--role", "admin"); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	if code, _, errs := run(t, data, pw, "user", "add", "--email", "bob@example.com", "--role", "viewer"); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	code, out, errs := run(t, data, "", "audit", "verify")
	m := verified.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != "2" {
		t.Fatalf("audit verify: %d %q %s", code, out, errs)
	}
	head := m[2]

	code, out, errs = run(t, data, "", "audit", "export")
	if code != 0 {
		t.Fatalf("audit export: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("export: %d lines, want 3 (two users created, the export itself):\n%s", len(lines), out)
	}
	var first, second, third bindery.AuditEvent
	for i, p := range []*bindery.AuditEvent{&first, &second, &third} {
		if err := json.Unmarshal([]byte(lines[i]), p); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	if first.Action != bindery.AuditUserCreated || first.Target != "user:1" || second.Hash != head || third.PrevHash != head || third.Action != bindery.AuditExported {
		t.Fatalf("export lines: %+v / %+v / %+v (head %s)", first, second, third, head)
	}
	if strings.Contains(out, "@example.com") {
		t.Fatalf("the export holds an address:\n%s", out)
	}

	file := filepath.Join(data, "audit.jsonl")
	if code, _, errs := run(t, data, "", "audit", "export", "--since", "2000-01-01T00:00:00Z", "--out", file); code != 0 || !strings.Contains(errs, "Exported 4 audit entries") {
		t.Fatalf("audit export --out: %d %s", code, errs)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v, %v; want mode 600", fi, err)
	}
	if n := len(readLines(t, file)); n != 4 {
		t.Fatalf("export file: %d lines, want 4", n)
	}
	if code, _, _ := run(t, data, "", "audit", "export", "--since", "yesterday"); code != 2 {
		t.Fatalf("a malformed --since is not a usage error: %d", code)
	}
	if code, _, _ := run(t, data, "", "audit", "frobnicate"); code != 2 {
		t.Fatalf("an unknown sub-command is not a usage error: %d", code)
	}

	tamper(t, data, `DROP TRIGGER audit_log_no_update; UPDATE audit_log SET target = 'user:2' WHERE id = 1`)
	code, out, errs = run(t, data, "", "audit", "verify")
	if code != 1 || out != "" || !strings.Contains(errs, "entry 1") || !strings.Contains(errs, bindery.AuditBreakEdited) {
		t.Fatalf("audit verify after an edit: %d %q %q; want exit 1 naming entry 1, edited", code, out, errs)
	}
}

// TestAuditVerifyDetectsDeletion: deleting an entry (from the middle, or
// the last one) makes verify fail with the entry and the reason.
func TestAuditVerifyDetectsDeletion(t *testing.T) {
	for _, tc := range []struct {
		name, attack, want string
	}{
		{"middle", `DELETE FROM audit_log WHERE id = 2`, "entry 3: " + bindery.AuditBreakMissing},
		{"tail", `DELETE FROM audit_log WHERE id = 3`, "entry 3: " + bindery.AuditBreakTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				if code, _, errs := run(t, data, "correct horse battery staple\n", "user", "add", "--email", email); code != 0 {
					t.Fatalf("user add: %d %s", code, errs)
				}
			}
			tamper(t, data, `DROP TRIGGER audit_log_no_delete; `+tc.attack)
			if code, _, errs := run(t, data, "", "audit", "verify"); code != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("audit verify: %d %q; want exit 1 and %q", code, errs, tc.want)
			}
		})
	}
}

// TestRetentionPurgeKeepsTheChain: the server's sweep purge removes audit
// entries and run events past their retention, as of an injected clock;
// the chain still verifies and records the purge; zero keeps forever.
func TestRetentionPurgeKeepsTheChain(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for range 4 { // one audit entry and one event every 100 days
		if err := db.AppendAudit(ctx, &bindery.AuditEvent{At: clk.Now(), Action: bindery.AuditLogout}); err != nil {
			t.Fatal(err)
		}
		if err := db.AppendEvent(ctx, &bindery.Event{Type: bindery.EventRunQueued, Timestamp: clk.Now(), RunID: 1, BookID: 1}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(100 * 24 * time.Hour)
	}
	// Now day 400: with a year of audit and 150 days of events, entries
	// of days 0 (400 days old) and events of days 0, 100, 200 expire.
	if a, e, err := cli.PurgeExpired(ctx, db, clk.Now(), 0, 0); err != nil || a != 0 || e != 0 {
		t.Fatalf("retention 0 purged %d entries and %d events (%v); want nothing", a, e, err)
	}
	a, e, err := cli.PurgeExpired(ctx, db, clk.Now(), 365*24*time.Hour, 150*24*time.Hour)
	if err != nil || a != 1 || e != 3 {
		t.Fatalf("purge = %d audit, %d events, %v; want 1 and 3", a, e, err)
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Entries != 4 || v.AnchorID != 2 {
		t.Fatalf("VerifyAudit after the purge = %+v, %v; want 3 kept + the purge entry, from entry 2", v, err)
	}
	purged, _ := db.ListAudit(ctx, bindery.AuditFilter{Action: bindery.AuditPurged})
	if len(purged) != 1 || !strings.HasPrefix(purged[0].Detail, "1 entries") || !purged[0].At.Equal(clk.Now()) {
		t.Fatalf("the purge is not audited: %+v", purged)
	}
	// The next sweep, a day later, has nothing to do and records nothing.
	clk.Advance(24 * time.Hour)
	if a, _, err := cli.PurgeExpired(ctx, db, clk.Now(), 365*24*time.Hour, 150*24*time.Hour); err != nil || a != 0 {
		t.Fatalf("second purge = %d, %v", a, err)
	}
	if v, _ := db.VerifyAudit(ctx); !v.OK() || v.Entries != 4 {
		t.Fatalf("VerifyAudit after an idle purge = %+v", v)
	}
}

// readLines is a helper for reading an export file.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
