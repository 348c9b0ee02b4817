package html_test

import (
	"fmt"

	bhtml "github.com/bindery/bindery/internal/render/html"
)

func ExampleContentSecurityPolicy() {
	fmt.Println(bhtml.ContentSecurityPolicy("body{margin:0}", bhtml.EmbedImages))
	// Output:
	// default-src 'none'; style-src 'sha256-IAdwN3biDCQ3brrgp1m8kBEsPQYyqfREKOEfeoREopc='; img-src data:; base-uri 'none'; form-action 'none'
}
