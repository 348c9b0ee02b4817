// Command pdfbench renders a book folder's chapters to a PDF, for timing
// the renderer as a whole process (bench/pdf.sh). It reads
// DIR/chapters/*.md, repeats them -repeat times, and writes -o.
//
//	go run ./internal/render/pdf/internal/pdfbench -repeat 4 -o /tmp/big.pdf ../shared/corpus/frankenstein
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bindery/bindery/internal/render/pdf"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pdfbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pdfbench", flag.ContinueOnError)
	repeat := fs.Int("repeat", 1, "repeat the chapters this many times")
	out := fs.String("o", "book.pdf", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: pdfbench [-repeat N] [-o out.pdf] BOOKDIR")
	}
	dir := fs.Arg(0)
	files, err := filepath.Glob(filepath.Join(dir, "chapters", "*.md"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no chapters in %s", dir)
	}
	sort.Strings(files)
	b := &pdf.Book{Title: filepath.Base(dir), Language: "en"}
	for r := 0; r < *repeat; r++ {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			id := strings.TrimSuffix(filepath.Base(f), ".md")
			if r > 0 {
				id = fmt.Sprintf("%s-%d", id, r)
			}
			b.Chapters = append(b.Chapters, pdf.Chapter{Markdown: data, ID: id})
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := pdf.Render(w, b, pdf.Options{}); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
