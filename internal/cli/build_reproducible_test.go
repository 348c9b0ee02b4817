package cli_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/cli"
)

// buildWithEnv runs "bindery build" of the example as an EPUB with the
// given environment and returns the EPUB's bytes.
func buildWithEnv(t *testing.T, env map[string]string) ([]byte, int, string) {
	t.Helper()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := cli.Run(context.Background(), []string{"build", "../../examples/lighthouse", "--out", out, "--formats", "epub"},
		getenv, strings.NewReader(""), &stdout, &stderr)
	data, _ := os.ReadFile(filepath.Join(out, "the-keeper-of-skerry-light.epub"))
	return data, code, stderr.String()
}

func packageDoc(t *testing.T, epub []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(epub), int64(len(epub)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("EPUB/package.opf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

// With SOURCE_DATE_EPOCH, two builds give the same bytes and the EPUB is
// stamped with that time; without it, with the build time, never with a
// date made up from the metadata.
func TestBuildHonoursSourceDateEpoch(t *testing.T) {
	env := map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}
	a, code, errs := buildWithEnv(t, env)
	if code != 0 {
		t.Fatalf("build: %d\n%s", code, errs)
	}
	b, _, _ := buildWithEnv(t, env)
	if !bytes.Equal(a, b) {
		t.Error("two builds with the same SOURCE_DATE_EPOCH differ")
	}
	if opf := packageDoc(t, a); !strings.Contains(opf, `<meta property="dcterms:modified">2023-11-14T22:13:20Z</meta>`) {
		t.Errorf("dcterms:modified is not SOURCE_DATE_EPOCH:\n%s", opf)
	}

	before := time.Now().UTC().Truncate(time.Second)
	c, code, errs := buildWithEnv(t, nil)
	after := time.Now().UTC()
	if code != 0 {
		t.Fatalf("build: %d\n%s", code, errs)
	}
	opf := packageDoc(t, c)
	_, v, _ := strings.Cut(opf, `<meta property="dcterms:modified">`)
	v, _, _ = strings.Cut(v, "<")
	if got, err := time.Parse(time.RFC3339, v); err != nil || got.Before(before) || got.After(after) {
		t.Errorf("dcterms:modified without SOURCE_DATE_EPOCH is %q, not the build time (%v to %v)", v, before, after)
	}

	if _, code, errs := buildWithEnv(t, map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}); code == 0 || !strings.Contains(errs, "SOURCE_DATE_EPOCH") {
		t.Errorf("a malformed SOURCE_DATE_EPOCH was accepted: %d %s", code, errs)
	}
}
