// Package blobtest is the behaviour suite every blob.Store backend must
// pass: the local folder and S3 today. Backends call Run from their own
// tests with a constructor of fresh, empty stores.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
)

// Run runs the suite. open must return a new, empty store each call (a
// fresh folder, or a fresh key prefix in a bucket).
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	t.Run("PutOpenStatDelete", func(t *testing.T) { testBasics(t, open(t)) })
	t.Run("EmptyObject", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, open(t)) })
	t.Run("MissingKeys", func(t *testing.T) { testMissing(t, open(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalid(t, open(t)) })
	t.Run("List", func(t *testing.T) { testList(t, open(t)) })
	t.Run("RangeReads", func(t *testing.T) { testRange(t, open(t)) })
	t.Run("ServeContent", func(t *testing.T) { testServeContent(t, open(t)) })
	t.Run("LargeObjectStreamed", func(t *testing.T) { testLarge(t, open(t)) })
	t.Run("CancelMidUpload", func(t *testing.T) { testCancel(t, open(t)) })
	t.Run("ReaderError", func(t *testing.T) { testReaderError(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("PutContent", func(t *testing.T) { testPutContent(t, open(t)) })
	t.Run("PutContentCancelled", func(t *testing.T) { testPutContentCancel(t, open(t)) })
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := bindery.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func put(t *testing.T, s blob.Store, key, content string) blob.Info {
	t.Helper()
	info, err := s.Put(context.Background(), key, strings.NewReader(content))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if info.Key != key || info.Size != int64(len(content)) || info.Modified.IsZero() || info.ETag == "" {
		t.Fatalf("Put(%q) = %+v", key, info)
	}
	return info
}

func read(t *testing.T, s blob.Store, key string) string {
	t.Helper()
	f, info, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	if int64(len(b)) != info.Size {
		t.Fatalf("Open(%q): Info.Size %d, read %d bytes", key, info.Size, len(b))
	}
	return string(b)
}

// keys lists every key under prefix.
func keys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var ks []string
	for info, err := range s.List(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		ks = append(ks, info.Key)
	}
	return ks
}

func testBasics(t *testing.T, s blob.Store) {
	ctx := context.Background()
	in := put(t, s, "books/1/chapters/01 Létter.md", "# One\n")
	if got := read(t, s, "books/1/chapters/01 Létter.md"); got != "# One\n" {
		t.Fatalf("read = %q", got)
	}
	st, err := s.Stat(ctx, "books/1/chapters/01 Létter.md")
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != 6 || st.Key != in.Key || st.ETag != in.ETag || !st.Modified.Equal(in.Modified) {
		t.Fatalf("Stat = %+v, Put said %+v", st, in)
	}
	if err := s.Delete(ctx, "books/1/chapters/01 Létter.md"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Stat(ctx, "books/1/chapters/01 Létter.md")
	wantCode(t, err, bindery.ENOTFOUND)
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Fatalf("after Delete, List = %q", ks)
	}
	// A key whose folder a Delete emptied can be a folder again, and a
	// former folder can be an object.
	put(t, s, "books/1/chapters/02.md", "two")
	put(t, s, "books/2", "a file where nothing was a folder")
	if err := s.Delete(ctx, "books/1/chapters/02.md"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "books/1", "now a file")
	if got := read(t, s, "books/1"); got != "now a file" {
		t.Fatalf("read = %q", got)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	put(t, s, "empty", "")
	if got := read(t, s, "empty"); got != "" {
		t.Fatalf("read = %q", got)
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "a/b", "first, longer value")
	in := put(t, s, "a/b", "second")
	if got := read(t, s, "a/b"); got != "second" {
		t.Fatalf("read = %q, want the second value", got)
	}
	st, err := s.Stat(context.Background(), "a/b")
	if err != nil || st.Size != 6 || st.ETag != in.ETag {
		t.Fatalf("Stat = %+v, %v; Put said %+v", st, err, in)
	}
	if ks := keys(t, s, ""); !slices.Equal(ks, []string{"a/b"}) {
		t.Fatalf("List = %q, want one key", ks)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "dir/present", "x")
	for _, key := range []string{"absent", "dir/absent", "dir", "dir/present/below", "absent/deeper/still"} {
		_, err := s.Stat(ctx, key)
		wantCode(t, err, bindery.ENOTFOUND)
		_, _, err = s.Open(ctx, key)
		wantCode(t, err, bindery.ENOTFOUND)
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(missing %q) = %v, want nil", key, err)
		}
		if strings.Contains(bindery.ErrorMessage(err), key) {
			t.Fatalf("the user-facing message names the key: %q", bindery.ErrorMessage(err))
		}
	}
	// Deleting the folder "dir" (not an object) left its object alone.
	if got := read(t, s, "dir/present"); got != "x" {
		t.Fatalf("read = %q", got)
	}
	if ks := keys(t, s, "nothing/"); len(ks) != 0 {
		t.Fatalf("List(empty prefix) = %q", ks)
	}
}

func testInvalid(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a/../b", "..", "a/./b", ".tmp/x", "a/.hidden", "a//b", "a/", `a\b`, "a\x00b", "a\nb", "a\u202eb", strings.Repeat("a", blob.MaxKeyBytes+1)} {
		_, err := s.Put(ctx, key, strings.NewReader("x"))
		wantCode(t, err, bindery.EINVALID)
		_, _, err = s.Open(ctx, key)
		wantCode(t, err, bindery.EINVALID)
		_, err = s.Stat(ctx, key)
		wantCode(t, err, bindery.EINVALID)
		wantCode(t, s.Delete(ctx, key), bindery.EINVALID)
	}
	for _, prefix := range []string{"a", "/", "../", "a/../", ".tmp/"} {
		var err error
		for _, err = range s.List(ctx, prefix) {
		}
		wantCode(t, err, bindery.EINVALID)
		_, err = s.PutContent(ctx, prefix, strings.NewReader("x"))
		wantCode(t, err, bindery.EINVALID)
	}
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Fatalf("invalid keys stored something: %q", ks)
	}
}

func testList(t *testing.T, s blob.Store) {
	ctx := context.Background()
	// Byte order, as S3 lists: '-' < '.' < '/' < '0' < 'a'.
	want := []string{"a", "a-c", "a.x", "b/0", "b/a", "b/c/d", "ba", "é"}
	for _, k := range []string{"é", "ba", "b/c/d", "a.x", "b/a", "a", "a-c", "b/0"} {
		put(t, s, k, k)
	}
	if got := keys(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("List = %q\nwant %q", got, want)
	}
	if got := keys(t, s, "b/"); !slices.Equal(got, []string{"b/0", "b/a", "b/c/d"}) {
		t.Fatalf(`List("b/") = %q`, got)
	}
	for info, err := range s.List(ctx, "b/c/") {
		if err != nil || info.Key != "b/c/d" || info.Size != 5 || info.Modified.IsZero() || info.ETag == "" {
			t.Fatalf("List info = %+v, %v", info, err)
		}
	}
	// Breaking out early is allowed and stops the listing.
	n := 0
	for _, err := range s.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break
		}
	}
	// A cancelled context ends the listing with its error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var err error
	for _, err = range s.List(cctx, "") {
		if err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("List(cancelled ctx) ended with %v, want context.Canceled", err)
	}
}

