package bookfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// FuzzStripWebP feeds the RIFF rewriter hostile containers (seeds: the
// files of testdata/webp and the corpus in testdata/fuzz/FuzzStripWebP).
// It must never panic, and what it writes must be a well-formed container
// of VP8X, ALPH and one image chunk only, with the metadata flags clear, a
// RIFF size that matches, no longer than the input (plus a pad byte), and
// unchanged by a second pass.
func FuzzStripWebP(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "webp", "*.webp"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		if err := stripWebP(bytes.NewReader(in), int64(len(in)), &out); err != nil {
			return
		}
		got := out.Bytes()
		if len(got) > len(in)+1 {
			t.Fatalf("output of %d bytes for an input of %d", len(got), len(in))
		}
		if len(got) < 12 || int(binary.LittleEndian.Uint32(got[4:8])) != len(got)-8 {
			t.Fatalf("RIFF size does not match the output")
		}
		images := 0
		for off := 12; off < len(got); {
			if off+8 > len(got) {
				t.Fatalf("truncated chunk header at %d", off)
			}
			id := string(got[off : off+4])
			n := int(binary.LittleEndian.Uint32(got[off+4:]))
			switch id {
			case "VP8X":
				if off != 12 || n != 10 || got[off+8]&^webpFlagAlpha != 0 {
					t.Fatalf("VP8X misplaced or with flags %#x", got[off+8])
				}
			case "ALPH":
			case "VP8 ", "VP8L":
				images++
			default:
				t.Fatalf("chunk %q kept", id)
			}
			off += 8 + n + n%2
			if off > len(got) {
				t.Fatalf("chunk %q overruns the output", id)
			}
		}
		if images != 1 {
			t.Fatalf("%d image chunks", images)
		}
		var again bytes.Buffer
		if err := stripWebP(bytes.NewReader(got), int64(len(got)), &again); err != nil || !bytes.Equal(again.Bytes(), got) {
			t.Fatalf("a second pass changes the output or fails: %v", err)
		}
	})
}
