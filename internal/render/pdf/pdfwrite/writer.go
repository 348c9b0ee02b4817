// Package pdfwrite writes PDF 1.7 files object by object: numbered
// objects, (flate-compressed) streams, objects packed into compressed
// object streams, the cross-reference table (or stream) and the
// trailer. It also embeds subset TrueType fonts (font.go) and images
// (image.go).
//
// The Writer streams to its io.Writer as objects are added; only the byte
// offsets of objects are kept in memory. Output is deterministic: the same
// calls produce the same bytes.
package pdfwrite

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Ref is the number of an indirect object; generation is always 0.
type Ref int

// String returns the reference as written inside objects ("12 0 R").
func (r Ref) String() string { return strconv.Itoa(int(r)) + " 0 R" }

// Writer writes one PDF file. The first write error is kept and returned
// by Close; later calls are no-ops.
type Writer struct {
	bw      *bufio.Writer
	n       int64
	offsets []int64 // by object number; 0 = not written yet
	err     error
	zbuf    bytes.Buffer
	zw      *zlib.Writer
	fonts   []*Font
	stop    func() error // nil: never stops

	// Objects written with Packed, waiting for their object stream,
	// and where each packed object ended up.
	pack   objStm
	packed map[Ref]packedAt
}

// objStm is an object stream being filled: its objects' numbers and
// offsets in body.
type objStm struct {
	refs []Ref
	offs []int
	body bytes.Buffer
}

// packedAt is an object's place in an object stream.
type packedAt struct {
	stm Ref
	idx int
}

// objStmSize is how many objects an object stream holds: a reader
// decompresses a whole stream to get one of them.
const objStmSize = 200

// Packed writes object ref with the given body, as Object does, but
// inside a compressed object stream (PDF 1.5): small dictionaries by the
// thousand (a structure tree) then cost a few bytes each instead of tens.
// The body must not be a stream, nor the catalog, info or a page's
// content; the file then ends with a cross-reference stream.
func (w *Writer) Packed(ref Ref, body string) {
	if w.packed == nil {
		w.packed = map[Ref]packedAt{}
	}
	w.offsets[ref] = -1 // written, in a stream
	w.packed[ref] = packedAt{idx: len(w.pack.refs)}
	w.pack.refs = append(w.pack.refs, ref)
	w.pack.offs = append(w.pack.offs, w.pack.body.Len())
	w.pack.body.WriteString(body)
	w.pack.body.WriteByte('\n')
	if len(w.pack.refs) == objStmSize {
		w.flushPacked()
	}
}

// flushPacked writes the object stream being filled, if any.
func (w *Writer) flushPacked() {
	if len(w.pack.refs) == 0 {
		return
	}
	stm := w.Alloc()
	var head []byte
	for i, r := range w.pack.refs {
		head = strconv.AppendInt(head, int64(r), 10)
		head = append(head, ' ')
		head = strconv.AppendInt(head, int64(w.pack.offs[i]), 10)
		head = append(head, ' ')
		w.packed[r] = packedAt{stm: stm, idx: i}
	}
	data := append(head, w.pack.body.Bytes()...)
	w.Stream(stm, fmt.Sprintf("/Type /ObjStm /N %d /First %d", len(w.pack.refs), len(head)), data, true)
	w.pack.refs, w.pack.offs = w.pack.refs[:0], w.pack.offs[:0]
	w.pack.body.Reset()
}

// SetStop makes long work — compressing a stream, converting an image —
// ask stop between chunks whether to give up; its error then becomes the
// Writer's (returned by Close, Image).
func (w *Writer) SetStop(stop func() error) { w.stop = stop }

// stopped records and reports stop's error.
func (w *Writer) stopped() bool {
	if w.err == nil && w.stop != nil {
		w.err = w.stop()
	}
	return w.err != nil
}

// compressChunk is how much of a stream is compressed between two looks
// at stop: a few milliseconds of work.
const compressChunk = 256 << 10

// New starts a PDF 1.7 file on w.
func New(w io.Writer) *Writer {
	pw := &Writer{bw: bufio.NewWriterSize(w, 64<<10), offsets: []int64{0}}
	pw.zw, _ = zlib.NewWriterLevel(&pw.zbuf, zlib.DefaultCompression)
	pw.writeString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return pw
}

func (w *Writer) writeString(s string) {
	if w.err != nil {
		return
	}
	n, err := w.bw.WriteString(s)
	w.n += int64(n)
	w.err = err
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.bw.Write(b)
	w.n += int64(n)
	w.err = err
}

// Alloc reserves an object number, to be written later with Object or
// Stream (objects may refer to each other before being written).
func (w *Writer) Alloc() Ref {
	w.offsets = append(w.offsets, 0)
	return Ref(len(w.offsets) - 1)
}

