package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/testkit"
)

// TestTurningSharedStorageOn: a single server (SQLite, files in its data
// folder) builds and publishes a book; restarted with BINDERY_S3_…, it
// moves the book, the edition and the artifacts to the bucket at start-up
// (so that other nodes would find them) and serves them from there, byte
// for byte as before.
func TestTurningSharedStorageOn(t *testing.T) {
	s3 := testkit.S3Config(t)
	srv := startServer(t, nil)
	token := srv.SetupURL[strings.Index(srv.SetupURL, "#token=")+len("#token="):]
	setup := &apiSession{t: t, base: srv.URL}
	setup.call("POST", "/api/v1/setup", map[string]string{"token": token, "email": "admin@example.com", "password": "correct horse battery staple"}, http.StatusCreated)
	api := apiSignIn(t, srv.URL, "admin@example.com", "correct horse battery staple")

	zip := testkit.ZipDir(t, "../../examples/lighthouse", "lighthouse/", nil)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/books/import", bytes.NewReader(zip))
	req.Header.Set("Content-Type", "application/zip")
	req.AddCookie(api.cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("import: %s", res.Status)
	}
	run := api.call("POST", "/api/v1/books/1/runs", map[string]any{"formats": []string{"epub"}, "publish": true}, http.StatusCreated)
	runID := int(run["id"].(float64))
	deadline := time.Now().Add(120 * time.Second)
	for {
		r := api.call("GET", fmt.Sprintf("/api/v1/runs/%d", runID), nil, http.StatusOK)
		if r["state"] == "succeeded" {
			break
		}
		if r["state"] == "failed" || time.Now().After(deadline) {
			t.Fatalf("run: %v", r)
		}
		time.Sleep(100 * time.Millisecond) // polling the server with a deadline
	}
	pub := api.call("GET", "/api/v1/books/1", nil, http.StatusOK)["published"].(map[string]any)
	var epub string
	for _, f := range pub["files"].([]any) {
		if strings.HasSuffix(f.(string), ".epub") {
			epub = f.(string)
		}
	}
	get := func(path string) []byte {
		t.Helper()
		res := api.do("GET", path, nil)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, res.Status, b)
		}
		return b
	}
	edition := get("/catalog/1/" + epub)
	artifact := get(fmt.Sprintf("/api/v1/runs/%d/artifacts/%s", runID, epub))
	chapter := get("/api/v1/books/1/files/chapters/01-the-lamp.md")

	srv.env = testkit.S3Env(s3)
	srv.Restart()
	bucket, err := blob.NewS3(context.Background(), s3)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{blob.EditionKey(1, int64(runID), epub), blob.RunKey(int64(runID), epub)} {
		if _, err := bucket.Stat(context.Background(), key); err != nil {
			t.Fatalf("%s is not in the bucket after the restart: %v", key, err)
		}
	}
	books := 0
	for _, err := range bucket.List(context.Background(), "books/1/files/") {
		if err != nil {
			t.Fatal(err)
		}
		books++
	}
	if books < 5 {
		t.Fatalf("the bucket holds %d versions of the book's files", books)
	}
	if got := get("/catalog/1/" + epub); !bytes.Equal(got, edition) {
		t.Fatal("the edition served from the bucket differs")
	}
	if got := get(fmt.Sprintf("/api/v1/runs/%d/artifacts/%s", runID, epub)); !bytes.Equal(got, artifact) {
		t.Fatal("the artifact differs")
	}
	if got := get("/api/v1/books/1/files/chapters/01-the-lamp.md"); !bytes.Equal(got, chapter) {
		t.Fatal("the chapter differs")
	}
}
