package markdown_test

import (
	"fmt"

	"github.com/bindery/bindery/internal/render/markdown"
)

// Markdown is rendered first and sanitised second, so a Markdown link to
// javascript: is caught after it has become an <a> element.
func ExampleRenderer_Render() {
	src := `"Hello" *world* -- [safe](https://example.com) [unsafe](javascript:alert(1)) <img src=x.png onerror=alert(2)>`
	out, _ := markdown.New().Render([]byte(src))
	fmt.Print(string(out))
	// Output:
	// <p>“Hello” <em>world</em> – <a href="https://example.com">safe</a> unsafe <img src="x.png"></p>
}
