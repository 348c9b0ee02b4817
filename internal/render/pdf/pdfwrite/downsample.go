package pdfwrite

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
)

// ImageFit is Image for an image printed at most maxW × maxH pixels (its
// printed size at the output's resolution): a decoded image (PNG, GIF)
// larger than that is averaged down to fit, keeping its proportions, so
// that the PDF holds — and the build allocates — the pixels the page can
// show rather than the file's. The full-size decoded image is released
// as soon as it is averaged; no full-size RGB copy is made. A JPEG is
// embedded as it is, and an image that fits (or maxW or maxH ≤ 0) is
// written as Image writes it.
func (w *Writer) ImageFit(data []byte, maxW, maxH int) (ref Ref, width, height int, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format == "jpeg" || maxW <= 0 || maxH <= 0 || (cfg.Width <= maxW && cfg.Height <= maxH) {
		return w.Image(data)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > 200_000_000 {
		return w.Image(data) // refused there, in its words
	}
	tw, th := fitWithin(cfg.Width, cfg.Height, maxW, maxH)
	img, _, err := image.Decode(&stopReader{r: bytes.NewReader(data), w: w})
	if w.stopped() {
		return 0, 0, 0, w.err
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("pdfwrite: image: %w", err)
	}
	// The full-size image is garbage once averaged: not referenced past
	// this call, before the compression allocates.
	rgb, alpha, opaque, ok := w.average(img, tw, th)
	if !ok {
		return 0, 0, 0, w.err
	}
	return w.writeRGB(rgb, alpha, opaque, tw, th)
}

// fitWithin scales w × h down to fit maxW × maxH, at least 1 × 1.
func fitWithin(w, h, maxW, maxH int) (int, int) {
	tw, th := maxW, int(int64(h)*int64(maxW)/int64(w))
	if th > maxH {
		tw, th = int(int64(w)*int64(maxH)/int64(h)), maxH
	}
	return max(tw, 1), max(th, 1)
}

// average resamples img to tw × th by area averaging (each output pixel
// is the mean of the source pixels it covers, alpha-weighted), one output
// row at a time; it gives up (ok false) when w is stopped.
func (w *Writer) average(img image.Image, tw, th int) (rgb, alpha []byte, opaque, ok bool) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	px, fast := img.(image.RGBA64Image)
	rgb = make([]byte, 0, 3*tw*th)
	alpha = make([]byte, 0, tw*th)
	opaque = true
	// Sums of premultiplied 16-bit channels per output column.
	sums := make([][4]uint64, tw)
	counts := make([]uint64, tw)
	col := make([]int, sw) // output column of each source column
	for x := range sw {
		col[x] = x * tw / sw
	}
	sy := 0
	for ty := range th {
		if w.stopped() {
			return nil, nil, false, false
		}
		clear(sums)
		clear(counts)
		end := (ty + 1) * sh / th
		for ; sy < end; sy++ {
			for x := range sw {
				var c color.RGBA64
				if fast {
					c = px.RGBA64At(b.Min.X+x, b.Min.Y+sy)
				} else {
					r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+sy).RGBA()
					c = color.RGBA64{uint16(r), uint16(g), uint16(bl), uint16(a)} // #nosec G115 -- color.Color.RGBA returns 16-bit values in uint32s
				}
				s := &sums[col[x]]
				s[0] += uint64(c.R)
				s[1] += uint64(c.G)
				s[2] += uint64(c.B)
				s[3] += uint64(c.A)
				counts[col[x]]++
			}
		}
		for tx := range tw {
			s, n := sums[tx], max(counts[tx], 1)
			a := s[3] / n
			var r, g, bl uint64
			if s[3] > 0 { // un-premultiply: the mean colour of what shows
				r, g, bl = s[0]*0xffff/s[3], s[1]*0xffff/s[3], s[2]*0xffff/s[3]
			}
			rgb = append(rgb, byte(min(r, 0xffff)>>8), byte(min(g, 0xffff)>>8), byte(min(bl, 0xffff)>>8))
			alpha = append(alpha, byte(min(a, 0xffff)>>8)) // a mean of 16-bit values
			if a>>8 != 0xff {
				opaque = false
			}
		}
	}
	return rgb, alpha, opaque, true
}

// writeRGB writes 8-bit RGB pixels, with alpha as a soft mask unless
// opaque, as an image XObject.
func (w *Writer) writeRGB(rgb, alpha []byte, opaque bool, width, height int) (Ref, int, int, error) {
	ref := w.Alloc()
	smask := ""
	var mref Ref
	if !opaque {
		mref = w.Alloc()
		smask = " /SMask " + mref.String()
	}
	w.Stream(ref, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8%s", width, height, smask), rgb, true)
	if !opaque {
		w.Stream(mref, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", width, height), alpha, true)
	}
	if w.err != nil {
		return 0, 0, 0, w.err
	}
	return ref, width, height, nil
}
