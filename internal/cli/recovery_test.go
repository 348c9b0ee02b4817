package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/testkit"
)

// client is a signed-in HTTP client of a running server.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (c *client) call(method, path, contentType string, body io.Reader) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// setUp completes the first-admin set-up of a fresh server.
func setUp(t *testing.T, p *proc) *client {
	t.Helper()
	base := "http://" + p.expect(t, listening)[2]
	tok := p.expect(t, setupLink)[2]
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, http: &http.Client{Jar: jar}}
	code, body := c.call("POST", "/api/v1/setup", "application/json",
		strings.NewReader(fmt.Sprintf(`{"token":%q,"email":"admin@example.com","password":"correct horse battery staple"}`, tok)))
	if code != 201 {
		t.Fatalf("setup: %d %s", code, body)
	}
	return c
}

// uploadBook creates a book and uploads the folder dir into it.
func uploadBook(c *client, dir string) int64 {
	c.t.Helper()
	code, body := c.call("POST", "/api/v1/books", "application/json", strings.NewReader(`{"title":"Upload"}`))
	if code != 201 {
		c.t.Fatalf("create book: %d %s", code, body)
	}
	var b struct{ ID int64 }
	json.Unmarshal(body, &b)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if _, err := bookfs.KindOf(filepath.ToSlash(rel)); err != nil || rel == "README.md" {
			return nil // only what a book upload accepts
		}
		w, _ := mw.CreateFormFile("file", filepath.ToSlash(rel))
		data, _ := os.ReadFile(p)
		w.Write(data)
		return nil
	})
	mw.Close()
	code, body = c.call("POST", fmt.Sprintf("/api/v1/books/%d/files", b.ID), mw.FormDataContentType(), &buf)
	if code != 201 {
		c.t.Fatalf("upload: %d %s", code, body)
	}
	return b.ID
}

type runState struct {
	ID        int64
	State     string
	Error     string
	Artifacts []string
	Stages    []struct{ Name, State string }
}

func (c *client) run(id int64) runState {
	c.t.Helper()
	_, body := c.call("GET", fmt.Sprintf("/api/v1/runs/%d", id), "", nil)
	var r runState
	json.Unmarshal(body, &r)
	return r
}

// TestSIGKILLMidRunLosesNothing: a server killed with SIGKILL while a run
// is formatting comes back, resumes the run from its last finished stage
// and finishes it; the run is never left "running" and no half-written
// artifact remains.
func TestSIGKILLMidRunLosesNothing(t *testing.T) {
	corpus := testkit.Corpus(t)
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"WEBSOCKET_PORT": "0", "BINDERY_DATA_DIR": data}
	p := start(t, env)
	c := setUp(t, p)
	book := uploadBook(c, corpus)
	code, body := c.call("POST", fmt.Sprintf("/api/v1/books/%d/runs", book), "application/json", strings.NewReader(`{"formats":["epub","html","pdf"]}`))
	if code != 201 {
		t.Fatalf("start run: %d %s", code, body)
	}
	var started runState
	json.Unmarshal(body, &started)

	// Wait for the format stage, then kill the server without warning.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := c.run(started.ID)
		if len(r.Stages) == 5 && r.Stages[2].State == "running" {
			break
		}
		if r.State == "succeeded" || r.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("never caught the run formatting: %+v", r)
		}
		time.Sleep(5 * time.Millisecond) // polling the API with a deadline
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p.done <- nil

	// Restart on the same data folder: the run resumes and completes.
	p2 := start(t, env)
	c.base = "http://" + p2.expect(t, listening)[2]
	deadline = time.Now().Add(120 * time.Second)
	var r runState
	for {
		r = c.run(started.ID)
		if r.State == "succeeded" || r.State == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run stuck after restart: %+v\nstderr:\n%s", r, p2.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.State != "succeeded" {
		t.Fatalf("resumed run: %+v", r)
	}
	if r.Stages[0].State != "succeeded" || len(r.Artifacts) != 3 {
		t.Fatalf("resumed run: %+v", r)
	}
	entries, _ := os.ReadDir(filepath.Join(data, "artifacts", fmt.Sprint(started.ID)))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("half-written artifact left: %s", e.Name())
		}
	}
	code, pdf := c.call("GET", fmt.Sprintf("/api/v1/runs/%d/artifacts/frankenstein.pdf", started.ID), "", nil)
	if code != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[len(pdf)-64:], []byte("%%EOF")) {
		t.Fatalf("PDF after recovery: %d, %d bytes", code, len(pdf))
	}
}

// TestIntegrationsShowVersionsNeverKeys: the admin view names the active
// Ideogram key version; no response carries a key.
func TestIntegrationsShowVersionsNeverKeys(t *testing.T) {
	p := start(t, map[string]string{
		"WEBSOCKET_PORT": "0", "IDEOGRAM_API_KEY_V1": "ideo-old-key-value-1", "IDEOGRAM_API_KEY_V2": "ideo-new-key-value-2",
		"IDEOGRAM_API_KEY_CURRENT_VERSION": "v2",
	})
	c := setUp(t, p)
	code, body := c.call("GET", "/api/v1/integrations", "", nil)
	if code != 200 || !strings.Contains(string(body), `"version":"v2"`) || !strings.Contains(string(body), `"versions":["v1","v2"]`) {
		t.Fatalf("integrations: %d %s", code, body)
	}
	if strings.Contains(string(body), "ideo-") || strings.Contains(p.stderr.String(), "ideo-") {
		t.Fatalf("a key leaked: %s\n%s", body, p.stderr)
	}
}
