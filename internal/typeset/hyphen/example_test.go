package hyphen_test

import (
	"fmt"

	"github.com/bindery/bindery/internal/typeset/hyphen"
)

func ExampleHyphenator_Hyphenate() {
	h := hyphen.English()
	fmt.Println(h.Hyphenate("hyphenation", "-"))
	fmt.Println(h.Points("table"))
	// Output:
	// hy-phen-ation
	// [2]
}
