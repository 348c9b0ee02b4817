package bookfs

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/gif"
	_ "image/jpeg" // DecodeConfig for JPEG
	_ "image/png"  // DecodeConfig for PNG
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/webp"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/fontcheck"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/stylesheet"
)

// Content limits. Images are measured from their headers only, never
// decoded in full here, and refused above manuscript's pixel limits: a
// 100 KB PNG can claim 50,000 × 50,000 pixels and cost 10 GB to decode (a
// decompression bomb) in whatever renders it later.
const (
	MaxEPUBEntries     = 10_000
	MaxEPUBUnpacked    = 1 << 30 // bytes, summed over entries
	epubMimetype       = "application/epub+zip"
	maxMetadataBytes   = 64 << 10
	textValidateBuffer = 64 << 10
)

// mismatch is the error for content that does not match its extension.
func mismatch(k Kind, why string) error {
	name := strings.TrimPrefix(k.Ext, ".")
	if k.Ext == "" {
		name = MetadataFile
	}
	return bindery.Errorf(bindery.EUNSUPPORTED, "The content is not a valid %s file: %s.", name, why)
}

// checkContent verifies that the file f (size bytes, at offset 0) really
// is of kind k. For JPEG, PNG, GIF and WebP images it writes a copy
// without metadata to out and reports rewritten = true; otherwise out is
// untouched. Images are held to lim's pixel limits.
func checkContent(f *os.File, size int64, k Kind, out io.Writer, lim manuscript.Limits) (rewritten bool, err error) {
	switch k.Ext {
	case ".jpg", ".jpeg":
		if err := checkImage(f, k, "jpeg", lim); err != nil {
			return false, err
		}
		return true, stripJPEG(f, out, k)
	case ".png":
		if err := checkImage(f, k, "png", lim); err != nil {
			return false, err
		}
		return true, stripPNG(f, size, out, k)
	case ".gif":
		if err := checkImage(f, k, "gif", lim); err != nil {
			return false, err
		}
		if _, err := gif.Decode(bufio.NewReader(f)); err != nil { // the first frame, which outputs show
			return false, mismatch(k, "its first image cannot be decoded")
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return false, err
		}
		return true, stripGIF(f, out, k)
	case ".webp":
		return true, checkWebP(f, size, k, out, lim)
	case ".css":
		if err := checkText(f, k); err != nil {
			return false, err
		}
		return false, checkStylesheet(f, size)
	case ".ttf", ".otf":
		return false, checkFont(f, size)
	case ".pdf":
		head := make([]byte, 5)
		if _, err := io.ReadFull(f, head); err != nil || string(head) != "%PDF-" {
			return false, mismatch(k, "it does not start with %PDF-")
		}
		return false, nil
	case ".epub":
		return false, checkEPUB(f, size, k)
	default: // .md, .txt, metadata.yaml
		return false, checkText(f, k)
	}
}

func checkImage(f *os.File, k Kind, format string, lim manuscript.Limits) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	cfg, got, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil || got != format {
		name := strings.ToUpper(format)
		if format == "webp" {
			name = "WebP"
		}
		return mismatch(k, "its header is not a "+name+" header")
	}
	if why := lim.PixelProblem(format, cfg.Width, cfg.Height); why != "" {
		return bindery.Errorf(bindery.EUNPROCESSABLE, "The image is refused: %s.", why)
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// stripJPEG copies a JPEG without the segments that carry metadata —
// APP1 (Exif with GPS position, camera serial, XMP), APP12, APP13
// (Photoshop/IPTC), other APPn, and comments — keeping JFIF (APP0), the
// colour profile (APP2 ICC_PROFILE) and Adobe's colour transform (APP14).
// The compressed image data is copied byte for byte: lossless. Segments
// are read up to the first start-of-scan; the rest is copied verbatim.
func stripJPEG(r io.Reader, w io.Writer, k Kind) error {
	br := bufio.NewReader(r)
	bw := bufio.NewWriter(w)
	soi := make([]byte, 2)
	if _, err := io.ReadFull(br, soi); err != nil || soi[0] != 0xFF || soi[1] != 0xD8 {
		return mismatch(k, "it does not start with a JPEG marker")
	}
	bw.Write(soi)
	for {
		var m [2]byte
		if _, err := io.ReadFull(br, m[:]); err != nil {
			return mismatch(k, "it ends before the image data")
		}
		for m[1] == 0xFF { // fill bytes
			b, err := br.ReadByte()
			if err != nil {
				return mismatch(k, "it ends before the image data")
			}
			m[1] = b
		}
		if m[0] != 0xFF {
			return mismatch(k, "a segment marker is malformed")
		}
		if m[1] == 0x01 || (m[1] >= 0xD0 && m[1] <= 0xD7) { // stand-alone markers
			bw.Write(m[:])
			continue
		}
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return mismatch(k, "a segment is truncated")
		}
		n := int(binary.BigEndian.Uint16(l[:]))
		if n < 2 {
			return mismatch(k, "a segment length is malformed")
		}
		body := make([]byte, n-2)
		if _, err := io.ReadFull(br, body); err != nil {
			return mismatch(k, "a segment is truncated")
		}
		if keepJPEGSegment(m[1], body) {
			bw.Write(m[:])
			bw.Write(l[:])
			bw.Write(body)
		}
		if m[1] == 0xDA { // start of scan: the rest is image data
			if _, err := io.Copy(bw, br); err != nil {
				return err
			}
			return bw.Flush()
		}
	}
}

