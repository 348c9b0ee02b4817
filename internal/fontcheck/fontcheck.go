// Package fontcheck decides whether a font file may be stored in a book
// and embedded in its outputs: it must parse as an OpenType/TrueType font
// (sfnt, TrueType or CFF outlines), and its licence flags (OS/2 fsType)
// must allow embedding. The same Check runs at upload (bookfs) and when a
// build loads the book's fonts, so both refuse the same files with the
// same message.
package fontcheck

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
)

// OS/2 fsType bits (OpenType specification, "OS/2 — fsType").
const (
	restrictedLicense = 0x0002 // must not be embedded, modified or exchanged
	bitmapOnly        = 0x0200 // only bitmaps may be embedded: no outlines
)

// MaxBytes is the largest font file accepted (the PDF renderer's limit).
const MaxBytes = 16 << 20

// Check returns nil for a font Bindery may embed, else an error whose
// text says why, for the author.
func Check(data []byte) (err error) {
	defer func() {
		// The parser is written for well-formed fonts; a hostile file must
		// not take the server down with it.
		if r := recover(); r != nil {
			err = fmt.Errorf("it is not a font Bindery can read")
		}
	}()
	if len(data) > MaxBytes {
		return fmt.Errorf("font files may be at most %d MiB", MaxBytes>>20)
	}
	if len(data) < 12 {
		return fmt.Errorf("it is too short to be a font")
	}
	switch string(data[:4]) {
	case "\x00\x01\x00\x00", "OTTO", "true":
	case "ttcf":
		return fmt.Errorf("font collections (.ttc) are not supported: give each face its own .ttf or .otf file")
	case "wOFF", "wOF2":
		return fmt.Errorf("web fonts (WOFF) are not supported: give the .ttf or .otf file")
	default:
		return fmt.Errorf("it is not a TrueType or OpenType font")
	}
	ld, err := ot.NewLoader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("it is not a font Bindery can read (%v)", err)
	}
	if _, err := font.NewFont(ld); err != nil {
		return fmt.Errorf("it is not a font Bindery can read (%v)", err)
	}
	return licence(ld)
}

// Licence checks only the embedding flags of a font that parses (the PDF
// renderer parses it itself, with messages of its own); it refuses what
// Check would refuse for its licence, with the same words.
func Licence(data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("it is not a font Bindery can read")
		}
	}()
	ld, err := ot.NewLoader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("it is not a font Bindery can read (%v)", err)
	}
	return licence(ld)
}

func licence(ld *ot.Loader) error {
	os2, err := ld.RawTable(ot.MustNewTag("OS/2"))
	if err != nil || len(os2) < 10 {
		// Old Mac TrueType fonts have no OS/2 table and no restriction.
		return nil
	}
	fsType := binary.BigEndian.Uint16(os2[8:])
	switch {
	case fsType&0x000F == restrictedLicense:
		return fmt.Errorf("its licence forbids embedding it in documents (OS/2 fsType %#04x, restricted licence); choose a font whose licence allows embedding", fsType)
	case fsType&bitmapOnly != 0:
		return fmt.Errorf("its licence allows embedding bitmaps only (OS/2 fsType %#04x); choose a font whose licence allows embedding outlines", fsType)
	}
	return nil
}
