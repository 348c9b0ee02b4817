package server_test

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// TestPatchKeepsTheAuthorsFile: editing metadata through the API changes
// the entries it names and leaves the rest of a hand-written metadata.yaml
// — comments, order, a single author, flow margins, a folded description
// — as written.
func TestPatchKeepsTheAuthorsFile(t *testing.T) {
	h := newHarness(t, nil)
	orig := "# Kept by hand.\ntitle: Shared   # working title\nauthor: A. Writer\nlanguage: en\n\ndescription: >\n  A story told\n  in two lines.\npdf:\n  margins: {top: 1in, bottom: 1in, inside: 1in, outside: 1in}\n"
	if _, err := h.books.Put(context.Background(), h.shared.ID, "metadata.yaml", strings.NewReader(orig)); err != nil {
		t.Fatal(err)
	}
	resp, body := h.do(req{method: "PATCH", path: "/api/v1/books/" + strconv.FormatInt(h.shared.ID, 10), body: `{"title":"The Shared Book"}`, cookie: h.session(bindery.RoleEditor)})
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, body)
	}
	f, _, err := h.books.Get(h.shared.ID, "metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	want := strings.Replace(orig, "title: Shared   # working title", "title: The Shared Book # working title", 1)
	if string(got) != want {
		t.Errorf("metadata.yaml after PATCH:\n%s\nwant:\n%s", got, want)
	}
}
