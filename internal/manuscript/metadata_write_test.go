package manuscript_test

import (
	"reflect"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
)

func TestMetadataYAMLRoundTrip(t *testing.T) {
	for _, md := range []manuscript.Metadata{
		{Title: "Only a title"},
		{
			Title: "The Keeper: a tale", Subtitle: "With \"quotes\" and: colons", Authors: []string{"Ann Ó Briain", "B. Writer"},
			Language: "en-GB", Identifier: "urn:uuid:1234", ISBN: "978-3-16-148410-0", Publisher: "Small Press",
			Date: "2026-05-01", Rights: "© 2026", Description: "Line one\nline two", Subjects: []string{"Fiction", "Sea"},
			Cover: "assets/images/cover.jpg",
			PDF:   manuscript.PDFOptions{PageSize: "5x8", Margins: manuscript.Margins{Top: "0.75in", Right: "0.6in", Bottom: "0.8in", Left: "0.9in"}, FontFamily: "assets/fonts/Garamond", FontSize: "11pt"},
			EPUB:  manuscript.EPUBOptions{CoverImage: "assets/images/cover.jpg", Stylesheet: "assets/css/book.css"},
		},
	} {
		data, err := md.YAML()
		if err != nil {
			t.Fatal(err)
		}
		back, err := manuscript.ParseMetadata(data)
		if err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		if !reflect.DeepEqual(back, md) {
			t.Errorf("round trip:\n got %+v\nwant %+v\n%s", back, md, data)
		}
	}
}