// pattern returns n deterministic, non-repeating-looking bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func testRange(t *testing.T, s blob.Store) {
	data := pattern(3 << 20)
	if _, err := s.Put(context.Background(), "r", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	f, info, err := s.Open(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) || info.Size != end {
		t.Fatalf("Seek(end) = %d, %v; Info.Size %d", end, err, info.Size)
	}
	for _, off := range []int64{2<<20 + 17, 5, 0, int64(len(data)) - 3} {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		n, err := io.ReadFull(f, buf)
		want := data[off:min(off+10, int64(len(data)))]
		if !bytes.Equal(buf[:n], want) || (err != nil && n != len(want)) {
			t.Fatalf("at %d read %x (%v), want %x", off, buf[:n], err, want)
		}
	}
	if _, err := f.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(50, io.SeekCurrent); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(f, b); err != nil || !bytes.Equal(b, data[150:154]) {
		t.Fatalf("after SeekCurrent read %x, %v", b, err)
	}
}

// testServeContent serves an object as the download handlers do and
// checks the headers they promise today (Range, Last-Modified,
// If-Modified-Since), and the ETag a handler can add from Info.ETag
// (If-None-Match, If-Range).
func testServeContent(t *testing.T, s blob.Store) {
	data := pattern(100 << 10)
	if _, err := s.Put(context.Background(), "book.epub", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, info, err := s.Open(r.Context(), "book.epub")
		if err != nil {
			http.Error(w, "open", http.StatusInternalServerError)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/epub+zip")
		w.Header().Set("ETag", `"`+info.ETag+`"`)
		http.ServeContent(w, r, "", info.Modified, f)
	}))
	defer srv.Close()
	get := func(h map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, body := get(nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("Last-Modified") == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET = %d, %d bytes, headers %v", resp.StatusCode, len(body), resp.Header)
	}
	resp, body = get(map[string]string{"Range": "bytes=1000-1999"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[1000:2000]) || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(data)) {
		t.Fatalf("Range GET = %d, %d bytes, %q", resp.StatusCode, len(body), resp.Header.Get("Content-Range"))
	}
	etag := resp.Header.Get("ETag")
	resp, _ = get(map[string]string{"If-Modified-Since": resp.Header.Get("Last-Modified")})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-Modified-Since GET = %d, want 304", resp.StatusCode)
	}
	resp, _ = get(map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match GET = %d, want 304", resp.StatusCode)
	}
	// A resumed download: the range only while the ETag still matches.
	resp, body = get(map[string]string{"Range": "bytes=10-19", "If-Range": etag})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[10:20]) {
		t.Fatalf("If-Range GET = %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, body = get(map[string]string{"Range": "bytes=10-19", "If-Range": `"stale"`})
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("If-Range (stale) GET = %d, %d bytes; want the whole object", resp.StatusCode, len(body))
	}
}