func keepJPEGSegment(marker byte, body []byte) bool {
	switch {
	case marker == 0xFE: // COM
		return false
	case marker == 0xE0: // APP0 JFIF/JFXX
		return true
	case marker == 0xE2: // APP2: keep only the colour profile
		return bytes.HasPrefix(body, []byte("ICC_PROFILE\x00"))
	case marker == 0xEE: // APP14 Adobe: needed to decode CMYK/YCCK right
		return true
	case marker >= 0xE1 && marker <= 0xEF:
		return false
	}
	return true
}

// pngDropped are the PNG chunks that carry metadata: eXIf (the same Exif
// as JPEG's, GPS included), text chunks and the modification time.
var pngDropped = map[string]bool{"eXIf": true, "tEXt": true, "zTXt": true, "iTXt": true, "tIME": true}

// stripPNG copies a PNG without its metadata chunks, checking every
// chunk's length and CRC on the way.
func stripPNG(r io.Reader, size int64, w io.Writer, k Kind) error {
	br := bufio.NewReader(r)
	bw := bufio.NewWriter(w)
	sig := make([]byte, 8)
	if _, err := io.ReadFull(br, sig); err != nil || string(sig) != "\x89PNG\r\n\x1a\n" {
		return mismatch(k, "it does not start with the PNG signature")
	}
	bw.Write(sig)
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return mismatch(k, "it ends without an IEND chunk")
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if n > size {
			return mismatch(k, "a chunk is longer than the file")
		}
		data := make([]byte, n+4) // with CRC
		if _, err := io.ReadFull(br, data); err != nil {
			return mismatch(k, "a chunk is truncated")
		}
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:8])
		crc.Write(data[:n])
		if crc.Sum32() != binary.BigEndian.Uint32(data[n:]) {
			return mismatch(k, "a chunk's checksum is wrong")
		}
		if !pngDropped[typ] {
			bw.Write(hdr[:])
			bw.Write(data)
		}
		if typ == "IEND" {
			return bw.Flush()
		}
	}
}

// checkWebP checks a WebP image — its header's pixel size, its container
// (stripWebP: a still image; animations are refused) and a full decode —
// then writes it to out without its metadata.
func checkWebP(f *os.File, size int64, k Kind, out io.Writer, lim manuscript.Limits) error {
	if err := checkImage(f, k, "webp", lim); err != nil {
		return err
	}
	plan, err := parseWebP(f, size)
	if errors.Is(err, errWebPAnimated) {
		return bindery.Errorf(bindery.EUNPROCESSABLE, "The image is refused: animated WebP images are not accepted, as books show still images; save it as a still WebP, PNG or JPEG.")
	} else if err != nil {
		return mismatch(k, err.Error())
	}
	if _, err := webp.Decode(bufio.NewReader(io.NewSectionReader(f, 0, size))); err != nil {
		return mismatch(k, "its image cannot be decoded")
	}
	return plan.write(f, out)
}

