package markdown_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/render/markdown"
)

func marker(n string) string {
	return `<span epub:type="pagebreak" role="doc-pagebreak" id="page-` + n + `" aria-label="` + n + `"></span>`
}

// Words are counted as the PDF typesetter counts them: inline elements
// do not split a word, blocks do; the title the renderer adds, code
// blocks, figures and notes do not count; the alt text of an image in
// a line does.
func TestPageBreaks(t *testing.T) {
	src := "Para one has *five*phasised words.\n\n" + // 0–4 (one word across <em>)
		"```\ncode does not count\n```\n\n" +
		"- item six\n- seven[^n]\n\n" + // 5–7 (the note mark joins its word)
		"| eight | nine |\n|---|---|\n| ten | eleven |\n\n" + // 8–11
		"![alone, not counted](i.png)\n\n" +
		"An ![inline image](i.png) counts.\n\n" + // 12: An, 13–14: inline image, 15: counts.
		"Last\u00a0word.\n\n" + // 16 (a no-break space joins)
		"- [ ] task seventeen\n- [x] eighteen\n\n" + // the task boxes do not count
		"[^n]: A note of six words here.\n"
	m := newBook(t, map[string]string{"metadata.yaml": "title: T\n", "chapters/01-a.md": src, "chapters/i.png": PNG})
	f, err := markdown.New().RenderChapter(context.Background(), m, m.Chapters[0], epubLinker{})
	if err != nil {
		t.Fatal(err)
	}
	ids := f.PageBreaks([]markdown.PageBreak{{Word: 0, Number: 1}, {Word: 0, Number: 2}, {Word: 3, Number: 3}, {Word: 7, Number: 4},
		{Word: 9, Number: 5}, {Word: 13, Number: 6}, {Word: 16, Number: 7}, {Word: 18, Number: 8}, {Word: 99, Number: 9}})
	if strings.Join(ids, " ") != "page-1 page-2 page-3 page-4 page-5 page-6 page-7 page-8 page-9" {
		t.Errorf("ids %q", ids)
	}
	var b strings.Builder
	if err := f.WriteXHTML(&b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		marker("1") + marker("2") + "<h1>",
		"has <em>" + marker("3") + "five</em>phasised words.",
		"<li>" + marker("4") + "seven<sup",
		"<th>" + marker("5") + "nine</th>",
		"An " + marker("6") + `<img src="images/i.png" alt="inline image"/>`,
		marker("7") + "Last\u00a0word.",
		"[ ] task " + marker("8") + "seventeen",
		"</ul>\n" + marker("9") + `<div class="footnotes"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %s in\n%s", want, got)
		}
	}
}
