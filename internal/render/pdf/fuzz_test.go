package pdf

import (
	"testing"
)

// FuzzLayout feeds arbitrary Markdown through parsing, shaping, line
// breaking and pagination: it must not panic, and no line may leave the
// text block (tables excepted: a table with more columns than fit is
// allowed to be cramped, not to crash).
func FuzzLayout(f *testing.F) {
	f.Add([]byte(allBlocks))
	f.Add([]byte("# Title\n\nsupercalifragilisticexpialidocioussupercalifragilisticexpialidocious word\n\n" +
		"https://example.com/a/very/long/url/that/cannot/be/hyphenated/anywhere/at/all/ever"))
	f.Add([]byte("> > > deeply\n> > > nested\n\n- - - list\n\n    code\tline\n\n***\n\n|a|\n|-|\n|b|"))
	f.Add([]byte("Ελληνικά — Русский — “quotes” — 17\u2060—. hard  \nbreak\\\nbreak"))
	f.Fuzz(func(t *testing.T, md []byte) {
		if len(md) > 4000 {
			return
		}
		b := &Book{Title: "Fuzz", Chapters: []Chapter{{Markdown: md}}}
		d, err := layout(b, Options{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range d.pages {
			for _, pl := range p.boxes {
				if pl.b.table {
					continue
				}
				for _, bl := range pl.b.lines {
					for _, r := range bl.ln.runs {
						x0, x1, _, _ := runBox(pl, bl, r)
						if x0 < -eps || x1 > d.g.width+eps {
							t.Fatalf("page %d: run %q at x %.2f–%.2f outside the block (width %.2f)", i+1, runText(r), x0, x1, d.g.width)
						}
					}
				}
			}
		}
	})
}
