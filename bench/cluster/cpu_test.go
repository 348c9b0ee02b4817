package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis, as /proc prints it;
	// utime 150, stime 50, cutime 30, cstime 20 ticks.
	line := "1234 (bindery (x) 1) S 1 1234 1234 0 -1 4194560 100 0 0 0 150 50 30 20 20 0 12 0 100 0 0\n"
	got, err := statCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if want := 250 * time.Second / clockTicks; got != want {
		t.Fatalf("statCPU = %v, want %v", got, want)
	}
	if _, err := statCPU("1234 (short) S 1 2"); err == nil {
		t.Fatal("a short line parsed")
	}
	self, err := cpuTime(os.Getpid())
	if err != nil || self < 0 {
		t.Fatalf("cpuTime(self) = %v, %v", self, err)
	}
}

func TestZipBookTakesOnlyTheBook(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"metadata.yaml", "cover.jpg", "README.md", "chapters/01-a.md", "assets/images/x.png", "notes/todo.md"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b, err := zipBook(dir)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	want := []string{"assets/images/x.png", "chapters/01-a.md", "cover.jpg", "metadata.yaml"}
	if !slices.Equal(names, want) {
		t.Fatalf("zip holds %v, want %v", names, want)
	}
}