// checkStylesheet applies the stylesheet rules that builds apply too
// (package stylesheet), so that what a build would refuse is refused here
// with the same words.
func checkStylesheet(f *os.File, size int64) error {
	if size > stylesheet.MaxBytes {
		return bindery.Errorf(bindery.EUNPROCESSABLE, "The stylesheet is refused: it is larger than %d KiB.", stylesheet.MaxBytes>>10)
	}
	css, err := readAll(f, size)
	if err != nil {
		return err
	}
	if err := stylesheet.Check(css); err != nil {
		return bindery.Errorf(bindery.EUNPROCESSABLE, "The stylesheet is refused: %s.", err)
	}
	return nil
}

// checkFont requires a TrueType or OpenType font whose licence allows
// embedding (package fontcheck, which builds apply too).
func checkFont(f *os.File, size int64) error {
	if size > fontcheck.MaxBytes {
		return bindery.Errorf(bindery.ETOOLARGE, "Font files may be at most %d MiB.", fontcheck.MaxBytes>>20)
	}
	data, err := readAll(f, size)
	if err != nil {
		return err
	}
	if err := fontcheck.Check(data); err != nil {
		return bindery.Errorf(bindery.EUNPROCESSABLE, "The font is refused: %s.", err)
	}
	return nil
}

// readAll reads the size bytes of f from its start.
func readAll(f *os.File, size int64) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return data, nil
}

// stripGIF copies a GIF without the blocks that carry metadata: comments,
// plain-text extensions and every application extension but the
// animation loop count (NETSCAPE2.0 / ANIMEXTS1.0), which is where XMP
// hides. Image data is copied byte for byte. The block structure is
// checked on the way; at most maxGIFFrames frames are accepted.
func stripGIF(r io.Reader, w io.Writer, k Kind) error {
	br := bufio.NewReader(r)
	bw := bufio.NewWriter(w)
	hdr := make([]byte, 13)
	if _, err := io.ReadFull(br, hdr); err != nil || (string(hdr[:6]) != "GIF87a" && string(hdr[:6]) != "GIF89a") {
		return mismatch(k, "it does not start with a GIF header")
	}
	bw.Write(hdr)
	if hdr[10]&0x80 != 0 { // global colour table
		if err := copyN(br, bw, 3<<(hdr[10]&7+1), k); err != nil {
			return err
		}
	}
	frames := 0
	for {
		b, err := br.ReadByte()
		if err != nil {
			return mismatch(k, "it ends without a trailer")
		}
		switch b {
		case 0x3B: // trailer
			bw.WriteByte(b)
			return bw.Flush()
		case 0x2C: // image descriptor
			if frames++; frames > maxGIFFrames {
				return bindery.Errorf(bindery.EUNPROCESSABLE, "The GIF has more than %d frames.", maxGIFFrames)
			}
			desc := make([]byte, 9)
			if _, err := io.ReadFull(br, desc); err != nil {
				return mismatch(k, "an image descriptor is truncated")
			}
			bw.WriteByte(b)
			bw.Write(desc)
			if desc[8]&0x80 != 0 { // local colour table
				if err := copyN(br, bw, 3<<(desc[8]&7+1), k); err != nil {
					return err
				}
			}
			lzw, err := br.ReadByte()
			if err != nil {
				return mismatch(k, "an image is truncated")
			}
			bw.WriteByte(lzw)
			if err := subBlocks(br, bw, k); err != nil {
				return err
			}
		case 0x21: // extension
			label, err := br.ReadByte()
			if err != nil {
				return mismatch(k, "an extension is truncated")
			}
			keep := label == 0xF9 // graphic control: delays and transparency
			if label == 0xFF {
				first, err := br.Peek(12)
				if err != nil {
					return mismatch(k, "an extension is truncated")
				}
				keep = first[0] == 11 && (string(first[1:12]) == "NETSCAPE2.0" || string(first[1:12]) == "ANIMEXTS1.0")
			}
			out := io.Discard
			if keep {
				bw.WriteByte(b)
				bw.WriteByte(label)
				out = bw
			}
			if err := subBlocks(br, out, k); err != nil {
				return err
			}
		default:
			return mismatch(k, "it has a block of an unknown kind")
		}
	}
}

