package bookfs_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
)

// member is one archive entry for the tests.
type member struct {
	name string
	body string
	link string // a symbolic link to this target instead of a file
	dir  bool
}

func zipOf(t *testing.T, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
		switch {
		case m.link != "":
			h.SetMode(fs.ModeSymlink | 0o777)
		case m.dir:
			h.SetMode(fs.ModeDir | 0o755)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if m.link != "" {
			w.Write([]byte(m.link))
		} else {
			w.Write([]byte(m.body))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarGzOf(t *testing.T, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}
		switch {
		case m.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, m.link, 0
		case m.dir:
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(m.body))
		}
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

var smallBook = []member{
	{name: "metadata.yaml", body: "title: Small\nauthor: A\n"},
	{name: "chapters/", dir: true},
	{name: "chapters/01-one.md", body: "# One\n\nText.\n"},
	{name: "assets/css/book.css", body: "p { margin: 0 }\n"},
}

// noImportLeftovers fails if a staging folder is left in the store.
func noImportLeftovers(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".import-") {
			t.Errorf("staging folder left behind: %s", e.Name())
		}
	}
}

func TestStageAndCommit(t *testing.T) {
	for name, archive := range map[string][]byte{
		"zip":              zipOf(t, smallBook...),
		"tar.gz":           tarGzOf(t, smallBook...),
		"zip, top folder":  zipOf(t, prefixed("small/", smallBook)...),
		"tar, top folder":  tarGzOf(t, prefixed("./small/", smallBook)...),
		"zip with clutter": zipOf(t, append(smallBook, member{name: "__MACOSX/._x", body: "x"}, member{name: ".DS_Store", body: "x"}, member{name: "genimages.go", body: "package main"})...),
	} {
		t.Run(name, func(t *testing.T) {
			s, dir := newStore(t, lim)
			st, err := s.Stage(context.Background(), bytes.NewReader(archive))
			if err != nil {
				t.Fatalf("Stage: %v", err)
			}
			defer st.Discard()
			if len(st.Files) != 3 {
				t.Errorf("staged %+v, want 3 files", st.Files)
			}
			md, err := st.ReadFile("metadata.yaml")
			if err != nil || !strings.Contains(string(md), "title: Small") {
				t.Errorf("ReadFile(metadata.yaml) = %q, %v", md, err)
			}
			if err := st.Commit(7); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(s.Dir(7), "chapters", "01-one.md"))
			if err != nil || string(got) != "# One\n\nText.\n" {
				t.Errorf("committed chapter = %q, %v", got, err)
			}
			noImportLeftovers(t, dir)
			noTemporaryFiles(t, dir)
		})
	}
}

func prefixed(p string, ms []member) []member {
	out := make([]member, len(ms))
	for i, m := range ms {
		m.name = p + m.name
		out[i] = m
	}
	return out
}

