package pdf

// placed is a vbox on a page, its top y points below the text block's top.
type placed struct {
	b *vbox
	y float64
}

// paginate fills pages of height h with boxes, first-fit, breaking only
// before boxes that allow it (widows, orphans and headings are guarded by
// noBreakBefore). Discardable spaces vanish at the top and the foot of a
// page. The first box of a page is lowered so its ink (asc) stays in the
// block. A page that cannot be broken legally is broken where it
// overflows; a single box taller than the page is placed alone.
func paginate(boxes []*vbox, h float64) [][]placed {
	var pages [][]placed
	i, n := 0, len(boxes)
	for {
		for i < n && boxes[i].space {
			i++
		}
		if i == n {
			break
		}
		start, y, lastOK := i, 0.0, -1
		for i < n {
			b := boxes[i]
			top := y
			if i == start {
				top += max(0, b.asc-b.h)
			}
			if i > start && !b.noBreakBefore {
				lastOK = i
			}
			if i > start && top+b.h+b.d > h+1e-6 {
				break
			}
			y = top + b.h + b.d
			i++
		}
		end := i
		if i < n && lastOK > start {
			end = lastOK
		}
		var pg []placed
		y = 0
		for k := start; k < end; k++ {
			b := boxes[k]
			if k == start {
				y += max(0, b.asc-b.h)
			}
			pg = append(pg, placed{b: b, y: y})
			y += b.h + b.d
		}
		for len(pg) > 0 && pg[len(pg)-1].b.space {
			pg = pg[:len(pg)-1]
		}
		pages = append(pages, pg)
		i = end
	}
	return pages
}
