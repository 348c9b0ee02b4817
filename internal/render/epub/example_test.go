package epub_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/epub"
)

func ExampleWrite() {
	root, err := os.OpenRoot("../../../examples/lighthouse")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer root.Close() // after Write: the manuscript reads images through root
	m, err := manuscript.Load(root)
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := epub.Write(context.Background(), &buf, m, epub.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	for _, f := range zr.File {
		fmt.Println(f.Name)
	}
	// Output:
	// mimetype
	// META-INF/container.xml
	// EPUB/package.opf
	// EPUB/nav.xhtml
	// EPUB/toc.ncx
	// EPUB/cover.xhtml
	// EPUB/titlepage.xhtml
	// EPUB/css/style.css
	// EPUB/css/book.css
	// EPUB/images/88c83668-chart.png
	// EPUB/images/a53a6558-lamp.png
	// EPUB/images/e6a4e814-cover.jpg
	// EPUB/ch01-the-lamp.xhtml
	// EPUB/ch02-the-storm.xhtml
	// EPUB/ch03-the-ledger.xhtml
	// EPUB/ch04-morning.xhtml
}
