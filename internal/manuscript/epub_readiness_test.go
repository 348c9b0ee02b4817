package manuscript_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"slices"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	mt "github.com/bindery/bindery/internal/manuscript/manuscripttest"
)

func jpegOf(tb testing.TB, w, h int) string {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func TestEPUBWarnings(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"ready", map[string]string{
			"metadata.yaml": "title: T\nauthor: A\nlanguage: en\ncover: c.jpg\n", "c.jpg": jpegOf(t, 1000, 1600),
			"chapters/01.md": "# One\n\n![a lamp](../c.jpg)\n\n## Two\n\n### Three\n\n## Four\n",
		}, nil},
		{"small cover", map[string]string{
			"metadata.yaml": "title: T\nauthor: A\nlanguage: en\ncover: c.jpg\n", "c.jpg": jpegOf(t, 1599, 900),
			"chapters/01.md": "# One\n\nText.\n",
		}, []string{`metadata.yaml: warning: cover "c.jpg" is 1599×900 px: stores ask for at least 1,600 px on the long side`}},
		{"gaps", map[string]string{
			"metadata.yaml":  "title: T\n",
			"chapters/01.md": "# One\n\n![](x.png)\n\n### Deep\n",
			"chapters/02.md": "Text.\n\n![ ](y.png)\n",
		}, []string{"metadata.yaml: warning: the EPUB claims no accessibility conformance (EPUB Accessibility 1.1 - WCAG 2.2 Level AA): " +
			"metadata.yaml: no language; metadata.yaml: no publisher or author to name as the evaluator; " +
			"chapters/01.md:3: an image has no alt text; chapters/01.md:5: a heading jumps from h1 to h3; chapters/02.md:3: an image has no alt text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range manuscript.EPUBWarnings(mt.MustLoad(t, tt.files)) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("EPUBWarnings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
