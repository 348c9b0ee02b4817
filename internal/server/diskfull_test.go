package server_test

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// smallDisk mounts a tmpfs of size bytes and returns its folder, unmounted
// when the test ends (after everything registered later has closed).
// Mounting needs root on Linux: elsewhere the test skips, and under
// CI=true (root on Linux) it fails instead.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		fail("a small disk needs root on Linux (mount -t tmpfs)")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		fail("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file in dir until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// The last partial blocks too, so that no file write fits.
	for _, n := range []int{4096, 512, 1} {
		for {
			if _, err := f.Write(chunk[:n]); err != nil {
				break
			}
		}
	}
	return name
}

// TestDiskFull: a write that meets a full disk answers 507
// insufficient_storage with a plain message and leaves nothing behind;
// /readyz says not ready while free space is under BINDERY_MIN_FREE_BYTES;
// both recover by themselves once space is freed.
func TestDiskFull(t *testing.T) {
	disk := smallDisk(t, "24m")
	h := newHarness(t, map[string]string{"BINDERY_DATA_DIR": disk, "BINDERY_MIN_FREE_BYTES": "2097152"})
	cookie := h.session(bindery.RoleAuthor)
	files := "/api/v1/books/" + strconv.FormatInt(h.shared.ID, 10) + "/files/"
	chapter := "# Two\n\n" + strings.Repeat("All work and no play. ", 8000)

	ready := func(want int) string {
		t.Helper()
		h.clock.Advance(2 * time.Second) // past the one-second cache
		resp, body := h.do(req{method: "GET", path: "/readyz"})
		if resp.StatusCode != want {
			t.Fatalf("GET /readyz = %d %s, want %d", resp.StatusCode, body, want)
		}
		return body
	}
	ready(http.StatusOK)

	filler := fill(t, disk)
	resp, body := h.do(req{method: "PUT", path: files + "chapters/02-two.md", body: chapter, contentType: "text/markdown", cookie: cookie})
	if resp.StatusCode != http.StatusInsufficientStorage {
		t.Fatalf("upload to a full disk = %d %s, want 507", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"insufficient_storage"`) || !strings.Contains(body, "out of storage space") {
		t.Errorf("507 body = %s", body)
	}
	if left := hiddenFiles(t, h.books.Dir(h.shared.ID)); len(left) > 0 {
		t.Errorf("the refused upload left %v behind", left)
	}
	if _, err := os.Stat(filepath.Join(h.books.Dir(h.shared.ID), "chapters", "02-two.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused file exists: %v", err)
	}
	if body := ready(http.StatusServiceUnavailable); !strings.Contains(body, `"disk"`) {
		t.Errorf("not-ready body = %s, want the disk named", body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	ready(http.StatusOK)
	resp, body = h.do(req{method: "PUT", path: files + "chapters/02-two.md", body: chapter, contentType: "text/markdown", cookie: cookie})
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("upload after freeing space = %d %s", resp.StatusCode, body)
	}
}

// hiddenFiles lists the names under dir that start with a dot (temporary
// uploads).
func hiddenFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
