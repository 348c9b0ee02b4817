package manuscript

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want Metadata
	}{
		{"empty", "", Metadata{}},
		{"only comments", "# nothing\n", Metadata{}},
		{"author as text", "title: T\nauthor: Ann\n", Metadata{Title: "T", Authors: []string{"Ann"}}},
		{"authors as list", "author:\n  - Ann\n  - Bob\n", Metadata{Authors: []string{"Ann", "Bob"}}},
		{"numbers and dates as written", "date: 2024-05-01\nidentifier: 12345\n", Metadata{Date: "2024-05-01", Identifier: "12345"}},
		{"pandoc document markers", "---\ntitle: T\nlang: fr\n...\n", Metadata{Title: "T", Language: "fr"}},
		{"cover precedence", "cover: a.jpg\ncover-image: b.jpg\nepub:\n  cover_image: c.jpg\n  stylesheet: assets/css/x.css\n",
			Metadata{Cover: "c.jpg", EPUB: EPUBOptions{CoverImage: "c.jpg", Stylesheet: "assets/css/x.css"}}},
		{"pdf with one margin", "pdf:\n  page_size: 6x9\n  margins: 0.75in\n  font_family: Serif\n  font_size: 11\n",
			Metadata{PDF: PDFOptions{PageSize: "6x9", Margins: Margins{"0.75in", "0.75in", "0.75in", "0.75in"}, FontFamily: "Serif", FontSize: "11"}}},
		{"pdf with four margins", "pdf:\n  margins: {top: 1in, bottom: 2in, inside: 3in, outside: 4in}\n",
			Metadata{PDF: PDFOptions{Margins: Margins{Top: "1in", Right: "4in", Bottom: "2in", Left: "3in"}}}},
		{"unknown keys ignored", "titel: typo\nfoo: {bar: [1, 2]}\n", Metadata{}},
		{"null values", "title:\nauthor:\n", Metadata{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMetadata([]byte(tt.yaml), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Malformed or hostile metadata gives one precise "file:line: message".
// Aliases are refused outright, which stops "billion laughs" expansion.
func TestParseMetadataErrors(t *testing.T) {
	laughs := "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" +
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"billion laughs", laughs, "metadata.yaml:2: YAML aliases (*a) are not allowed"},
		{"alias in a value", "x: &t Title\ntitle: *t\n", "metadata.yaml:2: YAML aliases (*t) are not allowed"},
		{"deep nesting", "a: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n", "metadata.yaml:1: YAML nested too deeply (limit 16)"},
		{"too many nodes", "a: [" + strings.Repeat("1,", 3000) + "1]\n", "metadata.yaml:1: too many YAML nodes (limit 2000)"},
		{"title is a list", "title:\n  - a\n  - b\n", "metadata.yaml:2: title: want a text value, got a list"},
		{"author is a mapping", "author: {name: x}\n", "metadata.yaml:1: author: want a text or a list of texts, got a mapping"},
		{"author list of mappings", "author:\n  - name: x\n", "metadata.yaml:2: author: want a text value, got a mapping"},
		{"pdf is text", "pdf: big\n", "metadata.yaml:1: pdf: want a mapping, got a text value"},
		{"top level list", "- a\n- b\n", "metadata.yaml:1: want a mapping of keys to values, got a list"},
		{"tab indentation", "a: 1\n\tb: 2\n", "metadata.yaml:2: a tab used for indentation: indent with spaces (found a tab character that violates indentation)"},
		{"unterminated string", "a: 1\nb: \"open\nc: 2\n", "metadata.yaml:2: found unexpected end of stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMetadata([]byte(tt.yaml), DefaultLimits)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// FuzzParseMetadata: any bytes give metadata or an *Error, never a panic,
// and an error always names metadata.yaml.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("title: T\nauthor: [A, B]\npdf: {margins: 1in}\n"))
	f.Add([]byte("a: &a [1]\nb: *a\n"))
	f.Add([]byte("{{{{{{{{{{{{{{{{{{{{{{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := parseMetadata(data, DefaultLimits)
		if err != nil && !strings.HasPrefix(err.Error(), "metadata.yaml:") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
