package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"golang.org/x/net/html"
)

// TestStrangersGet404OnEveryBookRoute: a user who neither owns nor is a
// member of a book learns nothing about it — not by id, not by file path,
// not through previews — whatever their role, and whatever they try.
func TestStrangersGet404OnEveryBookRoute(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	private := h.newBook(bindery.RoleAuthor) // no members
	other, err := h.auth.CreateUser(ctx, nil, "other.author@example.com", bindery.RoleAuthor, strongPassword, authClient)
	if err != nil {
		t.Fatal(err)
	}
	_, otherTok, _ := h.auth.Login(ctx, other.Email, strongPassword, "", authClient, "")
	strangers := map[string]string{
		"another author": otherTok,
		"an editor":      h.session(bindery.RoleEditor),
		"a viewer":       h.session(bindery.RoleViewer),
	}
	for _, id := range []string{fmt.Sprint(private.ID), "999999", "0", "-1", "abc", "1e3"} {
		base := "/api/v1/books/" + id
		routes := []req{
			{method: "GET", path: base},
			{method: "PATCH", path: base, body: `{"title":"Mine now"}`},
			{method: "DELETE", path: base},
			{method: "PUT", path: base + fmt.Sprintf("/members/%d", other.ID)},
			{method: "DELETE", path: base + fmt.Sprintf("/members/%d", other.ID)},
			{method: "POST", path: base + "/invitations", body: `{"email":"x@example.com"}`},
			{method: "GET", path: base + "/invitations"},
			{method: "DELETE", path: base + "/invitations/1"},
			{method: "GET", path: base + "/files"},
			{method: "POST", path: base + "/files", body: multipartBody("x.md", "x"), contentType: multipartType},
			{method: "PUT", path: base + "/files/chapters/x.md", body: "x", contentType: "text/markdown"},
			{method: "GET", path: base + "/files/metadata.yaml"},
			{method: "GET", path: base + "/files/chapters/01-one.md"},
			{method: "GET", path: base + "/files/..%2F..%2F..%2Fetc%2Fpasswd"},
			{method: "GET", path: base + "/files/chapters%2F..%2F..%2F1%2Fmetadata.yaml"},
			{method: "DELETE", path: base + "/files/chapters/01-one.md"},
			{method: "GET", path: base + "/preview/01-one.md"},
			{method: "GET", path: base + "/preview/01-one"},
		}
		for who, tok := range strangers {
			for _, r := range routes {
				r.cookie = tok
				resp, body := h.do(r)
				if resp.StatusCode != 404 {
					t.Errorf("%s: %s %s = %d, want 404 (%s)", who, r.method, r.path, resp.StatusCode, body)
				}
				if strings.Contains(body, "Shared") || strings.Contains(body, "first chapter") {
					t.Errorf("%s: %s %s leaks content: %s", who, r.method, r.path, body)
				}
			}
		}
	}
	// Nothing changed.
	if b, _ := h.store.BookByID(ctx, private.ID); b.Title != "Shared" {
		t.Fatalf("a stranger renamed the book: %q", b.Title)
	}
	if files, _ := h.books.List(private.ID); len(files) != 2 {
		t.Fatalf("a stranger changed the files: %+v", files)
	}
	// The owner and an admin do see it.
	for _, tok := range []string{h.session(bindery.RoleAuthor), h.session(bindery.RoleAdmin)} {
		if r, _ := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d", private.ID), cookie: tok}); r.StatusCode != 200 {
			t.Fatalf("owner/admin: %d", r.StatusCode)
		}
	}
	// Listing shows strangers nothing of it.
	_, body := h.do(req{method: "GET", path: "/api/v1/books", cookie: otherTok})
	if body != "{\"books\":[]}\n" {
		t.Fatalf("stranger's list: %s", body)
	}
}

