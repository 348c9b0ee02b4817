package pdfwrite

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // GIF images: the first frame, like PNG
	"image/jpeg"
	_ "image/png" // PNG images are decoded and re-encoded with flate
	"io"
)

// Image writes a JPEG, PNG, GIF or WebP image as an image XObject and
// returns its reference and pixel size. JPEG data is embedded as is
// (DCTDecode); PNG (and any other decodable format) is decoded and stored
// as 8-bit RGB or gray with flate, with its alpha channel as a soft mask;
// WebP likewise, in its own function (webpImage).
func (w *Writer) Image(data []byte) (ref Ref, width, height int, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pdfwrite: image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > 200_000_000 {
		return 0, 0, 0, errors.New("pdfwrite: image: unreasonable size")
	}
	if format == "webp" {
		return w.webpImage(data)
	}
	if format == "jpeg" {
		cs, decode := "/DeviceRGB", ""
		switch cfg.ColorModel {
		case color.GrayModel:
			cs = "/DeviceGray"
		case color.CMYKModel:
			cs, decode = "/DeviceCMYK", " /Decode [1 0 1 0 1 0 1 0]"
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil {
			return 0, 0, 0, err
		}
		ref = w.Alloc()
		w.Stream(ref, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8%s /Filter /DCTDecode",
			cfg.Width, cfg.Height, cs, decode), data, false)
		return ref, cfg.Width, cfg.Height, nil
	}
	img, _, err := image.Decode(&stopReader{r: bytes.NewReader(data), w: w})
	if w.stopped() {
		return 0, 0, 0, w.err
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pdfwrite: image: %w", err)
	}
	b := img.Bounds()
	rgb := make([]byte, 0, 3*b.Dx()*b.Dy())
	alpha := make([]byte, 0, b.Dx()*b.Dy())
	opaque := true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		if (y-b.Min.Y)%64 == 0 && w.stopped() {
			return 0, 0, 0, w.err
		}
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			rgb = append(rgb, c.R, c.G, c.B)
			alpha = append(alpha, c.A)
			if c.A != 255 {
				opaque = false
			}
		}
	}
	ref = w.Alloc()
	smask := ""
	var mref Ref
	if !opaque {
		mref = w.Alloc()
		smask = " /SMask " + mref.String()
	}
	w.Stream(ref, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8%s", b.Dx(), b.Dy(), smask), rgb, true)
	if !opaque {
		w.Stream(mref, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", b.Dx(), b.Dy()), alpha, true)
	}
	if w.err != nil {
		return 0, 0, 0, w.err
	}
	return ref, b.Dx(), b.Dy(), nil
}

// stopReader feeds an image decoder and fails once w is stopped: decoders
// read their input a chunk at a time, so decoding ends within a chunk.
type stopReader struct {
	r io.Reader
	w *Writer
}

func (s *stopReader) Read(p []byte) (int, error) {
	if s.w.stopped() {
		return 0, s.w.err
	}
	return s.r.Read(p)
}
