package pdfwrite_test

import (
	"fmt"

	"github.com/bindery/bindery/internal/render/pdf/pdfwrite"
)

func ExampleNum() {
	fmt.Println(pdfwrite.Num(432), pdfwrite.Num(0.125), pdfwrite.Num(-1.5000001))
	// Output: 432 0.125 -1.5
}

func ExampleText() {
	fmt.Println(pdfwrite.Text("Frankenstein"))
	fmt.Println(pdfwrite.Text("Café"))
	// Output:
	// (Frankenstein)
	// <FEFF00430061006600E9>
}