// genReader yields n pattern bytes without holding them: the test's own
// memory stays small, so the allocation count measures the backend.
type genReader struct {
	n, off int64
	after  func(off int64) // called after each Read, may be nil
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.n-g.off)]
	for i := range p {
		j := g.off + int64(i)
		p[i] = byte(j*7 + j/251) // #nosec G115 -- a test pattern: the truncation to a byte is the point
	}
	g.off += int64(len(p))
	if g.after != nil {
		g.after(g.off)
	}
	return len(p), nil
}

// largeBytes is the large object: bigger than any backend's buffers
// (S3: 1 MiB read-ahead + an 8 MiB part) several times over.
const largeBytes = 40 << 20

func testLarge(t *testing.T, s blob.Store) {
	ctx := context.Background()
	want := sha256.New()
	if _, err := io.Copy(want, &genReader{n: largeBytes}); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := s.Put(ctx, "large", &genReader{n: largeBytes})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != largeBytes {
		t.Fatalf("Size = %d", info.Size)
	}
	// Streaming, not buffering: what Put allocated is bounded by its
	// buffers, far below the object's size. (A count of work, not a
	// timing: TotalAlloc only grows.)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > largeBytes/2 {
		t.Fatalf("Put of %d MiB allocated %d MiB: the object was buffered", largeBytes>>20, alloc>>20)
	} else {
		t.Logf("Put of %d MiB allocated %.1f MiB", largeBytes>>20, float64(alloc)/(1<<20))
	}
	f, _, err := s.Open(ctx, "large")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := sha256.New()
	runtime.ReadMemStats(&before)
	n, err := io.Copy(got, f)
	runtime.ReadMemStats(&after)
	if err != nil || n != largeBytes || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes, %v; hash equal %v", n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > largeBytes/2 {
		t.Fatalf("reading %d MiB allocated %d MiB: the object was buffered", largeBytes>>20, alloc>>20)
	}
}

func testCancel(t *testing.T, s blob.Store) {
	put(t, s, "kept", "old value")
	// Cancel once well into the upload: past S3's read-ahead and first
	// part, so a multipart upload is under way.
	for _, key := range []string{"new", "kept"} {
		ctx, cancel := context.WithCancel(context.Background())
		r := &genReader{n: largeBytes, after: func(off int64) {
			if off >= 12<<20 {
				cancel()
			}
		}}
		_, err := s.Put(ctx, key, r)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put(%q) cancelled = %v, want context.Canceled", key, err)
		}
		if r.off >= largeBytes {
			t.Fatalf("Put(%q) read the whole source after cancellation", key)
		}
	}
	_, err := s.Stat(context.Background(), "new")
	wantCode(t, err, bindery.ENOTFOUND)
	if got := read(t, s, "kept"); got != "old value" {
		t.Fatalf("a cancelled overwrite changed the object: %q", got)
	}
	if ks := keys(t, s, ""); !slices.Equal(ks, []string{"kept"}) {
		t.Fatalf("List = %q", ks)
	}
	// An already-cancelled context stores nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, "never", strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put(cancelled ctx) = %v", err)
	}
	_, err = s.Stat(context.Background(), "never")
	wantCode(t, err, bindery.ENOTFOUND)
}

