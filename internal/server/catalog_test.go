package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
)

// TestPublishAndCatalog: an author's run with publish=true ends in the
// catalog and the OPDS feed, with downloads; the quality gate holds.
func TestPublishAndCatalog(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_PUBLIC_CATALOG": "true"})
	author := h.session(bindery.RoleAuthor)
	// A hostile title must come out as text.
	h.do(req{method: "PATCH", path: fmt.Sprintf("/api/v1/books/%d", h.shared.ID), cookie: author,
		body: `{"title":"Tides <script>alert(1)</script>","description":"A book & a <b>test</b>"}`})
	r, body := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/runs", h.shared.ID), cookie: author, body: `{"formats":["epub","pdf"],"publish":true}`})
	if r.StatusCode != 201 {
		t.Fatalf("start: %d %s", r.StatusCode, body)
	}
	var run struct {
		ID    int64
		State string
		Error string
	}
	json.Unmarshal([]byte(body), &run)
	deadline := time.Now().Add(60 * time.Second)
	for run.State != bindery.RunSucceeded {
		if run.State == bindery.RunFailed || time.Now().After(deadline) {
			t.Fatalf("run: %+v", run)
		}
		time.Sleep(20 * time.Millisecond) // polling the API with a deadline
		_, body = h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/runs/%d", run.ID), cookie: author})
		json.Unmarshal([]byte(body), &run)
	}
	// The catalog is public here: no cookie.
	r, page := h.do(req{method: "GET", path: "/catalog"})
	if r.StatusCode != 200 || !strings.Contains(page, "Tides &lt;script&gt;") || strings.Contains(page, "<script>alert") {
		t.Fatalf("catalog: %d\n%s", r.StatusCode, page)
	}
	assertInert(t, page)
	r, feed := h.do(req{method: "GET", path: "/opds"})
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/atom+xml;profile=opds-catalog") {
		t.Fatalf("opds: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var parsed struct {
		Entries []struct {
			Title string `xml:"title"`
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
				Type string `xml:"type,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(feed), &parsed); err != nil || len(parsed.Entries) != 1 {
		t.Fatalf("opds feed: %v\n%s", err, feed)
	}
	var epub string
	for _, l := range parsed.Entries[0].Links {
		if l.Rel == "http://opds-spec.org/acquisition" && l.Type == "application/epub+zip" {
			epub = l.Href
		}
	}
	if epub == "" || parsed.Entries[0].Title != "Tides <script>alert(1)</script>" {
		t.Fatalf("opds entry: %+v", parsed.Entries[0])
	}
	r, data := h.do(req{method: "GET", path: strings.TrimPrefix(epub, h.srv.URL)})
	if r.StatusCode != 200 || !strings.HasPrefix(data, "PK") || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("download %s: %d", epub, r.StatusCode)
	}
	for _, bad := range []string{"..%2Fbindery.db", ".tmp", "nope.epub"} {
		if r, _ := h.do(req{method: "GET", path: fmt.Sprintf("/catalog/%d/%s", h.shared.ID, bad)}); r.StatusCode != 404 {
			t.Errorf("catalog file %s: %d", bad, r.StatusCode)
		}
	}
}

func TestQualityGate(t *testing.T) {
	h := newHarness(t, nil)
	run := h.newRun(bindery.RunFailed) // quality never passed
	r, body := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/publish", h.shared.ID), cookie: h.session(bindery.RoleAuthor),
		body: fmt.Sprintf(`{"run_id":%d}`, run.ID)})
	if r.StatusCode != 409 || !strings.Contains(body, "quality") {
		t.Fatalf("publishing a run without a passed quality stage: %d %s", r.StatusCode, body)
	}
	// A run of another book cannot be published as this one.
	other := h.newBook(bindery.RoleAuthor)
	r, _ = h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/publish", other.ID), cookie: h.session(bindery.RoleAuthor),
		body: fmt.Sprintf(`{"run_id":%d}`, h.passedRun().ID)})
	if r.StatusCode != 404 {
		t.Fatalf("cross-book publish: %d", r.StatusCode)
	}
	// Catalog is sign-in only by default.
	if r, _ := h.do(req{method: "GET", path: "/opds"}); r.StatusCode != 401 {
		t.Fatalf("private opds: %d", r.StatusCode)
	}
}

// TestOPDSForReadingApps: a reading app signs in to the feed and the
// catalog downloads with HTTP Basic and an API token as the password —
// there and nowhere else — and is told how by WWW-Authenticate. An empty
// feed is dated now, not 1970.
func TestOPDSForReadingApps(t *testing.T) {
	h := newHarness(t, nil)
	u := h.users[bindery.RoleAuthor]
	secret, _, err := h.auth.CreateAPIToken(t.Context(), u, u, "reader app", 0, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	basic := func(user, pass string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}

	r, _ := h.do(req{method: "GET", path: "/opds"})
	if r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") != `Basic realm="Bindery", charset="UTF-8"` {
		t.Errorf("anonymous /opds: %d, WWW-Authenticate %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	r, feed := h.do(req{method: "GET", path: "/opds", header: basic("author@example.com", secret)})
	if r.StatusCode != 200 {
		t.Fatalf("/opds with an API token over Basic: %d %s", r.StatusCode, feed)
	}
	if want := "<updated>" + h.clock.Now().UTC().Format(time.RFC3339) + "</updated>"; !strings.Contains(feed, want) {
		t.Errorf("empty feed is not dated now (%s):\n%s", want, feed)
	}
	if r, _ := h.do(req{method: "GET", path: fmt.Sprintf("/catalog/%d/book.epub", h.shared.ID), header: basic("x", secret)}); r.StatusCode != 404 {
		t.Errorf("catalog download with Basic: %d, want 404 (signed in; nothing published)", r.StatusCode)
	}
	for _, tc := range []struct {
		name, path string
		header     map[string]string
		status     int
	}{
		{"the account's password", "/opds", basic("author@example.com", strongPassword), 401},
		{"a session token", "/opds", basic("author@example.com", h.session(bindery.RoleAuthor)), 401},
		{"a wrong token", "/opds", basic("author@example.com", secret+"x"), 401},
		{"the API, with Basic", "/api/v1/me", basic("author@example.com", secret), 401},
		{"the books, with Basic", "/api/v1/books", basic("author@example.com", secret), 401},
	} {
		r, _ := h.do(req{method: "GET", path: tc.path, header: tc.header})
		if r.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.status)
		}
		if tc.path != "/opds" && r.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: a Basic challenge outside the reading-app routes", tc.name)
		}
	}
}

// TestPublicCatalogPrivateWhenSignedIn: with a public catalog, what an
// anonymous visitor gets may be cached, but the same routes answered to
// a signed-in caller are private, no-store like every authenticated
// response.
func TestPublicCatalogPrivateWhenSignedIn(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_PUBLIC_CATALOG": "true"})
	if _, err := h.cat.Publish(context.Background(), h.passedRun().ID, h.users[bindery.RoleAuthor].ID); err != nil {
		t.Fatal(err)
	}
	cookie := h.session(bindery.RoleViewer)
	for _, path := range []string{"/catalog", "/opds", fmt.Sprintf("/catalog/%d/book.epub", h.shared.ID)} {
		r, _ := h.do(req{method: "GET", path: path, cookie: cookie})
		if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("%s signed in: %d %q", path, r.StatusCode, r.Header.Get("Cache-Control"))
		}
		r, _ = h.do(req{method: "GET", path: path})
		if r.StatusCode != 200 || strings.Contains(r.Header.Get("Cache-Control"), "private") {
			t.Errorf("%s anonymous: %d %q", path, r.StatusCode, r.Header.Get("Cache-Control"))
		}
	}
}

// TestDraftRunsAreNotPublished: a draft run cannot ask to publish (400),
// and once built it cannot be published afterwards (409).
func TestDraftRunsAreNotPublished(t *testing.T) {
	h := newHarness(t, nil)
	author := h.session(bindery.RoleAuthor)
	runs := fmt.Sprintf("/api/v1/books/%d/runs", h.shared.ID)
	if r, body := h.do(req{method: "POST", path: runs, cookie: author, body: `{"formats":["epub"],"draft":true,"publish":true}`}); r.StatusCode != 400 || !strings.Contains(body, "draft") {
		t.Errorf("a draft run that publishes: %d %s", r.StatusCode, body)
	}
	r, body := h.do(req{method: "POST", path: runs, cookie: author, body: `{"formats":["epub"],"draft":true}`})
	if r.StatusCode != 201 {
		t.Fatalf("draft run: %d %s", r.StatusCode, body)
	}
	var run struct {
		ID    int64
		State string
		Draft bool
	}
	json.Unmarshal([]byte(body), &run)
	if !run.Draft {
		t.Errorf("the run does not say it is a draft: %s", body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for run.State != bindery.RunSucceeded {
		if run.State == bindery.RunFailed || time.Now().After(deadline) {
			t.Fatalf("run: %+v", run)
		}
		time.Sleep(20 * time.Millisecond) // polling the API with a deadline
		_, body = h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/runs/%d", run.ID), cookie: author})
		json.Unmarshal([]byte(body), &run)
	}
	r, body = h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/publish", h.shared.ID), cookie: author, body: fmt.Sprintf(`{"run_id":%d}`, run.ID)})
	if r.StatusCode != 409 || !strings.Contains(body, "draft") {
		t.Errorf("publishing a draft run: %d %s, want 409 naming the draft", r.StatusCode, body)
	}
}

// TestWebPCoverInTheCatalog: a cover in any image type a book folder
// takes (here WebP) is copied into the edition, linked from the OPDS
// feed with its type, and served inline with that type.
func TestWebPCoverInTheCatalog(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_PUBLIC_CATALOG": "true"})
	img, err := os.ReadFile(filepath.Join("..", "bookfs", "testdata", "webp", "lossy.webp"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.books.Put(context.Background(), h.shared.ID, "assets/images/cover.webp", bytes.NewReader(img)); err != nil {
		t.Fatal(err)
	}
	author := h.session(bindery.RoleAuthor)
	if r, body := h.do(req{method: "PATCH", path: fmt.Sprintf("/api/v1/books/%d", h.shared.ID), cookie: author,
		body: `{"cover":"assets/images/cover.webp"}`}); r.StatusCode != 200 {
		t.Fatalf("setting the cover: %d %s", r.StatusCode, body)
	}
	run := h.passedRun()
	if r, body := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/publish", h.shared.ID), cookie: author,
		body: fmt.Sprintf(`{"run_id":%d}`, run.ID)}); r.StatusCode != 200 || !strings.Contains(body, "cover.webp") {
		t.Fatalf("publish: %d %s", r.StatusCode, body)
	}
	if _, feed := h.do(req{method: "GET", path: "/opds"}); !strings.Contains(feed, `type="image/webp"`) {
		t.Errorf("the OPDS feed does not link the WebP cover:\n%s", feed)
	}
	r, data := h.do(req{method: "GET", path: fmt.Sprintf("/catalog/%d/cover.webp", h.shared.ID)})
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/webp" || data != string(img) || r.Header.Get("Content-Disposition") != "" {
		t.Errorf("cover: %d %q %q (%d bytes)", r.StatusCode, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"), len(data))
	}
}
