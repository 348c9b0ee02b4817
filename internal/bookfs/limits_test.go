package bookfs_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/manuscript"
)

// Lowered build limits (BINDERY_MAX_…) are applied to uploads, with the
// words the build uses.
func TestUploadsApplyLoweredLimits(t *testing.T) {
	l := lim
	l.Manuscript = manuscript.Limits{MaxImagePixels: 3, MaxParagraphBytes: 100, MaxBookTextBytes: 300}
	s, dir := newStore(t, l)

	err := put(s, "assets/images/a.png", pngBytes(t))
	if code(err) != bindery.EUNPROCESSABLE || !strings.Contains(bindery.ErrorMessage(err), "pixels; at most 3 pixels are accepted for PNG images") {
		t.Errorf("a PNG over a 3-pixel limit: %v", err)
	}
	err = put(s, "chapters/01.md", []byte(strings.Repeat("word ", 40)))
	if code(err) != bindery.EUNPROCESSABLE || !strings.Contains(bindery.ErrorMessage(err), "chapters/01.md:1: this paragraph is longer than 100 bytes") {
		t.Errorf("a 200-byte paragraph over a 100-byte limit: %v", err)
	}

	// The chapters together: 2 × 150 bytes fit, a third does not; a
	// chapter replaced counts once.
	chapter := []byte(strings.Repeat("word\n\n", 25))
	for _, name := range []string{"chapters/01.md", "chapters/02.md", "chapters/01.md"} {
		if err := put(s, name, chapter); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	err = put(s, "chapters/03.md", chapter)
	want := "chapters/03.md: the chapters hold at least 450 bytes of text together (limit 300): make the book shorter or split it"
	if code(err) != bindery.EUNPROCESSABLE || bindery.ErrorMessage(err) != want {
		t.Errorf("a third chapter: %v\nwant %s", err, want)
	}
	noTemporaryFiles(t, dir)

	// The defaults accept all of it.
	d, _ := newStore(t, lim)
	for _, name := range []string{"assets/images/a.png", "chapters/01.md"} {
		data := pngBytes(t)
		if strings.HasSuffix(name, ".md") {
			data = []byte(strings.Repeat("word ", 40))
		}
		if err := put(d, name, data); err != nil {
			t.Errorf("%s with the default limits: %v", name, err)
		}
	}
}

// BINDERY_MAX_ARCHIVE_RATIO lowers the inflation an archive may have.
func TestArchiveRatioLimit(t *testing.T) {
	book := append(append([]member(nil), smallBook...), member{name: "chapters/02.md", body: strings.Repeat("a\n\n", 70_000)})
	archive := zipOf(t, book...) // inflates some 300 times, under the slack of 1 MiB
	l := bookfs.Limits{MaxFileBytes: 4 << 20, MaxFiles: 50, MaxBookBytes: 64 << 20}
	s, _ := newStore(t, l)
	st, err := s.Stage(context.Background(), bytes.NewReader(archive))
	if err != nil {
		t.Fatalf("default ratio: %v", err)
	}
	st.Discard()

	book[len(book)-1].body = strings.Repeat("a\n\n", 1<<20) // 3 MiB: past the slack
	archive = zipOf(t, book...)
	if st, err := s.Stage(context.Background(), bytes.NewReader(archive)); code(err) != bindery.ETOOLARGE {
		if err == nil {
			st.Discard()
		}
		t.Errorf("3 MiB of one letter under the default ratio 100: %v", err)
	}
	l.MaxInflateRatio = 100_000
	s, _ = newStore(t, l)
	st, err = s.Stage(context.Background(), bytes.NewReader(archive))
	if err != nil {
		t.Fatalf("ratio 100000: %v", err)
	}
	st.Discard()
}