// errSource is a caller's reader failing, e.g. a body over its limit.
var errSource = errors.New("source failed")

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errSource
	}
	p = p[:min(len(p), f.n)]
	clear(p)
	f.n -= len(p)
	return len(p), nil
}

func testReaderError(t *testing.T, s blob.Store) {
	for _, n := range []int{0, 100, 10 << 20} {
		_, err := s.Put(context.Background(), "x", &failingReader{n: n})
		if !errors.Is(err, errSource) {
			t.Fatalf("Put with a failing reader (after %d bytes) = %v, want the reader's error", n, err)
		}
		_, err = s.PutContent(context.Background(), "c/", &failingReader{n: n})
		if !errors.Is(err, errSource) {
			t.Fatalf("PutContent with a failing reader (after %d bytes) = %v, want the reader's error", n, err)
		}
	}
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Fatalf("failed uploads left %q", ks)
	}
}

// testConcurrent races writers of one key, with readers, and checks that
// every read and the final value are one writer's whole value.
func testConcurrent(t *testing.T, s blob.Store) {
	const writers = 6
	values := make([][]byte, writers)
	for i := range values {
		// Over 1 MiB, so S3 takes the multipart path.
		values[i] = bytes.Repeat([]byte{byte('A' + i)}, 1<<20+100*i)
	}
	isValue := func(b []byte) bool {
		return slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(v, b) })
	}
	ctx := context.Background()
	put(t, s, "same", string(values[0]))
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	for i := range writers {
		wg.Go(func() {
			if _, err := s.Put(ctx, "same", bytes.NewReader(values[i])); err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
		})
		wg.Go(func() {
			f, _, err := s.Open(ctx, "same")
			if err != nil {
				errs <- fmt.Errorf("reader %d: %w", i, err)
				return
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			// A read may fail when the object changes under it (S3 pins
			// the ETag); it must never return a mix.
			if err == nil && !isValue(b) {
				errs <- fmt.Errorf("reader %d read %d bytes that are no writer's whole value", i, len(b))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := io.ReadAll(must(s.Open(ctx, "same")))
	if err != nil || !isValue(got) {
		t.Fatalf("final value: %d bytes, %v; not one writer's whole value", len(got), err)
	}
	if ks := keys(t, s, ""); !slices.Equal(ks, []string{"same"}) {
		t.Fatalf("List = %q", ks)
	}
}

func must(f blob.Object, _ blob.Info, err error) io.Reader {
	if err != nil {
		panic(err)
	}
	return f
}

func testPutContent(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, n := range []int{0, 10, 2<<20 + 5} {
		data := pattern(n)
		sum := sha256.Sum256(data)
		want := "content/" + hex.EncodeToString(sum[:])
		info, err := s.PutContent(ctx, "content/", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if info.Key != want || info.Size != int64(n) || info.Modified.IsZero() || info.ETag == "" {
			t.Fatalf("PutContent = %+v, want key %s size %d", info, want, n)
		}
		if got := read(t, s, want); got != string(data) {
			t.Fatalf("content of %s differs", want)
		}
		// The same bytes again: the same key, still whole.
		again, err := s.PutContent(ctx, "content/", bytes.NewReader(data))
		if err != nil || again.Key != want || again.Size != int64(n) {
			t.Fatalf("PutContent again = %+v, %v", again, err)
		}
		if got := read(t, s, want); got != string(data) {
			t.Fatalf("content of %s differs after the second upload", want)
		}
	}
	// The root prefix too; and no temporary object is ever listed.
	info, err := s.PutContent(ctx, "", strings.NewReader("root"))
	if err != nil || len(info.Key) != 64 {
		t.Fatalf("PutContent(\"\") = %+v, %v", info, err)
	}
	if ks := keys(t, s, ""); len(ks) != 4 {
		t.Fatalf("List = %q, want the 4 content keys", ks)
	}
}

func testPutContentCancel(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &genReader{n: largeBytes, after: func(off int64) {
		if off >= 12<<20 {
			cancel()
		}
	}}
	_, err := s.PutContent(ctx, "content/", r)
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("PutContent cancelled = %v", err)
	}
	if ks := keys(t, s, ""); len(ks) != 0 {
		t.Fatalf("a cancelled PutContent left %q", ks)
	}
}
