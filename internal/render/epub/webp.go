package epub

import (
	"bytes"
	"image/png"

	"golang.org/x/image/webp"
)

// webpToPNG converts a WebP image to PNG for the EPUB. WebP is a core
// media type of EPUB 3.3, but not of EPUB 3.2, which most reading systems
// in use implement and which Debian's epubcheck (4.2) checks: there a
// WebP image needs a manifest fallback, that is a second copy in a core
// type. One PNG is smaller than both and every reader shows it. The PNG
// is lossless, so nothing of the image is lost, only size (a lossy WebP
// photo grows several times); bookfs and Check bound the pixels it can
// have (manuscript.MaxDecodedPixels), which bounds the memory this takes.
func webpToPNG(data []byte) ([]byte, error) {
	img, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
