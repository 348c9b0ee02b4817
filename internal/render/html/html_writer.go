package html

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/markdown"
	"golang.org/x/text/language"
)

//go:embed templates
var templateFS embed.FS

var page = template.Must(template.New("book.html").Funcs(template.FuncMap{
	"join": strings.Join,
}).ParseFS(templateFS, "templates/book.html"))

// Images says where the images of the HTML file live.
type Images int

const (
	// EmbedImages puts every image in the file as a data: URI, so the file
	// stands alone. The default.
	EmbedImages Images = iota
	// CopyImages links images as "images/…" and returns them as Files to
	// write beside the HTML file: smaller, and cacheable when served.
	CopyImages
)

// Options tune Write. The zero value embeds images.
type Options struct {
	Images   Images
	Renderer *markdown.Renderer // nil means markdown.New()
}

// File is an image to write beside the HTML file (CopyImages only); Name is
// a slash path relative to the HTML file's folder, made by this package from
// a hash and a cleaned base name, so it is always a plain "images/x.png".
type File struct {
	Name string
	Data []byte
}

// Write writes m as one HTML5 file to w and returns the files to put beside
// it (none with EmbedImages). It stops with ctx's error when ctx is done.
func Write(ctx context.Context, w io.Writer, m *manuscript.Manuscript, opts Options) ([]File, error) {
	r := opts.Renderer
	if r == nil {
		r = markdown.New()
	}
	md := m.Metadata
	l := &linker{m: m, mode: opts.Images, files: map[string]*File{}}
	data := struct {
		Lang, Title, Subtitle, Description, Rights, Publisher string
		Authors                                               []string
		CSP                                                   string
		CSS                                                   template.CSS
		CoverSrc                                              template.URL
		Chapters                                              []chapterView
	}{
		Title: md.Title, Subtitle: md.Subtitle, Description: md.Description,
		Rights: md.Rights, Publisher: md.Publisher, Authors: md.Authors, Lang: "en",
	}
	if data.Title == "" {
		data.Title = "Untitled"
	}
	if md.Language != "" {
		tag, err := language.Parse(md.Language)
		if err != nil {
			return nil, &manuscript.Error{File: manuscript.MetadataFile, Msg: fmt.Sprintf("language %q is not a BCP 47 language tag", md.Language)}
		}
		data.Lang = tag.String()
	}
	css, err := stylesheet(m)
	if err != nil {
		return nil, err
	}
	data.CSS = template.CSS(css)
	data.CSP = ContentSecurityPolicy(css, opts.Images)
	if md.Cover != "" {
		src, err := l.cover(md.Cover)
		if err != nil {
			return nil, &manuscript.Error{File: manuscript.MetadataFile, Msg: fmt.Sprintf("cover %q: %v", md.Cover, err)}
		}
		// A data: URI of an image this package read and typed itself
		// (JPEG, PNG, GIF or WebP, by extension and content), or a plain
		// "images/…" name: trusted, so html/template must not filter it.
		data.CoverSrc = template.URL(src)
	}
	for _, c := range m.Chapters {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		frag, err := r.RenderChapter(ctx, m, c, l)
		if err != nil {
			return nil, err
		}
		var body bytes.Buffer
		if err := frag.WriteHTML(&body); err != nil {
			return nil, err
		}
		v := chapterView{ID: c.ID, Title: c.Title,
			// Sanitised by markdown.Renderer and serialised by x/net/html,
			// which escapes every text and attribute value.
			Body: template.HTML(body.String())}
		for _, h := range frag.Headings() {
			if h.Level == 2 && h.ID != "" {
				v.Sections = append(v.Sections, h)
			}
		}
		data.Chapters = append(data.Chapters, v)
	}
	if err := page.Execute(w, data); err != nil {
		return nil, err
	}
	return l.sortedFiles(), nil
}

type chapterView struct {
	ID, Title string
	Body      template.HTML
	Sections  []markdown.Heading
}

// ContentSecurityPolicy returns the policy the file declares for the
// stylesheet css: nothing is allowed but that exact stylesheet (by hash)
// and images from data: URIs (EmbedImages) or the file's origin
// (CopyImages); base-uri and form-action are closed too, since they are not
// covered by default-src.
func ContentSecurityPolicy(css string, images Images) string {
	sum := sha256.Sum256([]byte(css))
	img := "data:"
	if images == CopyImages {
		img = "'self'"
	}
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src " + img + "; base-uri 'none'; form-action 'none'"
}

// stylesheet is the default stylesheet plus the book's own, if any.
func stylesheet(m *manuscript.Manuscript) (string, error) {
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return "", err
	}
	s := m.Metadata.EPUB.Stylesheet
	if s == "" {
		return string(css), nil
	}
	ref, err := m.Resolve(manuscript.MetadataFile, s)
	if err != nil || ref.Kind != manuscript.RefFile {
		return "", &manuscript.Error{File: manuscript.MetadataFile, Msg: fmt.Sprintf("stylesheet %q: not a file of the book", s)}
	}
	user, err := m.ReadFile(ref.Path)
	if err != nil {
		return "", err
	}
	// "</style" would end the element early; CSS never needs it.
	if bytes.Contains(bytes.ToLower(user), []byte("</style")) {
		return "", &manuscript.Error{File: ref.Path, Msg: `stylesheet contains "</style"`}
	}
	return string(css) + "\n/* " + path.Base(ref.Path) + " */\n" + string(user), nil
}

// linker implements markdown.Linker for one file: chapters are sections of
// the page, images are data: URIs or files beside it.
type linker struct {
	m     *manuscript.Manuscript
	mode  Images
	mu    sync.Mutex
	files map[string]*File // by book path
}

func (l *linker) ChapterHref(c *manuscript.Chapter, id string) string {
	if id == "" {
		return "#" + c.ID
	}
	return "#" + id
}

// ImageSrc returns a data: URI of the image bytes (of a type checked by
// manuscript.ImageType, never SVG) or the name of its copy.
func (l *linker) ImageSrc(p, mediaType string) (string, error) {
	data, err := l.m.ReadFile(p)
	if err != nil {
		return "", err
	}
	if l.mode == EmbedImages {
		return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(data), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.files[p]; ok {
		return f.Name, nil
	}
	sum := sha256.Sum256([]byte(p))
	f := &File{Name: "images/" + hex.EncodeToString(sum[:4]) + "-" + manuscript.SafeFileName(path.Base(p)), Data: data}
	l.files[p] = f
	return f.Name, nil
}

func (l *linker) cover(ref string) (string, error) {
	r, err := l.m.Resolve(manuscript.MetadataFile, ref)
	if err != nil {
		return "", err
	}
	if r.Kind != manuscript.RefFile {
		return "", manuscript.ErrNotImage
	}
	typ, err := l.m.ImageType(r.Path)
	if err != nil {
		return "", err
	}
	return l.ImageSrc(r.Path, typ)
}

func (l *linker) sortedFiles() []File {
	var out []File
	for _, f := range l.files {
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
