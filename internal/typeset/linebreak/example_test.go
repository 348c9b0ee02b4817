package linebreak_test

import (
	"fmt"
	"strings"

	"github.com/bindery/bindery/internal/typeset/linebreak"
)

// Words of unit-width letters, set in a measure of 12.
func ExampleBreaks() {
	var items []linebreak.Item
	ws := strings.Fields("the quick brown fox jumps over the lazy dog")
	for i, w := range ws {
		if i > 0 {
			items = append(items, linebreak.Item{Kind: linebreak.Glue, Width: 1, Stretch: 1, Shrink: 0.5})
		}
		items = append(items, linebreak.Item{Kind: linebreak.Box, Width: float64(len(w))})
	}
	items = append(items,
		linebreak.Item{Kind: linebreak.Penalty, Penalty: linebreak.Infinity},
		linebreak.Item{Kind: linebreak.Glue, Stretch: 1e6},
		linebreak.Item{Kind: linebreak.Penalty, Penalty: -linebreak.Infinity})
	start := 0
	for _, b := range linebreak.Breaks(items, func(int) float64 { return 12 }, linebreak.DefaultParams) {
		var line []string
		for i := start; i < b.Position; i++ {
			if items[i].Kind == linebreak.Box {
				line = append(line, ws[i/2])
			}
		}
		fmt.Printf("%-16s ratio %.2f\n", strings.Join(line, " "), b.Ratio)
		start = b.Position + 1
	}
	// Output:
	// the quick        ratio 3.00
	// brown fox        ratio 3.00
	// jumps over       ratio 2.00
	// the lazy dog     ratio 0.00
}
