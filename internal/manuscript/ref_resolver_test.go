package manuscript_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
)

func resolverBook(t testing.TB) *manuscript.Manuscript {
	outside := filepath.Join(t.TempDir(), "secret.png")
	if err := os.WriteFile(outside, mt.TinyPNG(), 0o644); err != nil {
		t.Fatal(err)
	}
	return mt.MustLoad(t, map[string]string{
		"chapters/01-start.md":     "# Start\n",
		"chapters/02-next.md":      "# Next\n",
		"chapters/img/near.png":    mt.PNG,
		"assets/images/map.png":    mt.PNG,
		"assets/images/my map.png": mt.PNG,
		"assets/images/out.png":    mt.Symlink(outside),
		"assets/images/in.png":     mt.Symlink("map.png"),
		"assets/images/loop.png":   mt.Symlink("loop.png"),
	})
}

// Both pandoc conventions resolve; nothing resolves outside the book.
func TestResolve(t *testing.T) {
	m := resolverBook(t)
	const from = "chapters/01-start.md"
	tests := []struct {
		ref      string
		kind     manuscript.RefKind
		path     string
		fragment string
		err      error
	}{
		{"../assets/images/map.png", manuscript.RefFile, "assets/images/map.png", "", nil},
		{"assets/images/map.png", manuscript.RefFile, "assets/images/map.png", "", nil},
		{"assets/images/my%20map.png", manuscript.RefFile, "assets/images/my map.png", "", nil},
		{"img/near.png", manuscript.RefFile, "chapters/img/near.png", "", nil},
		{"assets/images/in.png", manuscript.RefFile, "assets/images/in.png", "", nil}, // symlink inside the book
		{"02-next.md", manuscript.RefChapter, "chapters/02-next.md", "", nil},
		{"02-next.md#storm", manuscript.RefChapter, "chapters/02-next.md", "storm", nil},
		{"chapters/02-next.md#storm", manuscript.RefChapter, "chapters/02-next.md", "storm", nil},
		{"./../chapters/./02-next.md", manuscript.RefChapter, "chapters/02-next.md", "", nil},
		{"#here", manuscript.RefChapter, from, "here", nil},
		{"https://example.com/x", manuscript.RefExternal, "", "", nil},
		{"MAILTO:a@example.com", manuscript.RefExternal, "", "", nil},
		{"missing.png", 0, "", "", manuscript.ErrNotFound},
		{"assets/images", 0, "", "", manuscript.ErrNotFound}, // a folder
		{"../../secret.png", 0, "", "", manuscript.ErrOutside},
		{"../../../../../../etc/passwd", 0, "", "", manuscript.ErrOutside},
		{"/etc/passwd", 0, "", "", manuscript.ErrOutside},
		{"//evil.example/x.png", 0, "", "", manuscript.ErrOutside},
		{"..\\..\\secret.png", 0, "", "", manuscript.ErrOutside},
		{"assets/images/out.png", 0, "", "", manuscript.ErrOutside}, // symlink out of the book
		{"assets/images/loop.png", 0, "", "", manuscript.ErrOutside},
		{"javascript:alert(1)", 0, "", "", manuscript.ErrScheme},
		{"data:image/png;base64,AAAA", 0, "", "", manuscript.ErrScheme},
		{"file:///etc/passwd", 0, "", "", manuscript.ErrScheme},
		{"", 0, "", "", manuscript.ErrNotFound},
		{"#", 0, "", "", manuscript.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ref, err := m.Resolve(from, tt.ref)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Resolve(%q) = %+v, %v; want error %v", tt.ref, ref, err, tt.err)
				}
				return
			}
			if err != nil || ref.Kind != tt.kind || ref.Path != tt.path || ref.Fragment != tt.fragment {
				t.Fatalf("Resolve(%q) = %+v, %v; want kind %d path %q fragment %q", tt.ref, ref, err, tt.kind, tt.path, tt.fragment)
			}
		})
	}
}

// ReadFile goes through os.Root: a file swapped for a symbolic link to the
// outside after it was resolved is still refused (no time-of-check to
// time-of-use gap).
func TestReadFileRefusesSwappedSymlink(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("SECRET"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := mt.WriteBook(t, map[string]string{"chapters/01.md": "x", "assets/a.png": mt.PNG})
	m := mt.LoadDir(t, dir)
	if _, err := m.Resolve("chapters/01.md", "../assets/a.png"); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "assets", "a.png")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, p); err != nil {
		t.Fatal(err)
	}
	data, err := m.ReadFile("assets/a.png")
	if err == nil || strings.Contains(string(data), "SECRET") {
		t.Fatalf("ReadFile read through a symlink out of the book: %q, %v", data, err)
	}
}

func TestImageType(t *testing.T) {
	m := mt.MustLoad(t, map[string]string{
		"chapters/01.md": "x",
		"a.png":          mt.PNG,
		"b.jpg":          mt.PNG, // PNG content under a JPEG name
		"c.png":          "<html><script>alert(1)</script>",
		"d.svg":          "<svg/>",
		"e.gif":          "GIF89a\x01\x00\x01\x00\x00\x00\x00;",
	})
	for name, want := range map[string]string{"a.png": "image/png", "b.jpg": "", "c.png": "", "d.svg": "", "e.gif": "image/gif", "missing.png": ""} {
		got, err := m.ImageType(name)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("ImageType(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
}

// FuzzResolve: whatever the reference, a resolved file is a valid path
// inside the book that exists there; nothing panics.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"../assets/images/map.png", "assets/images/out.png", "../../x", "%2e%2e/%2e%2e/x", "a/../../b", "02-next.md#x", "\\..\\x", "javascript:x", "//h/x", "?x", "#"} {
		f.Add("chapters/01-start.md", s)
	}
	m := resolverBook(f)
	f.Fuzz(func(t *testing.T, from, ref string) {
		r, err := m.Resolve(from, ref)
		if err != nil {
			return
		}
		switch r.Kind {
		case manuscript.RefExternal:
			if s := strings.ToLower(strings.TrimSpace(ref)); !strings.HasPrefix(s, "http:") && !strings.HasPrefix(s, "https:") && !strings.HasPrefix(s, "mailto:") {
				t.Fatalf("Resolve(%q) external with scheme outside the allowlist", ref)
			}
		case manuscript.RefFile, manuscript.RefChapter:
			if !fs.ValidPath(r.Path) || strings.Contains(r.Path, "..") && !strings.Contains(r.Path, "...") {
				t.Fatalf("Resolve(%q, %q) = invalid path %q", from, ref, r.Path)
			}
			if _, err := m.ReadFile(r.Path); err != nil {
				t.Fatalf("Resolve(%q, %q) = %q, which cannot be read: %v", from, ref, r.Path, err)
			}
		}
	})
}
