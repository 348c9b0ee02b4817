package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/testkit"
)

// TestSystemdUnits: every unit in deploy/systemd passes `systemd-analyze
// verify` (directives, sandboxing options, the template's specifiers),
// with the real binary in ExecStart. Missing systemd-analyze is a failure
// under CI=true.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is missing (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is missing (apt-get install systemd)")
	}
	bin := testkit.Binary(t)
	units, err := filepath.Glob("../../deploy/systemd/*.service")
	if err != nil || len(units) < 2 {
		t.Fatalf("units: %v, %v", units, err)
	}
	for _, u := range units {
		t.Run(filepath.Base(u), func(t *testing.T) {
			data, err := os.ReadFile(u)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(data), "/usr/local/bin/bindery", bin)
			name := filepath.Base(u)
			if strings.HasSuffix(name, "@.service") {
				name = strings.TrimSuffix(name, "@.service") + "@1.service" // an instance of the template
			}
			p := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", "--man=no", p).CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Fatalf("systemd-analyze verify %s: %v\n%s", name, err, out)
			}
		})
	}
}
