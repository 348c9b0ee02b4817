package markdown_test

import (
	"context"
	"path"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/manuscript/manuscripttest"
	"github.com/bindery/bindery/internal/render/markdown"
	"github.com/yuin/goldmark/ast"
)

const PNG = manuscripttest.PNG

var (
	Symlink = manuscripttest.Symlink
	tinyPNG = manuscripttest.TinyPNG
)

func newBook(tb testing.TB, files map[string]string) *manuscript.Manuscript {
	tb.Helper()
	return manuscripttest.MustLoad(tb, files)
}

// epubLinker links the way an EPUB does: one file per chapter.
type epubLinker struct{}

func (epubLinker) ChapterHref(c *manuscript.Chapter, id string) string {
	if id == "" {
		return c.ID + ".xhtml"
	}
	return c.ID + ".xhtml#" + id
}

func (epubLinker) ImageSrc(p, mediaType string) (string, error) {
	return "images/" + path.Base(p), nil
}

func renderXHTML(t testing.TB, m *manuscript.Manuscript, c *manuscript.Chapter) string {
	t.Helper()
	f, err := markdown.New().RenderChapter(context.Background(), m, c, epubLinker{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := f.WriteXHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func parse(src []byte) ast.Node { return manuscript.ParseMarkdown(src) }