// zeros is an endless, allocation-free body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestLargeUploadRefusedWhileStreaming: a 60 MB upload against the 50 MiB
// limit is refused with 413, and the server's memory does not grow by the
// upload's size (no buffering).
func TestLargeUploadRefusedWhileStreaming(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.session(bindery.RoleAuthor)
	url := fmt.Sprintf("%s/api/v1/books/%d/files/sources/big.pdf", h.srv.URL, h.shared.ID)
	const size = 60 << 20

	// Chunked: the server cannot know the size in advance and must stop
	// reading at the limit.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	body := io.MultiReader(strings.NewReader("%PDF-1.7\n"), io.LimitReader(zeros{}, size))
	req, _ := http.NewRequest("PUT", url, body)
	req.ContentLength = -1
	req.Header.Set("Cookie", "bindery_session="+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if resp.StatusCode != 413 || !strings.Contains(string(msg), "too_large") {
		t.Fatalf("chunked 60 MB upload: %d %s", resp.StatusCode, msg)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("the server allocated %d MB for a refused 60 MB upload", grew>>20)
	}
	// With a Content-Length: refused before reading.
	req, _ = http.NewRequest("PUT", url, io.LimitReader(zeros{}, size))
	req.ContentLength = size
	req.Header.Set("Cookie", "bindery_session="+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("declared 60 MB upload: %d", resp.StatusCode)
	}
	if files, _ := h.books.List(h.shared.ID); len(files) != 2 {
		t.Fatalf("a refused upload left files: %+v", files)
	}
}

func TestUploadRefusals(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.session(bindery.RoleEditor)
	base := fmt.Sprintf("/api/v1/books/%d/files/", h.shared.ID)
	for _, tc := range []struct {
		path, body string
		want       int
		contains   string
	}{
		{"chapters/evil.html", "<script>", 415, ".md, .txt, .jpg, .jpeg, .png, .gif, .webp, .css, .ttf, .otf, .pdf, .epub and metadata.yaml"},
		{"assets/images/x.png", "<svg onload=alert(1)>", 415, "not a valid png"},
		{"chapters/bin.md", "a\x00b", 415, "NUL"},
		{"metadata.yaml", "title: [broken\n", 422, "metadata.yaml:"},
		{"chapters/..%2F..%2Fescape.md", "x", 400, "Invalid file name"},
		{"chapters/.hidden.md", "x", 400, "dot"},
		{"chapters/CON.md", "x", 400, "reserved"},
		{"chapters/ok.md", "# Fine\n", 201, `"path":"chapters/ok.md"`},
	} {
		r, body := h.do(req{method: "PUT", path: base + tc.path, body: tc.body, contentType: "application/octet-stream", cookie: tok})
		if r.StatusCode != tc.want || !strings.Contains(body, tc.contains) {
			t.Errorf("PUT %s: %d %s; want %d containing %q", tc.path, r.StatusCode, body, tc.want, tc.contains)
		}
	}
}

func TestMultipartUploadPlacesFiles(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.session(bindery.RoleAuthor)
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 2, 2)))
	body := "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"02-two.md\"\r\n\r\n# Two\n\r\n" +
		"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"map.png\"\r\n\r\n" + img.String() + "\r\n" +
		"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"assets/images/deep.png\"\r\n\r\n" + img.String() + "\r\n" +
		"--BOUNDARY--\r\n"
	r, got := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/files?place=auto", h.shared.ID), body: body, contentType: multipartType, cookie: tok})
	if r.StatusCode != 201 {
		t.Fatalf("multipart: %d %s", r.StatusCode, got)
	}
	for _, want := range []string{"chapters/02-two.md", "assets/images/map.png", "assets/images/deep.png"} {
		if !strings.Contains(got, `"path":"`+want+`"`) {
			t.Errorf("%s not stored: %s", want, got)
		}
	}
}

