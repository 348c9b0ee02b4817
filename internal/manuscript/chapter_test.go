package manuscript

import (
	"context"
	"strings"
	"testing"
)

func TestParseChapter(t *testing.T) {
	tests := []struct {
		name, file, src  string
		title            string
		body             string
		bodyLine         int
		startsWithHeader bool
	}{
		{"front matter title", "chapters/01-a.md", "---\ntitle: Dawn\n---\nText\n", "Dawn", "Text\n", 4, false},
		{"pandoc end marker", "chapters/01-a.md", "---\ntitle: Dawn\n...\n# H\n", "Dawn", "# H\n", 4, true},
		{"CRLF front matter", "chapters/01-a.md", "---\r\ntitle: Dawn\r\n---\r\nText\r\n", "Dawn", "Text\r\n", 4, false},
		{"thematic break is not front matter", "chapters/02-the-storm.md", "---\n\nText\n", "The storm", "---\n\nText\n", 1, false},
		{"first heading", "chapters/01-a.md", "Intro\n\n## The *Storm*\n", "The Storm", "Intro\n\n## The *Storm*\n", 1, false},
		{"typographic heading", "chapters/01-a.md", "# It's \"fine\"\n", "It’s “fine”", "# It's \"fine\"\n", 1, true},
		{"byte order mark", "chapters/01-a.md", "\uFEFF# Hi\n", "Hi", "# Hi\n", 1, true},
		{"title from file name", "chapters/03_the-end.md", "Text\n", "The end", "Text\n", 1, false},
		{"number-only file name", "chapters/04.md", "", "Untitled", "", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseChapter(context.Background(), tt.file, []byte(tt.src), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if c.Title != tt.title || string(c.Body) != tt.body || c.BodyLine != tt.bodyLine || c.StartsWithHeading != tt.startsWithHeader {
				t.Errorf("got title %q body %q line %d heading %v\nwant title %q body %q line %d heading %v",
					c.Title, c.Body, c.BodyLine, c.StartsWithHeading, tt.title, tt.body, tt.bodyLine, tt.startsWithHeader)
			}
		})
	}
}

func TestParseChapterErrors(t *testing.T) {
	lim := DefaultLimits
	lim.MaxFrontMatterBytes = 64
	tests := []struct{ name, src, want string }{
		{"unclosed front matter", "---\ntitle: x\nno end\n", `chapters/01.md:1: front matter is not closed by a line "---"`},
		{"huge front matter", "---\n" + strings.Repeat("a: b\n", 40) + "---\n", "chapters/01.md:1: front matter larger than 64 bytes"},
		{"title not text", "---\ntitle: [a]\n---\n", "chapters/01.md:2: title: want a text value, got a list"},
		{"alias in front matter", "---\nx: &a y\ntitle: *a\n---\n", "chapters/01.md:3: YAML aliases (*a) are not allowed"},
		{"invalid UTF-8 in front matter", "---\ntitle: \xc3\x28\n---\n", "chapters/01.md:2: invalid UTF-8"},
		{"truncated rune at end", "ok\n\xe2\x82", "chapters/01.md:2: invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseChapter(context.Background(), "chapters/01.md", []byte(tt.src), lim)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestChapterLine(t *testing.T) {
	c, err := parseChapter(context.Background(), "chapters/01.md", []byte("---\ntitle: x\n---\none\ntwo\nthree\n"), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for off, want := range map[int]int{0: 4, 3: 4, 4: 5, 8: 6, 100: 7} {
		if got := c.Line(off); got != want {
			t.Errorf("Line(%d) = %d, want %d", off, got, want)
		}
	}
}

// FuzzParseChapter: any bytes give a chapter or an *Error naming the file
// with a line inside it, never a panic.
func FuzzParseChapter(f *testing.F) {
	f.Add([]byte("---\ntitle: x\n---\n# H\n\ntext[^1]\n\n[^1]: n\n"))
	f.Add([]byte("---\n"))
	f.Add([]byte("---\n\n---\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseChapter(context.Background(), "chapters/01.md", data, DefaultLimits)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.File != "chapters/01.md" || e.Line < 0 || e.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("error %#v", err)
			}
			return
		}
		if c.Title == "" || c.Doc == nil {
			t.Fatalf("chapter without title or tree: %+v", c)
		}
	})
}
