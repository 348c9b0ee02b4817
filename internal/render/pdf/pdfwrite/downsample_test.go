package pdfwrite

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io"
	"strings"
	"testing"
)

func pngOf(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ImageFit averages an image larger than its printed size down to it,
// keeping proportions, colour and transparency; one that fits is written
// as Image writes it.
func TestImageFit(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			c := color.NRGBA{200, 40, 10, 255}
			if x >= 200 { // the right half: half-transparent blue
				c = color.NRGBA{0, 0, 255, 128}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	data := pngOf(t, img)

	var out bytes.Buffer
	w := New(&out)
	_, width, height, err := w.ImageFit(data, 100, 100)
	if err != nil || width != 100 || height != 75 {
		t.Fatalf("ImageFit(400×300 into 100×100) = %d×%d, %v; want 100×75", width, height, err)
	}
	w.bw.Flush()
	if !strings.Contains(out.String(), "/Width 100 /Height 75 /ColorSpace /DeviceRGB") || !strings.Contains(out.String(), "/SMask") {
		t.Errorf("the image is not written at 100×75 with a soft mask")
	}
	rgb, alpha, opaque, ok := New(io.Discard).average(img, 4, 3)
	if !ok || opaque {
		t.Fatalf("average: ok %v, opaque %v", ok, opaque)
	}
	if got := rgb[:3]; !bytes.Equal(got, []byte{200, 40, 10}) {
		t.Errorf("left pixel %v, want 200 40 10", got)
	}
	if got := rgb[9:12]; got[2] < 250 || got[0] > 2 {
		t.Errorf("right pixel %v, want blue", got)
	}
	if alpha[0] != 255 || alpha[3] < 126 || alpha[3] > 129 {
		t.Errorf("alpha %v, want 255 on the left and about 128 on the right", alpha[:4])
	}

	var fit, plain bytes.Buffer
	wf, wp := New(&fit), New(&plain)
	if _, _, _, err := wf.ImageFit(data, 400, 300); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := wp.Image(data); err != nil {
		t.Fatal(err)
	}
	wf.bw.Flush()
	wp.bw.Flush()
	if !bytes.Equal(fit.Bytes(), plain.Bytes()) {
		t.Errorf("an image that fits is not written as Image writes it")
	}
}
