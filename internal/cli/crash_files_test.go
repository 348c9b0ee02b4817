package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/secretbox"
)

// slowUpload streams size bytes of a chapter to PUT path in small chunks,
// so that a kill lands in the middle of the body. It reports the status,
// or 0 when the connection broke.
func slowUpload(c *client, path string, size int) int { return slowUploadAbort(c, path, size, 0) }

// slowUploadAbort is slowUpload where the client gives up after abortAfter
// bytes (0: never).
func slowUploadAbort(c *client, path string, size, abortAfter int) int {
	pr, pw := io.Pipe()
	go func() {
		// 64 KiB paragraphs: a chapter's paragraph has at most 512 KiB.
		chunk := []byte(strings.Repeat("All work and no play. ", 2979)[:64<<10-2] + "\n\n")
		for sent := 0; sent < size; sent += len(chunk) {
			if abortAfter > 0 && sent >= abortAfter {
				pw.CloseWithError(errors.New("the client gave up"))
				return
			}
			if _, err := pw.Write(chunk[:min(len(chunk), size-sent)]); err != nil {
				return
			}
			time.Sleep(2 * time.Millisecond) // pacing the body, not synchronising
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("PUT", c.base+path, pr)
	req.ContentLength = int64(size)
	resp, err := c.http.Do(req)
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestSIGKILLDuringUploadsAndDeletions: a real server is killed at seeded
// random moments while books are being uploaded to and deleted; after the
// restart, and at the end, the data folder is what the database describes:
// one folder per book row and no other, no temporary upload file, no
// trash of an interrupted deletion, no folder an interrupted upload made,
// every file an upload confirmed still there, and every deletion
// confirmed gone for good.
func TestSIGKILLDuringUploadsAndDeletions(t *testing.T) {
	key := secretbox.GenerateKey()
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": key}
	rng := crashRand(t, 2)
	p := start(t, env)
	c := setUp(t, p)

	var mu sync.Mutex
	confirmed := map[int64][]string{} // book → files whose upload answered 201
	deleted := map[int64]bool{}       // books whose deletion answered 204
	newBook := func() int64 {
		code, body := c.call("POST", "/api/v1/books", "application/json", strings.NewReader(`{"title":"Crash"}`))
		if code != 201 {
			t.Fatalf("create book: %d %s", code, body)
		}
		var b struct{ ID int64 }
		json.Unmarshal(body, &b)
		// SQLite may give a deleted book's id to a new one.
		mu.Lock()
		delete(deleted, b.ID)
		delete(confirmed, b.ID)
		mu.Unlock()
		return b.ID
	}
	const rounds = 5
	for round := range rounds {
		var wg sync.WaitGroup
		ids := []int64{newBook(), newBook(), newBook()} // all before any deletion of the round
		for i, id := range ids {
			size := (1 + rng.IntN(6)) << 20
			name := fmt.Sprintf("chapters/part-%d/%02d-long.md", round, i)
			wg.Go(func() {
				if slowUpload(c, fmt.Sprintf("/api/v1/books/%d/files/%s", id, name), size) == 201 {
					mu.Lock()
					confirmed[id] = append(confirmed[id], name)
					mu.Unlock()
				}
			})
			if rng.IntN(2) == 0 {
				delay := time.Duration(rng.IntN(200)) * time.Millisecond
				wg.Go(func() {
					time.Sleep(delay) // a random moment
					req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/api/v1/books/%d", c.base, id), nil)
					if resp, err := c.http.Do(req); err == nil {
						resp.Body.Close()
						if resp.StatusCode == 204 {
							mu.Lock()
							deleted[id] = true
							mu.Unlock()
						}
					}
				})
			}
		}
		time.Sleep(time.Duration(50+rng.IntN(500)) * time.Millisecond) // the kill's random moment
		kill9(t, p)
		wg.Wait()
		p = start(t, env)
		c.base = "http://" + p.expect(t, listening)[2]
		checkFolderMatchesDatabase(t, data, key, confirmed, deleted, p)
		t.Logf("round %d: %d books confirmed with files, %d deleted", round, len(confirmed), len(deleted))
	}
}

// checkFolderMatchesDatabase compares the books folder of a running
// server's data folder with its database (read while the server runs:
// SQLite's WAL lets another reader in).
func checkFolderMatchesDatabase(t *testing.T, data, key string, confirmed map[int64][]string, deleted map[int64]bool, p *proc) {
	t.Helper()
	ctx := context.Background()
	db := openData(t, data, key)
	defer db.Close()
	books, err := db.ListBooks(ctx, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[int64]bool{}
	for _, b := range books {
		rows[b.ID] = true
	}
	root := filepath.Join(data, "books")
	entries, _ := os.ReadDir(root)
	folders := map[int64]bool{}
	for _, e := range entries {
		id, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			t.Errorf("books/%s: not a book folder (leftover)", e.Name())
			continue
		}
		folders[id] = true
		if !rows[id] {
			t.Errorf("books/%d has no book row", id)
		}
	}
	for id := range rows {
		if !folders[id] {
			t.Errorf("book %d has no folder", id)
		}
		if deleted[id] {
			t.Errorf("book %d was deleted (204) but is still a row", id)
		}
	}
	layout := map[string]bool{"chapters": true, "assets": true, "assets/images": true}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if strings.HasPrefix(d.Name(), ".") {
			t.Errorf("hidden leftover books/%s", rel)
		}
		if d.IsDir() {
			inBook := strings.SplitN(filepath.ToSlash(rel), "/", 2)
			if len(inBook) == 2 && !layout[inBook[1]] {
				if sub, _ := os.ReadDir(path); len(sub) == 0 {
					t.Errorf("empty folder books/%s", rel)
				}
			}
		}
		return nil
	})
	for id, names := range confirmed {
		if !rows[id] {
			continue // deleted since (or the deletion was under way)
		}
		for _, name := range names {
			if fi, err := os.Stat(filepath.Join(root, strconv.FormatInt(id, 10), name)); err != nil || fi.Size() == 0 {
				t.Errorf("book %d lost confirmed file %s: %v", id, name, err)
			}
		}
	}
	if t.Failed() {
		t.Fatalf("server log:\n%s", p.stderr)
	}
}

// waitForTemp waits until an upload's temporary file exists in the book
// folder: the server is receiving its body.
func waitForTemp(t *testing.T, bookDir string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		found := false
		filepath.WalkDir(bookDir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".upload-") {
				found = true
			}
			return nil
		})
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the upload never started")
		}
		time.Sleep(2 * time.Millisecond) // polling the folder, with a deadline
	}
}

