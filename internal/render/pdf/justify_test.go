package pdf

import "testing"

// TestCorpusJustification measures the colour of Frankenstein's body text:
// no line may be overfull, and hyphens, doubled hyphens and loose or tight
// word spaces stay rare. The bounds are about 1.5 times what the current
// settings give (see hyphenPenalty), so they catch a regression, not noise.
func TestCorpusJustification(t *testing.T) {
	b := corpusBook(t)
	d, err := layout(b, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines, hyph, double, loose, tight, over int
	prev := false
	for _, p := range d.pages {
		for _, pl := range p.boxes {
			// Body paragraphs only: one line of body size per box.
			if len(pl.b.lines) != 1 || pl.b.lines[0].size != d.g.size || len(pl.b.lines[0].ln.runs) == 0 {
				continue
			}
			ln := pl.b.lines[0].ln
			lines++
			if ln.hyphenated {
				hyph++
				if prev {
					double++
				}
			}
			prev = ln.hyphenated
			// Word space in ems, from the line's adjustment ratio.
			sp := float64(d.sh.faces[0].space.adv)
			if ln.ratio >= 0 {
				sp *= 1 + ln.ratio*spaceStretch
			} else {
				sp *= 1 + ln.ratio*spaceShrink
			}
			switch {
			case ln.overfull:
				over++
			case sp > 0.5:
				loose++
			case sp < 0.2:
				tight++
			}
		}
	}
	pct := func(n int) float64 { return 100 * float64(n) / float64(lines) }
	t.Logf("%d lines: %.1f%% hyphenated, %.2f%% after a hyphenated line, %.1f%% spaces over 0.5 em, %.1f%% under 0.2 em, %d overfull",
		lines, pct(hyph), pct(double), pct(loose), pct(tight), over)
	for _, c := range []struct {
		what      string
		got, most float64
	}{
		{"overfull lines", float64(over), 0},
		{"% hyphenated lines", pct(hyph), 11},
		{"% hyphenated lines after a hyphenated line", pct(double), 0.75},
		{"% lines with spaces over 0.5 em", pct(loose), 1},
		{"% lines with spaces under 0.2 em", pct(tight), 4.5},
	} {
		if c.got > c.most {
			t.Errorf("%s: %.2f, want at most %v", c.what, c.got, c.most)
		}
	}
}
