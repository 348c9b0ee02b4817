package bookfs

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// WebP files are RIFF containers: "RIFF", a little-endian 32-bit size,
// "WEBP", then chunks (a FourCC, a 32-bit size, the payload, a pad byte
// when the size is odd). A still image is a lone "VP8 " (lossy) or "VP8L"
// (lossless) chunk, or an extended file: a "VP8X" chunk first (feature
// flags and the canvas size), optionally "ICCP", "ALPH" (the alpha plane
// of a lossy image), the image chunk, then "EXIF" and "XMP ". Animations
// hold "ANIM" and "ANMF" frames instead of the image chunk.
//
// Metadata is stripped by rewriting the container rather than by decoding
// and re-encoding, which would lose quality (lossy) and needs an encoder
// Go does not have: only VP8X, ALPH and the image chunk are kept, the
// VP8X flags of what was dropped are cleared, and the RIFF size is
// recomputed. EXIF (GPS position, camera serial), XMP (author, editing
// history) and ICCP go, and so does every unknown chunk and any bytes
// after the RIFF size, since they could carry the same. Dropping the ICC
// profile can shift colours of images in a wide-gamut space slightly; it
// can also carry a free-text description, and book images are sRGB in
// practice.

// VP8X feature flags (first payload byte).
const (
	webpFlagAnimation = 1 << 1
	webpFlagXMP       = 1 << 2
	webpFlagEXIF      = 1 << 3
	webpFlagAlpha     = 1 << 4
	webpFlagICC       = 1 << 5
)

// maxWebPChunks bounds the chunks read from one file: a still image has
// at most six (VP8X, ICCP, ALPH, the image, EXIF, XMP), so the bound only
// stops a file of millions of empty chunks from costing time.
const maxWebPChunks = 64

// errWebPAnimated is returned for animated WebP files, which are refused:
// the outputs show still images, and an animation's first frame need not
// cover the canvas.
var errWebPAnimated = errors.New("the WebP image is animated")

// webpChunk is a chunk kept by the rewrite: its FourCC and where its
// payload lies in the input.
type webpChunk struct {
	id     string
	offset int64
	size   uint32
}

// webpPlan is what the rewrite writes: the VP8X payload with the flags
// cleared (nil for a simple file), then the kept chunks.
type webpPlan struct {
	vp8x   []byte
	chunks []webpChunk
}

// parseWebP reads the chunk structure of the size bytes of r and plans
// the rewrite. It reads chunk headers and the 10-byte VP8X payload only;
// errors describe the problem for people ("a chunk is truncated") and
// errWebPAnimated marks an animation.
func parseWebP(r io.ReaderAt, size int64) (*webpPlan, error) {
	var hdr [12]byte
	if size < int64(len(hdr)) {
		return nil, errors.New("it is too short to be a WebP image")
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, errors.New("its RIFF header cannot be read")
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WEBP" {
		return nil, errors.New("it does not start with a WebP (RIFF) header")
	}
	riffSize := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	if riffSize < 4 || riffSize+8 > size {
		return nil, errors.New("its RIFF size does not match the file")
	}
	end := riffSize + 8 // bytes after it are dropped
	p := &webpPlan{}
	var alpha, image bool
	for off, n := int64(12), 0; off < end; n++ {
		if n == maxWebPChunks {
			return nil, fmt.Errorf("it has more than %d chunks", maxWebPChunks)
		}
		var ch [8]byte
		if end-off < int64(len(ch)) {
			return nil, errors.New("a chunk header is truncated")
		}
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return nil, errors.New("a chunk header cannot be read")
		}
		id := string(ch[0:4])
		csize := binary.LittleEndian.Uint32(ch[4:8])
		payload := off + 8
		if int64(csize) > end-payload {
			return nil, fmt.Errorf("its %q chunk is truncated", id)
		}
		next := payload + int64(csize) + int64(csize&1)
		if next > end { // an odd last chunk without its pad byte
			next = end
		}
		switch id {
		case "VP8X":
			if n != 0 || csize != 10 {
				return nil, errors.New("its VP8X chunk is misplaced or malformed")
			}
			p.vp8x = make([]byte, 10)
			if _, err := r.ReadAt(p.vp8x, payload); err != nil {
				return nil, errors.New("its VP8X chunk cannot be read")
			}
			if p.vp8x[0]&webpFlagAnimation != 0 {
				return nil, errWebPAnimated
			}
			// Keep the alpha flag and the canvas size; clear the flags of
			// the chunks dropped and the reserved bits.
			p.vp8x[0] &= webpFlagAlpha
			p.vp8x[1], p.vp8x[2], p.vp8x[3] = 0, 0, 0
		case "ANIM", "ANMF":
			return nil, errWebPAnimated
		case "ALPH":
			if p.vp8x == nil || alpha || image {
				return nil, errors.New("its ALPH chunk is misplaced")
			}
			alpha = true
			p.chunks = append(p.chunks, webpChunk{id, payload, csize})
		case "VP8 ", "VP8L":
			if image {
				return nil, errors.New("it holds more than one image")
			}
			if id == "VP8L" && alpha {
				return nil, errors.New("its lossless image has a separate ALPH chunk")
			}
			image = true
			p.chunks = append(p.chunks, webpChunk{id, payload, csize})
		default: // ICCP, EXIF, "XMP " and unknown chunks: dropped
		}
		off = next
	}
	if !image {
		return nil, errors.New("it holds no image data")
	}
	return p, nil
}

// size is the RIFF size of the rewritten file: "WEBP" and the chunks.
func (p *webpPlan) size() int64 {
	n := int64(4)
	if p.vp8x != nil {
		n += 8 + 10
	}
	for _, c := range p.chunks {
		n += 8 + int64(c.size) + int64(c.size&1)
	}
	return n
}

// write writes the rewritten file, copying the kept payloads from r.
func (p *webpPlan) write(r io.ReaderAt, w io.Writer) error {
	bw := bufio.NewWriter(w)
	var hdr [8]byte
	chunkHeader := func(id string, size uint32) {
		copy(hdr[:4], id)
		binary.LittleEndian.PutUint32(hdr[4:], size)
		bw.Write(hdr[:])
	}
	chunkHeader("RIFF", uint32(p.size())) // #nosec G115 -- at most the input's RIFF size, itself a uint32
	bw.WriteString("WEBP")
	if p.vp8x != nil {
		chunkHeader("VP8X", 10)
		bw.Write(p.vp8x)
	}
	for _, c := range p.chunks {
		chunkHeader(c.id, c.size)
		if _, err := io.CopyN(bw, io.NewSectionReader(r, c.offset, int64(c.size)), int64(c.size)); err != nil {
			return err
		}
		if c.size&1 != 0 {
			bw.WriteByte(0)
		}
	}
	return bw.Flush()
}

// stripWebP copies the WebP image in the size bytes of r to w without its
// metadata (see above). It checks the container only; the caller decodes
// the image.
func stripWebP(r io.ReaderAt, size int64, w io.Writer) error {
	p, err := parseWebP(r, size)
	if err != nil {
		return err
	}
	return p.write(r, w)
}
