package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/cli"
	"github.com/bindery/bindery/internal/config"
	"github.com/bindery/bindery/internal/manuscript"
)

// runLimits calls cli.Run with the environment vars.
func runLimits(vars map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// bindery build and check read the limits of the environment, the
// server's: a book within the defaults is refused under a lowered limit,
// and a malformed limit is an error naming the variable.
func TestBuildAndCheckReadTheLimits(t *testing.T) {
	book := t.TempDir()
	os.MkdirAll(filepath.Join(book, "chapters"), 0o755)
	os.WriteFile(filepath.Join(book, "metadata.yaml"), []byte("title: Limits\nauthor: A. Writer\nlanguage: en\n"), 0o644)
	os.WriteFile(filepath.Join(book, "chapters", "01-one.md"), []byte("# One\n\n"+strings.Repeat("word ", 40)+"\n"), 0o644)

	if code, stdout, errs := runLimits(nil, "check", book); code != 0 {
		t.Fatalf("check with the defaults: %d\n%s%s", code, stdout, errs)
	}
	low := map[string]string{"BINDERY_MAX_PARAGRAPH_BYTES": "100"}
	want := "chapters/01-one.md:3: this paragraph is longer than 100 bytes"
	if code, stdout, _ := runLimits(low, "check", book); code != 1 || !strings.Contains(stdout, want) {
		t.Errorf("check under a 100-byte paragraph limit: %d\n%s", code, stdout)
	}
	out := t.TempDir()
	if code, _, errs := runLimits(low, "build", book, "--out", out, "--formats", "html"); code != 1 || !strings.Contains(errs, want) {
		t.Errorf("build under a 100-byte paragraph limit: %d\n%s", code, errs)
	}
	bad := map[string]string{"BINDERY_MAX_NESTING": "deep"}
	for _, args := range [][]string{{"check", book}, {"build", book, "--out", out}} {
		code, _, errs := runLimits(bad, args...)
		if code != 1 || !strings.Contains(errs, `BINDERY_MAX_NESTING is "deep"; expected a whole number from 1 to 100`) {
			t.Errorf("%s with a malformed limit: %d\n%s", args[0], code, errs)
		}
	}
}

// serve hands every limit of the configuration to the book store.
func TestServeBookLimits(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"BINDERY_MAX_UPLOAD_BYTES": "5000", "BINDERY_MAX_CHAPTERS": "3", "BINDERY_MAX_CHAPTER_BYTES": "2000",
			"BINDERY_MAX_BOOK_TEXT_BYTES": "4000", "BINDERY_MAX_PARAGRAPH_BYTES": "100", "BINDERY_MAX_NESTING": "4",
			"BINDERY_MAX_TABLE_COLUMNS": "5", "BINDERY_MAX_FOOTNOTES": "6", "BINDERY_MAX_IMAGE_MEGAPIXELS": "1",
			"BINDERY_MAX_JPEG_MEGAPIXELS": "2", "BINDERY_MAX_ARCHIVE_RATIO": "7",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	l := cli.BookLimits(cfg)
	want := manuscript.DefaultLimits
	want.MaxAssetBytes, want.MaxChapters, want.MaxChapterBytes, want.MaxBookTextBytes = 5000, 3, 2000, 4000
	want.MaxParagraphBytes, want.MaxNesting, want.MaxTableColumns, want.MaxFootnotes = 100, 4, 5, 6
	want.MaxImagePixels, want.MaxJPEGPixels = 1_000_000, 2_000_000
	if l.Manuscript != want || l.MaxInflateRatio != 7 || l.MaxFileBytes != 5000 {
		t.Errorf("book limits\n got %+v\nwant %+v (ratio 7, file 5000)", l, want)
	}
}
