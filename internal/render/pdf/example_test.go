package pdf_test

import (
	"bytes"
	"fmt"

	"github.com/bindery/bindery/internal/render/pdf"
)

func ExampleRender() {
	b := &pdf.Book{
		Title:   "A Short Book",
		Authors: []string{"A. Writer"},
		Chapters: []pdf.Chapter{
			{Title: "One", Markdown: []byte("It was a *dark* and stormy night.")},
			{Title: "Two", Markdown: []byte("Back to [chapter one](chapter-1.md).")},
		},
	}
	var out bytes.Buffer
	if err := pdf.Render(&out, b, pdf.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Bytes()[:8]))
	// Output: %PDF-1.7
}

func ExamplePageSizeOf() {
	w, h, _ := pdf.PageSizeOf("6x9")
	fmt.Println(w, h)
	w, h, _ = pdf.PageSizeOf("5.5x8.5")
	fmt.Println(w, h)
	// Output:
	// 432 648
	// 396 612
}
