package server

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/markdown"
)

// previewCSP lets the dashboard frame the preview (frame-ancestors 'self')
// but gives it no script at all: the chapter HTML is sanitised, and this is
// the second wall. "sandbox allow-same-origin" blocks scripts, forms,
// pop-ups and navigation of the top page, while keeping the origin so the
// chapter's images (the book's files, behind the session cookie) load.
const previewCSP = "default-src 'none'; img-src 'self'; style-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-same-origin"

var previewPage = template.Must(template.New("preview").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title><link rel="stylesheet" href="/static/preview.css"></head>
<body><article>{{.Body}}</article></body>
</html>`))

// previewLinker points chapter links at their previews and images at the
// book's file downloads.
type previewLinker struct{ bookID int64 }

func (l previewLinker) ChapterHref(c *manuscript.Chapter, id string) string {
	u := fmt.Sprintf("/api/v1/books/%d/preview/%s", l.bookID, url.PathEscape(path.Base(c.Path)))
	if id != "" {
		u += "#" + url.PathEscape(id)
	}
	return u
}

func (l previewLinker) ImageSrc(p, _ string) (string, error) {
	parts := strings.Split(p, "/")
	for i := range parts {
		parts[i] = url.PathEscape(parts[i])
	}
	return fmt.Sprintf("/api/v1/books/%d/files/%s", l.bookID, strings.Join(parts, "/")), nil
}

// handlePreview: GET /api/v1/books/{id}/preview/{chapter} — one chapter
// ("01-intro.md" or "01-intro") as sanitised HTML, the same tree the HTML
// and EPUB builds use.
func (s *Server) handlePreview(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	name := r.PathValue("chapter")
	if !strings.HasSuffix(name, ".md") && !strings.HasSuffix(name, ".txt") {
		name += ".md"
	}
	root, err := s.books.Root(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer root.Close()
	if strings.Contains(r.PathValue("chapter"), "/") {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "Chapter not found."))
		return
	}
	// Only this chapter is read and parsed (plus metadata.yaml and the
	// list of chapter names): a preview must not cost the whole book.
	m, c, err := manuscript.LoadChapter(r.Context(), root, manuscript.ChaptersDir+"/"+path.Base(name), s.books.Limits().Manuscript)
	if errors.Is(err, fs.ErrNotExist) {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "Chapter not found."))
		return
	}
	if err != nil {
		s.writeError(w, r, bindery.Errorf(bindery.EUNPROCESSABLE, "The book cannot be read: %s", err.Error()))
		return
	}
	frag, err := markdown.New().RenderChapter(r.Context(), m, c, previewLinker{bookID: b.ID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body bytes.Buffer
	if err := frag.WriteHTML(&body); err != nil {
		s.writeError(w, r, err)
		return
	}
	var page bytes.Buffer
	err = previewPage.Execute(&page, map[string]any{
		"Lang": m.Metadata.Language, "Title": c.Title,
		// The one place sanitised HTML enters a template: frag passed the
		// bluemonday allowlist and was serialised by our own writer.
		"Body": template.HTML(body.String()),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", previewCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	_, _ = w.Write(page.Bytes())
}
