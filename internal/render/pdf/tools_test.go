package pdf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// needTool returns the path of a command-line tool, skipping the test when
// it is missing, unless CI=true, where that is a failure.
func needTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s not installed (apt-get install -y qpdf poppler-utils)", name)
		}
		tb.Skipf("%s not installed", name)
	}
	return p
}

// runTool runs a tool and returns its standard output; it fails the test
// on a non-zero exit.
func runTool(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(needTool(tb, name), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %v: %v\n%s%s", name, args, err, out.String(), errb.String())
	}
	return out.String()
}

// artifacts returns the directory for files a human may want to look at:
// $BINDERY_TEST_ARTIFACTS/pdf if set, else a temporary directory.
func artifacts(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("BINDERY_TEST_ARTIFACTS"); d != "" {
		d = filepath.Join(d, "pdf")
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		return d
	}
	return tb.TempDir()
}

// renderFile renders b into dir/name and returns the path.
func renderFile(tb testing.TB, b *Book, dir, name string) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, b, Options{}); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// words splits text into lower-case words of letters and digits; all
// other characters (punctuation, quotes, dashes) separate words.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// lcsLen returns the length of the longest common subsequence of a and
// b, from the edit distance of Myers' O((N+M)D) algorithm.
func lcsLen(a, b []string) int {
	n, m := len(a), len(b)
	maxD := n + m
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	for d := 0; d <= maxD; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return (n + m - d) / 2
			}
		}
	}
	return 0
}

func TestLCSLen(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a b c d", "a b c d", 4},
		{"a b c d", "a x b d", 3},
		{"", "a", 0},
		{"the cat sat", "page 3 the cat sat frankenstein", 3},
	}
	for _, tt := range tests {
		if got := lcsLen(strings.Fields(tt.a), strings.Fields(tt.b)); got != tt.want {
			t.Errorf("lcsLen(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
