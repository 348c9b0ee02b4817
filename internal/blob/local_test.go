package blob_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/blob/blobtest"
)

func openLocal(t testing.TB, dir string) *blob.Local {
	t.Helper()
	l, err := blob.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestLocalSuite(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openLocal(t, t.TempDir()) })
}

// TestLocalNoEscape plants symbolic links in the folder, to a secret
// outside it, and checks that no key reaches the secret: not to read, not
// to write over, not to list, not to delete.
func TestLocalNoEscape(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("the secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l := openLocal(t, dir)
	for name, target := range map[string]string{
		"file-link":      secret,
		"dir-link":       outside,
		"relative-link":  "../" + filepath.Base(outside) + "/secret",
		"books/dir-link": outside,
		"tmp-escape":     "/etc/passwd",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"file-link", "dir-link/secret", "relative-link", "books/dir-link/secret", "tmp-escape"} {
		if f, _, err := l.Open(ctx, key); err == nil {
			b, _ := io.ReadAll(f)
			_ = f.Close()
			t.Errorf("Open(%q) succeeded and read %q", key, b)
		}
		if _, err := l.Stat(ctx, key); err == nil {
			t.Errorf("Stat(%q) succeeded", key)
		}
		if err := l.Delete(ctx, key); err != nil && bindery.ErrorCode(err) == bindery.EINVALID {
			t.Errorf("Delete(%q) = %v", key, err)
		}
	}
	if _, err := l.Put(ctx, "dir-link/new", strings.NewReader("x")); err == nil {
		t.Error("Put through a linked folder succeeded")
	}
	for info, err := range l.List(ctx, "") {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		t.Errorf("List shows %q: links are not objects", info.Key)
	}
	for info, err := range l.List(ctx, "dir-link/") {
		if err == nil {
			t.Errorf("List(dir-link/) shows %q outside the folder", info.Key)
		}
	}
	for _, key := range []string{"file-link", "relative-link", "books/dir-link/secret", "tmp-escape"} {
		// A Put may replace a link (rename replaces the directory
		// entry), but never write through it.
		if _, err := l.Put(ctx, key, strings.NewReader("overwritten")); err == nil {
			if fi, err := os.Lstat(filepath.Join(dir, key)); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("Put(%q) succeeded but left %v, %v", key, fi, err)
			}
		}
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "the secret" {
		t.Fatalf("the secret outside is now %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file was created outside the folder: %v", err)
	}
	// A link inside the folder to an object inside it is not an object
	// either (List would not show it).
	put := func(key, v string) {
		if _, err := l.Put(ctx, key, strings.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
	put("real", "inside")
	if err := os.Symlink("real", filepath.Join(dir, "alias")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Open(ctx, "alias"); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("Open(link to an object) = %v, want ENOTFOUND", err)
	}
}

// TestLocalPermissions checks 0600 files and 0700 folders, whatever the
// umask allowed.
func TestLocalPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "blobs")
	l := openLocal(t, dir)
	if _, err := l.Put(context.Background(), "a/b/c", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.PutContent(context.Background(), "content/", strings.NewReader("y")); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestLocalTreeConflict: a key cannot be both an object and a folder.
func TestLocalTreeConflict(t *testing.T) {
	ctx := context.Background()
	l := openLocal(t, t.TempDir())
	if _, err := l.Put(ctx, "a/b", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	_, err := l.Put(ctx, "a", strings.NewReader("y"))
	if bindery.ErrorCode(err) != bindery.ECONFLICT {
		t.Fatalf("Put(a) over folder a/ = %v, want ECONFLICT", err)
	}
	_, err = l.Put(ctx, "a/b/c", strings.NewReader("z"))
	if bindery.ErrorCode(err) != bindery.ECONFLICT {
		t.Fatalf("Put(a/b/c) under object a/b = %v, want ECONFLICT", err)
	}
	if f, _, err := l.Open(ctx, "a/b"); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(f)
		_ = f.Close()
		if string(b) != "x" {
			t.Fatalf("a/b = %q", b)
		}
	}
}

// TestLocalSweepTemp removes old temporary files only, and a crashed
// upload's file is never visible as an object.
func TestLocalSweepTemp(t *testing.T) {
	dir := t.TempDir()
	l := openLocal(t, dir)
	old := filepath.Join(dir, ".tmp", "crashed")
	if err := os.WriteFile(old, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(old, t0, t0); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, ".tmp", "in-progress")
	if err := os.WriteFile(fresh, []byte("writing"), 0o600); err != nil {
		t.Fatal(err)
	}
	for info := range l.List(context.Background(), "") {
		t.Fatalf("List shows %q", info.Key)
	}
	n, err := l.SweepTemp(context.Background(), t0.Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("SweepTemp = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the old temporary file is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("the fresh temporary file was removed")
	}
}