func TestStageSkipsWhatBooksDoNotUse(t *testing.T) {
	s, _ := newStore(t, lim)
	st, err := s.Stage(context.Background(), bytes.NewReader(zipOf(t, append(smallBook,
		member{name: "__MACOSX/chapters/._01-one.md", body: "x"}, member{name: "genimages.go", body: "package main"})...)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	want := []string{"__MACOSX/chapters/._01-one.md", "genimages.go"}
	if strings.Join(st.Skipped, ",") != strings.Join(want, ",") {
		t.Errorf("Skipped = %q, want %q", st.Skipped, want)
	}
}

// TestStageRefuses: every archive trick is refused whole, with a message
// naming it, and leaves nothing behind.
func TestStageRefuses(t *testing.T) {
	bomb := strings.Repeat("a", 3<<20) // 3 MiB of one letter: a few KiB compressed
	for _, tc := range []struct {
		name    string
		archive []byte
		code    string
		msg     string
	}{
		{"not an archive", []byte("just some text, not an archive"), bindery.EUNSUPPORTED, ".zip or a .tar.gz"},
		{"zip slip", zipOf(t, append(smallBook, member{name: "../../etc/cron.d/x.md", body: "x"})...), bindery.EINVALID, `"." and ".." are not allowed`},
		{"absolute name", tarGzOf(t, append(smallBook, member{name: "/etc/x.md", body: "x"})...), bindery.EINVALID, "relative to the book folder"},
		{"backslash", zipOf(t, append(smallBook, member{name: `chapters\02.md`, body: "x"})...), bindery.EINVALID, "use / to separate folders"},
		{"hidden file", zipOf(t, append(smallBook, member{name: "chapters/.secret.md", body: "x"})...), bindery.EINVALID, "may not start with a dot"},
		{"bidi-free but control character", zipOf(t, append(smallBook, member{name: "chapters/a\x01.md", body: "x"})...), bindery.EINVALID, "control character"},
		{"zip symlink", zipOf(t, append(smallBook, member{name: "chapters/02.md", link: "/etc/passwd"})...), bindery.EUNSUPPORTED, "is a link or a special file"},
		{"tar symlink", tarGzOf(t, append(smallBook, member{name: "chapters/02.md", link: "../../x"})...), bindery.EUNSUPPORTED, "is a link or a special file"},
		{"bad content", zipOf(t, append(smallBook, member{name: "assets/images/x.png", body: "not a png"})...), bindery.EUNSUPPORTED, "archive entry assets/images/x.png"},
		{"remote stylesheet", tarGzOf(t, append(smallBook, member{name: "assets/css/evil.css", body: "p{background:url(http://x.example/t.gif)}"})...), bindery.EUNPROCESSABLE, "archive entry assets/css/evil.css"},
		{"zip bomb", zipOf(t, append(smallBook, member{name: "chapters/02.md", body: bomb})...), bindery.ETOOLARGE, "archive bomb"},
		{"gzip bomb", tarGzOf(t, append(smallBook, member{name: "chapters/02.md", body: bomb})...), bindery.ETOOLARGE, "archive bomb"},
		{"nothing of a book", zipOf(t, member{name: "x.go", body: "package x"}), bindery.EUNPROCESSABLE, "no book file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, dir := newStore(t, bookfs.Limits{MaxFileBytes: 4 << 20, MaxFiles: 50, MaxBookBytes: 64 << 20})
			st, err := s.Stage(context.Background(), bytes.NewReader(tc.archive))
			if err == nil {
				st.Discard()
				t.Fatalf("Stage accepted it")
			}
			if code(err) != tc.code || !strings.Contains(bindery.ErrorMessage(err), tc.msg) {
				t.Errorf("Stage = %v (code %s), want code %s and a message containing %q", err, code(err), tc.code, tc.msg)
			}
			noImportLeftovers(t, dir)
		})
	}
}

func TestStageCountsRealBytesAndFiles(t *testing.T) {
	many := append([]member(nil), smallBook...)
	for i := range 10 {
		many = append(many, member{name: "chapters/x" + string(rune('a'+i)) + ".md", body: "text"})
	}
	s, _ := newStore(t, bookfs.Limits{MaxFileBytes: 1000, MaxFiles: 8, MaxBookBytes: 1 << 20})
	if _, err := s.Stage(context.Background(), bytes.NewReader(zipOf(t, many...))); code(err) != bindery.ETOOLARGE {
		t.Errorf("more files than the book limit: %v", err)
	}
	big := append(append([]member(nil), smallBook...), member{name: "chapters/big.md", body: strings.Repeat("word ", 400)})
	if _, err := s.Stage(context.Background(), bytes.NewReader(tarGzOf(t, big...))); code(err) != bindery.ETOOLARGE {
		t.Errorf("a file past the file limit: %v", err)
	}
}

// TestExportImportRoundTrip: a book exported with WriteZip and staged
// again is the same folder, byte for byte.
func TestExportImportRoundTrip(t *testing.T) {
	s, _ := newStore(t, lim)
	src := filepath.Join("..", "..", "examples", "lighthouse")
	for _, top := range []string{"metadata.yaml", "chapters", "assets"} {
		filepath.WalkDir(filepath.Join(src, top), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			data, _ := os.ReadFile(p)
			if err := put(s, filepath.ToSlash(rel), data); err != nil {
				t.Fatalf("Put(%s): %v", rel, err)
			}
			return nil
		})
	}
	var zipped bytes.Buffer
	if err := s.WriteZip(context.Background(), 1, &zipped); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stage(context.Background(), &zipped)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(2); err != nil {
		t.Fatal(err)
	}
	a, _ := s.List(1)
	b, _ := s.List(2)
	if len(a) != len(b) || len(a) < 6 {
		t.Fatalf("exported %d files, imported %d", len(a), len(b))
	}
	for i := range a {
		x, _ := os.ReadFile(filepath.Join(s.Dir(1), a[i].Path))
		y, _ := os.ReadFile(filepath.Join(s.Dir(2), b[i].Path))
		if a[i].Path != b[i].Path || !bytes.Equal(x, y) {
			t.Errorf("%s differs after the round trip", a[i].Path)
		}
	}
}
