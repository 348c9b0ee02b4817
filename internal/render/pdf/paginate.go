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
//
// Footnotes: the notes a box refers to (vbox.notes) are set at the foot
// of the box's page, under sep, in the order of their references. A note
// that does not fit whole is split after its first two lines at least
// (a box is moved to the next page rather than leave less of its note),
// and the rest continues at the foot of the next pages, before their own
// notes. sep may be nil when no box has notes.
func paginate(boxes []*vbox, h float64, sep *vbox) [][]placed {
	return paginateAvoiding(boxes, h, sep, nil)
}

// paginateAvoiding is paginate with more breaks forbidden: no page breaks
// before boxes[k] when avoid[k] (see paginateFlush), as if the box had
// noBreakBefore. avoid may be nil.
func paginateAvoiding(boxes []*vbox, h float64, sep *vbox, avoid map[int]bool) [][]placed {
	var pages [][]placed
	var carry []*vbox // note boxes continued from earlier pages
	sepH := 0.0
	if sep != nil {
		sepH = sep.h + sep.d
	}
	i, n := 0, len(boxes)
	for {
		for i < n && boxes[i].space {
			i++
		}
		carry = trimSpaces(carry)
		if i == n && len(carry) == 0 {
			break
		}
		// Carried note boxes come first, up to half the page but at
		// least one, so the carry drains whatever the boxes are.
		var foot []*vbox
		footH := 0.0
		for len(carry) > 0 && (len(foot) == 0 || footH+carry[0].h+carry[0].d <= h/2) {
			foot = append(foot, carry[0])
			footH += carry[0].h + carry[0].d
			carry = carry[1:]
		}
		carryLeft := len(carry) > 0 // then no new note starts on this page
		if len(foot) > 0 {
			footH += sepH
		}

		start, y, lastOK := i, 0.0, -1
		notesH := 0.0 // full height of the notes of boxes start..i-1
		split := false
		for i < n {
			b := boxes[i]
			top := y
			if i == start {
				top += max(0, b.asc-b.h)
			}
			if i > start && !b.noBreakBefore && !avoid[i] {
				lastOK = i
			}
			// The foot this box needs: earlier notes whole, its own
			// notes whole but the last, of which two lines will do.
			need, full := notesH, notesH
			if len(b.notes) > 0 {
				if carryLeft && i > start {
					break
				}
				if len(foot) == 0 && notesH == 0 {
					need, full = sepH, sepH
				}
				for k, nt := range b.notes {
					full += height(nt)
					if k < len(b.notes)-1 {
						need += height(nt)
					} else {
						need += height(nt[:min(2, len(nt))])
					}
				}
			}
			if i > start && top+b.h+b.d+footH+need > h+1e-6 {
				break
			}
			y = top + b.h + b.d
			notesH = full
			i++
			if top+b.h+b.d+footH+full > h+1e-6 {
				split = true // the last note continues overleaf: nothing may come between
				break
			}
		}
		end := i
		if i < n && lastOK > start && (!split || boxes[i].noBreakBefore || avoid[i]) {
			end = lastOK
		}

		var pg []placed
		var notes []*vbox
		y = 0
		for k := start; k < end; k++ {
			b := boxes[k]
			if k == start {
				y += max(0, b.asc-b.h)
			}
			pg = append(pg, placed{b: b, y: y})
			y += b.h + b.d
			for _, nt := range b.notes {
				notes = append(notes, nt...)
			}
		}
		for len(pg) > 0 && pg[len(pg)-1].b.space {
			pg = pg[:len(pg)-1]
		}
		// The carried boxes stay; new notes fill the room left, and what
		// does not fit waits, after the carry still waiting.
		if len(notes) > 0 && !carryLeft {
			bodyH := 0.0
			if len(pg) > 0 {
				last := pg[len(pg)-1]
				bodyH = last.y + last.b.h + last.b.d
			}
			room := h - bodyH - max(footH, sepH)
			notes = trimSpaces(notes)
			k, nh := 0, 0.0
			for k < len(notes) && nh+notes[k].h+notes[k].d <= room+1e-6 {
				nh += notes[k].h + notes[k].d
				k++
			}
			for k > 0 && notes[k-1].space {
				k--
			}
			foot = append(foot, notes[:k]...)
			notes = notes[k:]
		}
		carry = append(carry, notes...)
		for len(foot) > 0 && foot[len(foot)-1].space {
			foot = foot[:len(foot)-1]
		}
		if len(foot) > 0 && sep != nil {
			fy := h - height(foot)
			pg = append(pg, placed{b: sep, y: fy - sepH})
			for _, fb := range foot {
				pg = append(pg, placed{b: fb, y: fy})
				fy += fb.h + fb.d
			}
		}
		pages = append(pages, pg)
		i = end
	}
	return pages
}

// trimSpaces drops discardable spaces at the start of boxes.
func trimSpaces(boxes []*vbox) []*vbox {
	for len(boxes) > 0 && boxes[0].space {
		boxes = boxes[1:]
	}
	return boxes
}
