package fonts

import (
	"bytes"
	"testing"
)

func TestEveryStyleIsTrueType(t *testing.T) {
	for s := Regular; s < numStyles; s++ {
		data := TTF(s)
		if !bytes.HasPrefix(data, []byte{0, 1, 0, 0}) {
			t.Errorf("style %d: not a TrueType font (prefix % x)", s, data[:4])
		}
	}
}
