package manuscript

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShapeLimits: each shape that made goldmark super-linear or the HTML
// parser fail is refused with the file and line to fix, and the nearest
// legitimate writing is accepted.
func TestShapeLimits(t *testing.T) {
	deepList := ""
	for i := 0; i < 40; i++ {
		deepList += strings.Repeat("  ", i) + "- x\n"
	}
	refused := []struct{ name, src, want string }{
		{"quotes", "Intro.\n\n" + strings.Repeat(">", 33) + " x\n", "chapters/01.md:3: lists and block quotes are nested more than 32 levels deep"},
		{"quotes with spaces", strings.Repeat("> ", 33) + "x\n", "chapters/01.md:1: lists and block quotes are nested more than 32 levels deep"},
		{"list markers", strings.Repeat("- ", 33) + "x\n", "chapters/01.md:1: lists and block quotes are nested more than 32 levels deep"},
		{"list by indentation", deepList, "chapters/01.md:33: lists and block quotes are nested more than 32 levels deep"},
		{"unclosed links", "a\n\n" + strings.Repeat("[](", 500) + "\n", "chapters/01.md:3: this paragraph has too many unmatched markers"},
		{"unclosed angle links", strings.Repeat("[a](<b ", 500) + "\n", "chapters/01.md:1: this paragraph has too many unmatched markers"},
		{"mismatched emphasis", strings.Repeat("*a_ ", 2000) + "\n", "chapters/01.md:1: this paragraph has too many unmatched markers"},
		{"emphasis over lines", strings.Repeat("*a_\n", 2000), "chapters/01.md:1: this paragraph has too many unmatched markers"},
		{"star run", strings.Repeat("*", 100) + "a" + strings.Repeat("*", 100) + "\n", "chapters/01.md:1: a run of 100 '*' nests emphasis more than 32 levels deep"},
		{"reference definitions", strings.Repeat("[a]: /u\n", 1000), "chapters/01.md:1: this paragraph has too many unmatched markers"},
		{"wide table", "|" + strings.Repeat("a|", 65) + "\n|" + strings.Repeat("-|", 65) + "\n", "chapters/01.md:2: table has 65 columns (at most 64)"},
		{"padded table", "|" + strings.Repeat("a|", 64) + "\n|" + strings.Repeat("-|", 64) + "\n" + strings.Repeat("|x\n", 1000), "chapters/01.md:1: this paragraph has too many unmatched markers"},
		{"footnotes", strings.Repeat("x[^1]\n", 1) + "\n" + fnDefs(1001), "chapters/01.md:1003: more than 1000 footnotes in one chapter"},
		{"footnote references", strings.Repeat("x[^1] ", 20000) + "\n\n" + fnDefs(300), "chapters/01.md:1: 20000 footnote references to 300 footnotes are too many"},
		{"nested emphasis", strings.Repeat("*a **a ", 20) + "b" + strings.Repeat(" a** a*", 20) + "\n", "chapters/01.md:1: lists, block quotes, links or emphasis are nested more than 32 levels deep"},
		{"nested images", strings.Repeat("![a ", 40) + strings.Repeat("](x.png)", 40) + "\n", "chapters/01.md:1: lists, block quotes, links or emphasis are nested more than 32 levels deep"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseChapter(context.Background(), "chapters/01.md", []byte(tt.src), DefaultLimits)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error\n got %v\nwant %s…", err, tt.want)
			}
		})
	}
	accepted := []struct{ name, src string }{
		{"quotes 32 deep", strings.Repeat("> ", 32) + "x\n"},
		{"thematic breaks", "* * *\n\n- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n\n" + strings.Repeat("*", 200) + "\n\n" + strings.Repeat("_", 200) + "\n"},
		{"fenced code", "```c\n" + strings.Repeat("int **p = *q * *r; /* _x_ */\n", 2000) + "```\n"},
		{"fenced code with tildes", "~~~\n" + strings.Repeat("[](", 2000) + "\n~~~\n"},
		{"adjacent links", strings.Repeat("[a](https://example.com/x) ", 2000) + "\n"},
		{"escaped markers", strings.Repeat(`\*a\_ `, 2000) + "\n"},
		{"emphasis spanning a link", strings.Repeat("*See [this](https://example.com) and* _that_. ", 300) + "\n"},
		{"emphasis in prose", strings.Repeat("It was *very* dark and _quite_ cold, the **wind** howling. ", 300) + "\n"},
		{"many paragraphs", strings.Repeat("*a_ *a_ *a_ *a_\n\n", 5000)},
		{"reference definitions", strings.Repeat("[a]: https://example.com/some/long/path\n", 60)},
		{"table", "|a|b|c|\n|-|:-:|-:|\n" + strings.Repeat("|x|y|z|\n", 1000)},
		{"footnotes", strings.Repeat("Text with a note.[^1] ", 300) + "\n\n" + fnDefs(300)},
	}
	for _, tt := range accepted {
		t.Run("accepts "+tt.name, func(t *testing.T) {
			if _, err := parseChapter(context.Background(), "chapters/01.md", []byte(tt.src), DefaultLimits); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

func fnDefs(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString("[^" + itoa(i) + "]: A note.\n")
	}
	return b.String()
}

func itoa(i int) string {
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

// TestShapeBudgetOfCorpus: the shape budget leaves room for real books:
// every chapter of the test corpus uses at most an eighth of it.
func TestShapeBudgetOfCorpus(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/corpus/frankenstein/chapters/*.md")
	more, _ := filepath.Glob("../../examples/*/chapters/*.md")
	files = append(files, more...)
	if len(files) == 0 {
		t.Skip("no corpus")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		work := 0
		shapeWork = func(w int) { work = w }
		serr := scanShape(f, data, 1, DefaultLimits)
		shapeWork = nil
		if serr != nil {
			t.Errorf("%v", serr)
		}
		if work*8 > workPerByte*len(data) {
			t.Errorf("%s: estimated work %d for %d bytes uses more than 1/8 of the budget", f, work, len(data))
		}
	}
}