// TestSIGTERMLetsUploadsFinish: an upload in flight when the server gets
// SIGTERM completes (201, the whole file stored) within the shutdown
// grace, and the server then exits cleanly.
func TestSIGTERMLetsUploadsFinish(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": secretbox.GenerateKey()})
	c := setUp(t, p)
	code, body := c.call("POST", "/api/v1/books", "application/json", strings.NewReader(`{"title":"Grace"}`))
	if code != 201 {
		t.Fatalf("create book: %d %s", code, body)
	}
	var b struct{ ID int64 }
	json.Unmarshal(body, &b)
	const size = 3 << 20
	status := make(chan int, 1)
	go func() { status <- slowUpload(c, fmt.Sprintf("/api/v1/books/%d/files/chapters/01-long.md", b.ID), size) }()
	waitForTemp(t, filepath.Join(data, "books", strconv.FormatInt(b.ID, 10)))
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := <-status; got != 201 {
		t.Fatalf("upload in flight at SIGTERM: %d\n%s", got, p.stderr)
	}
	if err := <-p.done; err != nil {
		t.Fatalf("exit: %v\n%s", err, p.stderr)
	}
	p.done <- nil
	if fi, err := os.Stat(filepath.Join(data, "books", strconv.FormatInt(b.ID, 10), "chapters", "01-long.md")); err != nil || fi.Size() != size {
		t.Fatalf("stored file: %v, %v", fi, err)
	}
}

// TestClientAbortIsLoggedAsAbort: a client that drops an upload mid-body
// is logged at info as an abort, not as an internal error, and leaves
// nothing stored.
func TestClientAbortIsLoggedAsAbort(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := start(t, map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": data, "ENCRYPTION_KEY": secretbox.GenerateKey()})
	c := setUp(t, p)
	code, body := c.call("POST", "/api/v1/books", "application/json", strings.NewReader(`{"title":"Abort"}`))
	if code != 201 {
		t.Fatalf("create book: %d %s", code, body)
	}
	var b struct{ ID int64 }
	json.Unmarshal(body, &b)
	if got := slowUploadAbort(c, fmt.Sprintf("/api/v1/books/%d/files/chapters/01-long.md", b.ID), 3<<20, 1<<20); got != 0 {
		t.Fatalf("an aborted upload answered %d", got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), "upload aborted by the client") {
		if time.Now().After(deadline) {
			t.Fatalf("no abort logged:\n%s", p.stderr)
		}
		time.Sleep(5 * time.Millisecond) // polling the log, with a deadline
	}
	log := p.stderr.String()
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "upload aborted") && !strings.Contains(strings.ToLower(line), "info") {
			t.Errorf("abort not logged at info: %s", line)
		}
	}
	if strings.Contains(log, "internal error") {
		t.Fatalf("an abort was logged as an internal error:\n%s", log)
	}
	entries, _ := os.ReadDir(filepath.Join(data, "books", strconv.FormatInt(b.ID, 10), "chapters"))
	if len(entries) != 0 {
		t.Fatalf("an aborted upload left %v", entries)
	}
}
