// Command memory writes the worst-case books of issue 13's memory budget:
// inputs at the default limits, each of which `bindery build --formats
// pdf,epub,html` must build in under 256 MB of peak RSS. bench/memory.sh
// builds them and prints the peak of each; the test of this package
// asserts the budget.
//
// Usage: go run ./bench/memory -out DIR   (writes DIR/<case>/, one book each)
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "", "folder to write the books into")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: memory -out DIR")
		os.Exit(2)
	}
	for _, c := range Cases {
		if err := c.Write(*out); err != nil {
			fmt.Fprintln(os.Stderr, "memory:", err)
			os.Exit(1)
		}
		fmt.Println(c.Name)
	}
}
