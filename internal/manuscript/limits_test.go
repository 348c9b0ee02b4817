package manuscript_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
)

// The chapters together are held to MaxBookTextBytes, named at the
// chapter that crosses it.
func TestBookTextLimit(t *testing.T) {
	files := map[string]string{
		"chapters/01.md": strings.Repeat("word ", 100), // 500 bytes
		"chapters/02.md": strings.Repeat("word ", 100),
	}
	root := mt.OpenRoot(t, mt.WriteBook(t, files))
	if _, err := manuscript.LoadLimits(context.Background(), root, manuscript.Limits{MaxBookTextBytes: 1000}); err != nil {
		t.Fatalf("1000 bytes in a 1000-byte book: %v", err)
	}
	_, err := manuscript.LoadLimits(context.Background(), root, manuscript.Limits{MaxBookTextBytes: 999})
	want := "chapters/02.md: the chapters hold at least 1000 bytes of text together (limit 999): make the book shorter or split it"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

// Lowered limits apply to Load, Check (pixels), LoadChapter (previews)
// and CheckChapter (uploads) alike.
func TestLoweredLimits(t *testing.T) {
	para := strings.Repeat("word ", 40) // 200 bytes
	files := map[string]string{
		"metadata.yaml":          "title: T\nauthor: A\nlanguage: en\n",
		"assets/images/tiny.png": mt.PNG, // 2 × 2
		"chapters/01.md":         "# One\n\n" + para + "\n\n![Tiny](../assets/images/tiny.png)\n",
	}
	root := mt.OpenRoot(t, mt.WriteBook(t, files))
	ctx := context.Background()
	wantPara := "chapters/01.md:3: a paragraph of 200 bytes is longer than the limit of 100 bytes: split it with a blank line"

	small := manuscript.Limits{MaxParagraphBytes: 100}
	if _, err := manuscript.LoadLimits(ctx, root, small); err == nil || !strings.HasPrefix(err.Error(), "chapters/01.md:3:") {
		t.Errorf("LoadLimits: %v, want a refusal at line 3", err)
	}
	_, _, errPreview := manuscript.LoadChapter(ctx, root, "chapters/01.md", small)
	errUpload := manuscript.CheckChapter(ctx, "chapters/01.md", []byte(files["chapters/01.md"]), small)
	if errPreview == nil || errUpload == nil || errPreview.Error() != errUpload.Error() {
		t.Errorf("preview: %v\nupload: %v\nwant the same refusal (%s)", errPreview, errUpload, wantPara)
	}
	if _, _, err := manuscript.LoadChapter(ctx, root, "chapters/01.md", manuscript.Limits{}); err != nil {
		t.Errorf("LoadChapter with the defaults: %v", err)
	}

	m, err := manuscript.LoadLimits(ctx, root, manuscript.Limits{MaxImagePixels: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range manuscript.Check(m) {
		got = append(got, p.String())
	}
	want := `chapters/01.md:5: image "../assets/images/tiny.png": the image is 2 × 2 pixels; at most 3 pixels are accepted for PNG images`
	if !slices.Contains(got, want) {
		t.Errorf("Check = %q, want %q", got, want)
	}
	if p := (manuscript.Limits{MaxJPEGPixels: 3}).PixelProblem("jpeg", 2, 2); !strings.Contains(p, "at most 3 pixels are accepted for JPEG images") {
		t.Errorf("PixelProblem(jpeg) = %q", p)
	}
	if p := (manuscript.Limits{}).PixelProblem("png", 4000, 4000); p != "" {
		t.Errorf("16 MP PNG under the defaults: %q", p)
	}
}
