package pdfwrite

import (
	"bytes"
	"fmt"
	"image"
	"image/color"

	"golang.org/x/image/webp"
)

// webpImage writes a WebP image (lossy, lossless, with or without alpha;
// bookfs refuses animations) as 8-bit RGB with flate, and its alpha
// channel, when not opaque, as a soft mask: PDF has no WebP filter. It is
// apart from the PNG path so that each can change its decoding alone; the
// caller has checked the pixel size from the header.
func (w *Writer) webpImage(data []byte) (ref Ref, width, height int, err error) {
	img, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pdfwrite: image: %w", err)
	}
	rgb, alpha, opaque := webpSamples(img)
	b := img.Bounds()
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
	return ref, b.Dx(), b.Dy(), nil
}

// webpSamples returns the RGB and alpha samples of img, row by row. The
// types the WebP decoder returns — YCbCr (lossy), NYCbCrA (lossy with
// alpha) and NRGBA (lossless) — are read directly, which is several times
// faster than At's interface conversions for the megapixels of a photo.
func webpSamples(img image.Image) (rgb, alpha []byte, opaque bool) {
	b := img.Bounds()
	rgb = make([]byte, 0, 3*b.Dx()*b.Dy())
	alpha = make([]byte, 0, b.Dx()*b.Dy())
	opaque = true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var r, g, bl, a uint8
			switch m := img.(type) {
			case *image.NYCbCrA:
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bl = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				a = m.A[m.AOffset(x, y)]
			case *image.YCbCr:
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bl = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				a = 255
			case *image.NRGBA:
				p := m.Pix[m.PixOffset(x, y):]
				r, g, bl, a = p[0], p[1], p[2], p[3]
			default:
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				r, g, bl, a = c.R, c.G, c.B, c.A
			}
			rgb = append(rgb, r, g, bl)
			alpha = append(alpha, a)
			if a != 255 {
				opaque = false
			}
		}
	}
	return rgb, alpha, opaque
}