// TestPlacementKeepsMetadataPaths: automatic placement never breaks a
// path metadata.yaml names — whichever of the two arrives first, a cover
// named "cover.jpg" ends up as cover.jpg, not assets/images/cover.jpg
// (the Frankenstein folder dropped on the dashboard).
func TestPlacementKeepsMetadataPaths(t *testing.T) {
	var img bytes.Buffer
	png.Encode(&img, image.NewGray(image.Rect(0, 0, 2, 2)))
	for _, order := range [][]string{{"metadata.yaml", "cover.png"}, {"cover.png", "metadata.yaml"}} {
		h := newHarness(t, nil)
		tok := h.session(bindery.RoleAuthor)
		for _, name := range order {
			content := "title: Shared\ncover: cover.png\n"
			if name == "cover.png" {
				content = img.String()
			}
			r, got := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/files?place=auto", h.shared.ID), body: multipartBody(name, content), contentType: multipartType, cookie: tok})
			if r.StatusCode != 201 {
				t.Fatalf("%v: upload %s: %d %s", order, name, r.StatusCode, got)
			}
		}
		if _, err := os.Stat(filepath.Join(h.books.Dir(h.shared.ID), "cover.png")); err != nil {
			t.Errorf("%v: the cover is not where metadata.yaml names it: %v", order, err)
		}
		if _, err := os.Stat(filepath.Join(h.books.Dir(h.shared.ID), "assets", "images", "cover.png")); err == nil {
			t.Errorf("%v: a placed copy stayed in assets/images", order)
		}
	}
}

func TestDownloadHeaders(t *testing.T) {
	h := newHarness(t, nil)
	r, body := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/files/chapters/01-one.md", h.shared.ID), cookie: h.session(bindery.RoleViewer)})
	if r.StatusCode != 200 || body != "# One\n\nThe first chapter.\n" {
		t.Fatalf("download: %d %q", r.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/markdown; charset=utf-8",
		"Content-Disposition":    "attachment; filename=01-one.md",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not sandbox user content", csp)
	}
}

// TestPreviewIsSanitised: a chapter full of XSS payloads previews with
// nothing executable, under a CSP without scripts.
func TestPreviewIsSanitised(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.session(bindery.RoleAuthor)
	chapter := "# Evil <script>alert(1)</script>\n\n" +
		"<img src=x onerror=alert(2)> <iframe srcdoc=\"<script>alert(3)</script>\"></iframe>\n\n" +
		"[click](javascript:alert(4)) [click2](JaVaScRiPt&#58;alert(5)) <a href=\"data:text/html,<script>alert(6)</script>\">d</a>\n\n" +
		"<svg onload=alert(7)></svg> <base href=\"https://evil.example/\"> <meta http-equiv=refresh content=\"0;url=https://evil.example\">\n\n" +
		"<form action=https://evil.example><input name=p></form> ![x](javascript:alert(8))\n"
	if r, body := h.do(req{method: "PUT", path: fmt.Sprintf("/api/v1/books/%d/files/chapters/02-evil.md", h.shared.ID), body: chapter, contentType: "text/markdown", cookie: tok}); r.StatusCode != 201 {
		t.Fatalf("upload: %d %s", r.StatusCode, body)
	}
	r, page := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/preview/02-evil", h.shared.ID), cookie: tok})
	if r.StatusCode != 200 {
		t.Fatalf("preview: %d %s", r.StatusCode, page)
	}
	assertInert(t, page)
	if !strings.Contains(page, "Evil") {
		t.Errorf("the chapter's text is gone:\n%s", page)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "script-src") || !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "frame-ancestors 'self'") {
		t.Errorf("preview CSP %q", csp)
	}
}

// assertInert fails the test if page holds anything that could run.
func assertInert(t *testing.T, page string) {
	t.Helper()
	for _, p := range inertProblems(page) {
		t.Error(p)
	}
}

// inertProblems parses page and lists script-ish elements, event handlers
// and URLs with a scheme other than http(s) or mailto.
func inertProblems(page string) []string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	forbidden := map[string]bool{"script": true, "iframe": true, "svg": true, "base": true, "form": true, "input": true,
		"object": true, "embed": true, "style": true, "math": true}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if forbidden[n.Data] || (n.Data == "meta" && n.Parent != nil && n.Parent.Data != "head") {
			out = append(out, "element <"+n.Data+">")
		}
		for _, a := range n.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" || a.Key == "srcdoc" {
				out = append(out, "attribute "+a.Key+" on <"+n.Data+">")
			}
			if (a.Key == "href" || a.Key == "src") && strings.Contains(v, ":") &&
				!strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "mailto:") {
				out = append(out, "<"+n.Data+" "+a.Key+"="+a.Val+">")
			}
		}
	}
	return out
}

