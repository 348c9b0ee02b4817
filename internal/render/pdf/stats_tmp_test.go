package pdf

import (
	"testing"
)

func TestTmpStats(t *testing.T) { tmpStats(t, corpusBook(t)) }

func tmpStats(t *testing.T, b *Book) {
	d, err := layout(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lines, hy, dbl, loose, vloose, tight, over int
	prevHy := false
	for _, p := range d.pages {
		if p.kind != pageBody && p.kind != pageOpening {
			continue
		}
		for _, pl := range p.boxes {
			for _, bl := range pl.b.lines {
				ln := bl.ln
				if len(ln.runs) == 0 || bl.size != d.g.size || len(pl.b.lines) != 1 {
					continue
				}
				lines++
				if ln.hyphenated {
					hy++
					if prevHy {
						dbl++
					}
				}
				prevHy = ln.hyphenated
				sw := float64(d.sh.faces[0].space.adv)
				sp := sw * (1 + ln.ratio*tmpStretch)
				if ln.ratio < 0 {
					sp = sw * (1 + ln.ratio*tmpShrink)
				}
				switch {
				case ln.overfull:
					over++
				case sp > 0.55:
					vloose++
				case sp > 0.45:
					loose++
				case sp < 0.2:
					tight++
				}
			}
		}
	}
	t.Logf("pages %d, lines %d, hyphenated %d (%.1f%%), consecutive %d, space>0.45em %d, >0.55em %d, <0.2em %d, overfull %d",
		len(d.pages), lines, hy, 100*float64(hy)/float64(lines), dbl, loose, vloose, tight, over)
}
