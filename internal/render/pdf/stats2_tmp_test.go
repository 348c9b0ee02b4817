package pdf

import (
	"fmt"
	"testing"
)

func TestTmpSweep(t *testing.T) {
	for _, c := range []struct{ hp, st, sh, tol, size float64 }{
		{100, 0.6, 0.3, 400, 11},
		{200, 0.6, 0.4, 400, 11},
		{200, 0.7, 0.4, 400, 11},
		{200, 0.8, 0.4, 400, 11},
		{300, 0.8, 0.4, 400, 11},
		{200, 0.7, 0.4, 400, 10.5},
		{300, 0.7, 0.4, 400, 10.5},
	} {
		hyphenPenalty, tmpStretch, tmpShrink = c.hp, c.st, c.sh
		tmpParams.Tolerance = c.tol
		b := corpusBook(t)
		b.FontSize = c.size
		t.Run(fmt.Sprint(c), func(t *testing.T) { tmpStats(t, b) })
	}
}