// Object writes object ref with the given body (a PDF value, e.g.
// "<< /Type /Catalog >>").
func (w *Writer) Object(ref Ref, body string) {
	w.offsets[ref] = w.n
	w.writeString(strconv.Itoa(int(ref)) + " 0 obj\n")
	w.writeString(body)
	w.writeString("\nendobj\n")
}

// Stream writes object ref as a stream. dict holds the dictionary entries
// without the << >> delimiters and without /Length and /Filter, which
// Stream adds. With compress, data is deflated (/FlateDecode).
func (w *Writer) Stream(ref Ref, dict string, data []byte, compress bool) {
	if compress {
		w.zbuf.Reset()
		w.zw.Reset(&w.zbuf)
		for rest := data; len(rest) > 0; {
			if w.stopped() {
				return
			}
			n := min(len(rest), compressChunk)
			w.zw.Write(rest[:n])
			rest = rest[n:]
		}
		w.zw.Close()
		data = w.zbuf.Bytes()
		dict += " /Filter /FlateDecode"
	}
	w.offsets[ref] = w.n
	w.writeString(fmt.Sprintf("%d 0 obj\n<< %s /Length %d >>\nstream\n", ref, strings.TrimSpace(dict), len(data)))
	w.write(data)
	w.writeString("\nendstream\nendobj\n")
}

// Close embeds the fonts created with NewFont, writes the cross-reference
// table and trailer (with root, info and the file identifier id) and
// flushes. Every allocated object must have been written.
func (w *Writer) Close(root, info Ref, id []byte) error {
	for _, f := range w.fonts {
		f.embed(w)
	}
	w.flushPacked()
	for i, off := range w.offsets[1:] {
		if off == 0 && w.err == nil {
			w.err = fmt.Errorf("pdfwrite: object %d allocated but never written", i+1)
		}
	}
	if w.packed != nil {
		return w.closeXRefStream(root, info, id)
	}
	xref := w.n
	var b strings.Builder
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(w.offsets))
	for _, off := range w.offsets[1:] {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	hexID := fmt.Sprintf("<%X>", id)
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %s /Info %s /ID [%s %s] >>\nstartxref\n%d\n%%%%EOF\n",
		len(w.offsets), root, info, hexID, hexID, xref)
	w.writeString(b.String())
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}

// closeXRefStream ends a file that has object streams with a
// cross-reference stream: entries of 1 + 4 + 2 bytes (type; offset or
// object stream; 0 or index in it).
func (w *Writer) closeXRefStream(root, info Ref, id []byte) error {
	xref := w.Alloc()
	w.offsets[xref] = w.n
	if w.n > math.MaxUint32 && w.err == nil {
		w.err = fmt.Errorf("pdfwrite: %d bytes is too large a file for 4-byte offsets", w.n)
	}
	data := make([]byte, 0, 7*len(w.offsets))
	for i, off := range w.offsets {
		switch p, ok := w.packed[Ref(i)]; {
		case i == 0:
			data = append(data, 0, 0, 0, 0, 0, 0xff, 0xff)
		case ok:
			data = append(data, 2)
			data = binary.BigEndian.AppendUint32(data, uint32(p.stm)) // #nosec G115 -- an object number: far fewer than 2³² objects fit in a file below 4 GiB (checked above)
			data = binary.BigEndian.AppendUint16(data, uint16(p.idx)) // #nosec G115 -- an index in an object stream, below objStmSize
		default:
			data = append(data, 1)
			data = binary.BigEndian.AppendUint32(data, uint32(off)) // #nosec G115 -- an offset in the file, checked above to fit 4 bytes
			data = append(data, 0, 0)
		}
	}
	hexID := fmt.Sprintf("<%X>", id)
	start := w.n
	w.Stream(xref, fmt.Sprintf("/Type /XRef /Size %d /W [1 4 2] /Root %s /Info %s /ID [%s %s]", len(w.offsets), root, info, hexID, hexID), data, true)
	w.writeString(fmt.Sprintf("startxref\n%d\n%%%%EOF\n", start))
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}

// Num formats a number for a PDF file: at most three decimals, no
// exponent, no trailing zeros ("12", "0.5", "-3.125").
func Num(f float64) string {
	s := strconv.FormatFloat(f, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// AppendNum appends Num(f) to b without allocating a string.
func AppendNum(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'f', 3, 64)
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if s := string(b[start:]); s == "-0" {
		b = append(b[:start], '0')
	}
	return b
}

// Text encodes s as a PDF text string: a literal string in
// PDFDocEncoding when s is printable ASCII, else UTF-16BE with a byte
// order mark, as a hex string.
func Text(s string) string {
	ascii := true
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
		return "(" + r.Replace(s) + ")"
	}
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// Name encodes s as a PDF name ("/Name"), escaping delimiters,
// whitespace and non-ASCII bytes as #xx.
func Name(s string) string {
	var b strings.Builder
	b.WriteByte('/')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > '~' || strings.IndexByte("#()<>[]{}/%", c) >= 0 {
			fmt.Fprintf(&b, "#%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
