package linebreak

import "testing"

// FuzzBreaks checks that a paragraph whose every box fits the measure and
// may break between any two boxes never gets an overfull line.
func FuzzBreaks(f *testing.F) {
	f.Add([]byte("hello world, this is a paragraph"), uint8(12))
	f.Add([]byte{1, 2, 3, 200, 4, 5}, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, m uint8) {
		measure := float64(m%60) + 4
		var items []Item
		for i, c := range data {
			w := float64(c%16) + 0.5
			if w > measure {
				w = measure
			}
			if i > 0 {
				switch c % 3 {
				case 0:
					items = append(items, Item{Kind: Glue, Width: 1, Stretch: 0.5, Shrink: 0.3})
				case 1:
					items = append(items, Item{Kind: Penalty, Width: 0.5, Penalty: float64(c % 100), Flagged: c%2 == 0})
				default:
					items = append(items, Item{Kind: Penalty, Penalty: 0})
				}
			}
			items = append(items, Item{Kind: Box, Width: w})
		}
		if len(items) == 0 {
			return
		}
		items = append(items, Item{Kind: Glue, Stretch: 1e6}, Item{Kind: Penalty, Penalty: -Infinity})
		breaks := Breaks(items, fixed(measure), DefaultParams)
		prev := -1
		for i, w := range lineWidths(items, breaks) {
			if breaks[i].Position <= prev {
				t.Fatalf("breaks not increasing: %v", breaks)
			}
			prev = breaks[i].Position
			// A flagged penalty adds its width; a box of the full measure
			// followed by a hyphen cannot fit, so allow it only then.
			if w > measure+1e-6 && !(items[breaks[i].Position].Kind == Penalty && items[breaks[i].Position].Width > 0) {
				t.Fatalf("line %d width %v > measure %v", i, w, measure)
			}
		}
		if breaks[len(breaks)-1].Position != len(items)-1 {
			t.Fatalf("last break %d, want %d", breaks[len(breaks)-1].Position, len(items)-1)
		}
	})
}
