package manuscript_test

import (
	"fmt"

	"github.com/bindery/bindery/internal/manuscript"
)

func ExampleSlug() {
	fmt.Println(manuscript.Slug("Walton, in Continuation"))
	fmt.Println(manuscript.Slug("1. Été à Genève!"))
	fmt.Println(manuscript.Slug("***"))
	// Output:
	// walton-in-continuation
	// été-à-genève
	// section
}

func ExampleProblem_String() {
	fmt.Println(manuscript.Problem{File: "chapters/02-storm.md", Line: 14, Severity: manuscript.SeverityError, Message: `image "map.png": no such file in the book folder`})
	fmt.Println(manuscript.Problem{File: "metadata.yaml", Severity: manuscript.SeverityWarning, Message: "author is missing"})
	// Output:
	// chapters/02-storm.md:14: image "map.png": no such file in the book folder
	// metadata.yaml: warning: author is missing
}
