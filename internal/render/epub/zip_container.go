package epub

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"hash/crc32"
	"io"
)

// entry is one file of the container, compressed ahead of writing so that
// compression can run on several cores.
type entry struct {
	name   string
	method uint16
	crc    uint32
	size   uint64
	data   []byte // compressed with method
}

// dosEpoch is 1980-01-01 00:00:00 in MS-DOS date format: the fixed time of
// every entry, for reproducible files.
const dosEpochDate = 1<<5 | 1

// newEntry prepares data for the container. Images are stored as they are
// (JPEG, PNG, GIF and WebP are compressed already); everything else is deflated.
func newEntry(name string, data []byte, store bool) (entry, error) {
	e := entry{name: name, method: zip.Store, crc: crc32.ChecksumIEEE(data), size: uint64(len(data)), data: data}
	if store {
		return e, nil
	}
	var b bytes.Buffer
	b.Grow(len(data) / 3)
	fw, err := flate.NewWriter(&b, flate.BestSpeed)
	if err != nil {
		return e, err
	}
	if _, err := fw.Write(data); err != nil {
		return e, err
	}
	if err := fw.Close(); err != nil {
		return e, err
	}
	e.method, e.data = zip.Deflate, b.Bytes()
	return e, nil
}

// writeContainer writes the entries in order as a zip file. The first must
// be the mimetype, stored, as OCF requires. CreateRaw writes no data
// descriptor and no extra field (epubcheck rejects an extra field on the
// mimetype entry), and the header time is set directly, never from a clock.
func writeContainer(w io.Writer, entries []entry) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		fw, err := zw.CreateRaw(&zip.FileHeader{
			Name:               e.name,
			Method:             e.method,
			CRC32:              e.crc,
			CompressedSize64:   uint64(len(e.data)),
			UncompressedSize64: e.size,
			//lint:ignore SA1019 the legacy field keeps zip from writing an extended-timestamp extra field, so EPUBs stay byte-identical
			ModifiedDate: dosEpochDate,
		})
		if err != nil {
			return err
		}
		if _, err := fw.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