// maxGIFFrames bounds the frames of an animated GIF; outputs show only
// the first.
const maxGIFFrames = 10_000

// subBlocks copies GIF data sub-blocks (a length byte, then that many
// bytes) up to and including the empty block that ends them.
func subBlocks(br *bufio.Reader, w io.Writer, k Kind) error {
	for {
		n, err := br.ReadByte()
		if err != nil {
			return mismatch(k, "it ends inside a block")
		}
		if _, err := w.Write([]byte{n}); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if err := copyN(br, w, int(n), k); err != nil {
			return err
		}
	}
}

func copyN(r io.Reader, w io.Writer, n int, k Kind) error {
	if _, err := io.CopyN(w, r, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			return mismatch(k, "it ends inside a block")
		}
		return err
	}
	return nil
}

// checkEPUB checks the container of an uploaded EPUB: a zip whose first
// entry is an uncompressed "mimetype" holding application/epub+zip, whose
// entry names cannot escape a folder when unpacked ("zip slip": no
// absolute paths, no "..", no backslashes), with no symbolic links, and
// whose entry count and unpacked size are bounded (zip bombs). Nothing is
// unpacked here; the checks make it safe for whoever unpacks it later.
func checkEPUB(f *os.File, size int64, k Kind) error {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return mismatch(k, "it is not a zip archive")
	}
	if len(zr.File) == 0 || zr.File[0].Name != "mimetype" || zr.File[0].Method != zip.Store {
		return mismatch(k, `its first entry is not an uncompressed "mimetype"`)
	}
	if len(zr.File) > MaxEPUBEntries {
		return mismatch(k, fmt.Sprintf("it has more than %d entries", MaxEPUBEntries))
	}
	var total uint64
	for _, e := range zr.File {
		if e.Name == "" || strings.HasPrefix(e.Name, "/") || strings.ContainsRune(e.Name, '\\') ||
			strings.Contains(e.Name, ":") || hasDotDot(e.Name) {
			return mismatch(k, fmt.Sprintf("entry %q has an unsafe name", clip(e.Name)))
		}
		if e.Mode()&fs.ModeSymlink != 0 {
			return mismatch(k, fmt.Sprintf("entry %q is a symbolic link", clip(e.Name)))
		}
		total += e.UncompressedSize64
		if total > MaxEPUBUnpacked {
			return mismatch(k, "it unpacks to more than 1 GiB")
		}
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		return mismatch(k, "its mimetype entry cannot be read")
	}
	defer rc.Close()
	mt, err := io.ReadAll(io.LimitReader(rc, 64))
	if err != nil || string(mt) != epubMimetype {
		return mismatch(k, "its mimetype entry is not "+epubMimetype)
	}
	return nil
}

func hasDotDot(name string) bool {
	for _, p := range strings.Split(name, "/") {
		if p == ".." {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// errNUL and errUTF8 describe bad text.
var (
	errNUL  = errors.New("it contains a NUL byte")
	errUTF8 = errors.New("it is not valid UTF-8 text")
)

// checkText streams f and requires valid UTF-8 without NUL bytes.
func checkText(f *os.File, k Kind) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	buf := make([]byte, textValidateBuffer+utf8.UTFMax)
	carry := 0
	for {
		n, err := f.Read(buf[carry : carry+textValidateBuffer])
		chunk := buf[:carry+n]
		if bytes.IndexByte(chunk, 0) >= 0 {
			return mismatch(k, errNUL.Error())
		}
		// Keep an incomplete rune at the end for the next round.
		end := len(chunk)
		if err == nil {
			for i := 1; i < utf8.UTFMax && i <= end; i++ {
				if utf8.RuneStart(chunk[end-i]) {
					if !utf8.FullRune(chunk[end-i:]) {
						end -= i
					}
					break
				}
			}
		}
		if !utf8.Valid(chunk[:end]) {
			return mismatch(k, errUTF8.Error())
		}
		carry = copy(buf, chunk[end:])
		if err == io.EOF {
			if carry > 0 {
				return mismatch(k, errUTF8.Error())
			}
			return nil
		} else if err != nil {
			return err
		}
	}
}
