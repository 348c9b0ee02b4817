package fontcheck_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/fontcheck"
	"github.com/bindery/bindery/internal/render/pdf/fonts"
)

// withFsType returns a copy of the sfnt font data with its OS/2 fsType
// set to v (the table directory is walked to find OS/2).
func withFsType(t *testing.T, data []byte, v uint16) []byte {
	t.Helper()
	out := append([]byte(nil), data...)
	n := int(binary.BigEndian.Uint16(out[4:]))
	for i := 0; i < n; i++ {
		rec := out[12+16*i:]
		if string(rec[:4]) == "OS/2" {
			off := binary.BigEndian.Uint32(rec[8:])
			binary.BigEndian.PutUint16(out[off+8:], v)
			return out
		}
	}
	t.Fatal("no OS/2 table")
	return nil
}

func TestCheck(t *testing.T) {
	noto := fonts.TTF(fonts.Regular)
	if err := fontcheck.Check(noto); err != nil {
		t.Fatalf("Noto Serif refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string // "" = accepted
	}{
		{"installable (0)", withFsType(t, noto, 0), ""},
		{"preview and print (4)", withFsType(t, noto, 4), ""},
		{"editable (8)", withFsType(t, noto, 8), ""},
		{"restricted licence (2)", withFsType(t, noto, 2), "licence forbids embedding"},
		{"restricted, no subsetting (0x102)", withFsType(t, noto, 0x102), "licence forbids embedding"},
		{"bitmap embedding only (0x208)", withFsType(t, noto, 0x208), "embedding bitmaps only"},
		{"collection", append([]byte("ttcf"), noto[4:]...), "collections (.ttc)"},
		{"WOFF", append([]byte("wOFF"), noto[4:]...), "WOFF"},
		{"a PNG renamed", []byte("\x89PNG\r\n\x1a\n0000000000000000"), "not a TrueType or OpenType font"},
		{"short", []byte("OTTO"), "too short"},
		{"truncated", noto[:len(noto)/3], "not a font Bindery can read"},
		{"a table directory pointing past the end", append(append([]byte(nil), noto[:12]...), make([]byte, 64)...), "not a font Bindery can read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fontcheck.Check(tc.data)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// FuzzCheck: no font file, however broken, panics the checker.
func FuzzCheck(f *testing.F) {
	noto := fonts.TTF(fonts.Regular)
	f.Add(noto[:4096])
	f.Add([]byte("OTTO\x00\x01\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("true\x00\x01\x00\x00\x00\x00\x00\x00OS/2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = fontcheck.Check(data)
	})
}
