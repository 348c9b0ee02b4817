package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// TestLoweredLimitsApply: a limit lowered in the environment refuses an
// upload and a preview with 422 and the build's words.
func TestLoweredLimitsApply(t *testing.T) {
	h := newHarness(t, map[string]string{"BINDERY_MAX_PARAGRAPH_BYTES": "100"})
	tok := h.session(bindery.RoleAuthor)
	long := "# Long\n\n" + strings.Repeat("word ", 40) + "\n"
	want := "this paragraph is longer than 100 bytes"
	r, body := h.do(req{method: "PUT", path: fmt.Sprintf("/api/v1/books/%d/files/chapters/02-long.md", h.shared.ID), body: long, contentType: "text/markdown", cookie: tok})
	if r.StatusCode != 422 || !strings.Contains(body, "chapters/02-long.md:3: "+want) {
		t.Errorf("upload: %d %s", r.StatusCode, body)
	}
	// A chapter put in place behind the server's back (or under the
	// earlier, higher limit) is refused by the preview.
	if err := os.WriteFile(filepath.Join(h.books.Dir(h.shared.ID), "chapters", "02-long.md"), []byte(long), 0o600); err != nil {
		t.Fatal(err)
	}
	r, body = h.do(req{method: "GET", path: fmt.Sprintf("/api/v1/books/%d/preview/02-long", h.shared.ID), cookie: tok})
	if r.StatusCode != 422 || !strings.Contains(body, want) {
		t.Errorf("preview: %d %s", r.StatusCode, body)
	}
}
