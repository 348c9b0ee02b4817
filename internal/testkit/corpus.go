package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// Corpus returns the folder of the shared Frankenstein corpus: $BINDERY_CORPUS
// if set, else ../shared/corpus/frankenstein beside the repository (where
// CI lays shared/). Without it the test is skipped, except under CI=true,
// where it fails: CI must never pass by skipping.
func Corpus(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("BINDERY_CORPUS")
	if dir == "" {
		if root, err := moduleRoot(); err == nil {
			dir = filepath.Join(root, "..", "shared", "corpus", "frankenstein")
		}
	}
	// #nosec G703 -- a test helper: dir is the developer's own BINDERY_CORPUS or a fixed folder beside the repository, and is only looked at
	if fi, err := os.Stat(filepath.Join(dir, "metadata.yaml")); err != nil || fi.IsDir() {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("the Frankenstein corpus is missing (looked in %q; set BINDERY_CORPUS)", dir)
		}
		tb.Skipf("the Frankenstein corpus is missing (looked in %q; set BINDERY_CORPUS)", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return abs
}

// moduleRoot walks up from the working directory to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