// TestInertProblemsCatches: the checker above is not blind.
func TestInertProblemsCatches(t *testing.T) {
	for _, bad := range []string{
		"<script>x</script>", `<img src=x onerror=alert(1)>`, `<a href="javascript:alert(1)">x</a>`,
		`<a href=" JaVaScRiPt:alert(1)">x</a>`, `<iframe srcdoc="x"></iframe>`, `<p style="x">y</p>`,
		`<svg><a href="data:text/html,x">y</a></svg>`, `<body><meta http-equiv=refresh content=0></body>`,
	} {
		if len(inertProblems(bad)) == 0 {
			t.Errorf("not caught: %s", bad)
		}
	}
	if p := inertProblems(`<p><a href="https://example.org">ok</a> <img src="/api/v1/books/1/files/a.png"></p>`); len(p) != 0 {
		t.Errorf("false alarm: %v", p)
	}
}

func TestCreateEditAndDeleteABook(t *testing.T) {
	h := newHarness(t, nil)
	author := h.session(bindery.RoleAuthor)
	r, body := h.do(req{method: "POST", path: "/api/v1/books", cookie: author, body: `{"title":"  My Novel  ","authors":["Ann Writer"],"language":"en"}`})
	if r.StatusCode != 201 {
		t.Fatalf("create: %d %s", r.StatusCode, body)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	json.Unmarshal([]byte(body), &created)
	base := fmt.Sprintf("/api/v1/books/%d", created.ID)
	for _, bad := range []string{`{"title":""}`, `{"title":"x","nonsense":1}`, `{"title":` + `"` + strings.Repeat("x", 600) + `"}`} {
		if r, _ := h.do(req{method: "PATCH", path: base, cookie: author, body: bad}); r.StatusCode != 400 {
			t.Errorf("PATCH %s: %d, want 400", bad[:min(len(bad), 30)], r.StatusCode)
		}
	}
	r, body = h.do(req{method: "PATCH", path: base, cookie: author, body: `{"title":"Renamed","pdf":{"page_size":"5x8"}}`})
	if r.StatusCode != 200 || !strings.Contains(body, `"authors":["Ann Writer"]`) || !strings.Contains(body, `"page_size":"5x8"`) {
		t.Fatalf("patch: %d %s", r.StatusCode, body)
	}
	_, yaml := h.do(req{method: "GET", path: base + "/files/metadata.yaml", cookie: author})
	if !strings.Contains(yaml, "title: Renamed") || !strings.Contains(yaml, "page_size: 5x8") {
		t.Fatalf("metadata.yaml:\n%s", yaml)
	}
	_, list := h.do(req{method: "GET", path: "/api/v1/books", cookie: author})
	if !strings.Contains(list, `"title":"Renamed"`) {
		t.Fatalf("list: %s", list)
	}
	// Uploading a metadata.yaml updates the title too.
	h.do(req{method: "PUT", path: base + "/files/metadata.yaml", cookie: author, body: "title: From YAML\n", contentType: "application/yaml"})
	if _, list = h.do(req{method: "GET", path: "/api/v1/books", cookie: author}); !strings.Contains(list, `"title":"From YAML"`) {
		t.Fatalf("list after upload: %s", list)
	}
	// The owner cannot be deleted while owning books.
	admin := h.session(bindery.RoleAdmin)
	if r, body := h.do(req{method: "DELETE", path: fmt.Sprintf("/api/v1/users/%d", h.users[bindery.RoleAuthor].ID), cookie: admin}); r.StatusCode != 409 {
		t.Fatalf("deleting a book owner: %d %s", r.StatusCode, body)
	}
	if r, _ := h.do(req{method: "DELETE", path: base, cookie: admin}); r.StatusCode != 204 {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if _, err := h.books.Open(created.ID); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatal("the book's folder survived its deletion")
	}
	if ev, _ := h.store.ListAudit(context.Background(), bindery.AuditFilter{Action: bindery.AuditBookDeleted}); len(ev) != 1 {
		t.Fatal("deletion not audited")
	}
}

// TestMultipartUploadIsLimitedToo: the multipart route stops reading at
// the limit as the raw PUT does, and keeps nothing of the refused file.
func TestMultipartUploadIsLimitedToo(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_MAX_UPLOAD_BYTES": "1000"})
	tok := h.session(bindery.RoleAuthor)
	body := multipartBody("chapters/big.md", strings.Repeat("a", 5000))
	r, got := h.do(req{method: "POST", path: fmt.Sprintf("/api/v1/books/%d/files", h.shared.ID), body: body, contentType: multipartType, cookie: tok})
	if r.StatusCode != 413 {
		t.Fatalf("oversized multipart part: %d %s", r.StatusCode, got)
	}
	if files, _ := h.books.List(h.shared.ID); len(files) != 2 {
		t.Fatalf("a refused upload left files: %+v", files)
	}
}

// TestPreviewReadsOneChapter: a preview reads and parses only its chapter
// (plus metadata.yaml and the chapter names). Another chapter that the
// book loader refuses — nested too deep — neither slows nor breaks the
// preview of this one (a whole-book load would answer 422); a chapter
// link to it still resolves. Previewing the refused chapter itself
// answers 422 with its file:line message, never a 500.
func TestPreviewReadsOneChapter(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.session(bindery.RoleAuthor)
	put := func(name, body string) {
		t.Helper()
		if r, b := h.do(req{method: "PUT", path: fmt.Sprintf("/api/v1/books/%d/files/chapters/%s", h.shared.ID, name), body: body, contentType: "text/markdown", cookie: tok}); r.StatusCode != 201 {
			t.Fatalf("upload %s: %d %s", name, r.StatusCode, b)
		}
	}
	put("02-link.md", "# Link\n\nSee [the deep one](03-deep.md).\n")
	// Uploads refuse such a chapter (checked below);
	// one can still be in a folder (copied in by hand, or stored before
	// the limit): write it directly.
	deep := "# Deep\n\n" + strings.Repeat("> ", 100) + "x\n"
	if err := os.WriteFile(filepath.Join(h.books.Dir(h.shared.ID), "chapters", "03-deep.md"), []byte(deep), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, b := h.do(req{method: "PUT", path: fmt.Sprintf("/api/v1/books/%d/files/chapters/04-deep.md", h.shared.ID), body: deep, contentType: "text/markdown", cookie: tok}); r.StatusCode != 422 ||
		!strings.Contains(b, "chapters/04-deep.md:3: lists and block quotes are nested more than 32 levels deep") {
		t.Errorf("upload of a chapter the build refuses: %d %s, want 422 with the build's message", r.StatusCode, b)
	}

	r, page := h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/preview/02-link", h.shared.ID), cookie: tok})
	if r.StatusCode != 200 {
		t.Fatalf("preview of a sound chapter: %d %s", r.StatusCode, page)
	}
	if !strings.Contains(page, fmt.Sprintf(`href="/api/v1/books/%d/preview/03-deep.md"`, h.shared.ID)) {
		t.Errorf("the link to the other chapter is lost:\n%s", page)
	}
	r, page = h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/preview/03-deep", h.shared.ID), cookie: tok})
	if r.StatusCode != 422 || !strings.Contains(page, "chapters/03-deep.md:3: lists and block quotes are nested more than 32 levels deep") {
		t.Errorf("preview of the deep chapter: %d %s", r.StatusCode, page)
	}
	r, page = h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/preview/04-missing", h.shared.ID), cookie: tok})
	if r.StatusCode != 404 {
		t.Errorf("preview of a missing chapter: %d %s", r.StatusCode, page)
	}
}
