package epub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/render/markdown"
	"golang.org/x/text/language"
)

//go:embed templates
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"inc":  func(i int) int { return i + 1 },
	"join": strings.Join,
}).ParseFS(templateFS, "templates/*.opf", "templates/*.xhtml", "templates/*.ncx"))

// Options tune Write. The zero value is ready to use.
type Options struct {
	// Modified is the dcterms:modified time of the package: the time the
	// EPUB was made, which package build sets to the build time or to
	// SOURCE_DATE_EPOCH. When zero it is the metadata date if that is a
	// full date ("2024-05-01" or RFC 3339), else DefaultModified; Write
	// never reads the clock, so that the same book and Options give the
	// same bytes.
	Modified time.Time
	// Renderer renders chapters; nil means markdown.New().
	Renderer *markdown.Renderer
	// PrintPages, when not nil, returns the pages of the print edition
	// (the PDF Bindery typesets: see render/pdf's PageStart), in page
	// order. Write calls it once, after rendering the chapters, so that a
	// caller can typeset the book meanwhile; its error fails Write. With
	// pages, the chapters carry a page-break marker where each page
	// starts, the navigation document a page-list, and the package the
	// printPageNumbers and pageNavigation features and, when the book has
	// an ISBN or identifier, a dc:source naming the print edition.
	PrintPages func() ([]PrintPage, error)
}

// PrintPage is where page Number of the print edition starts: before
// word Word of chapter Chapter (an index in the manuscript's chapters),
// words counted as render/pdf's PageStart counts them.
type PrintPage struct {
	Number, Chapter, Word int
}

// DefaultModified is dcterms:modified when neither Options nor the metadata
// give a full date.
var DefaultModified = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const xmlProlog = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// Write writes m as an EPUB to w. It stops with ctx's error when ctx is
// done. Errors in the book's content are *manuscript.Error values; Write
// does not run manuscript.Check, whose errors callers should refuse first.
func Write(ctx context.Context, w io.Writer, m *manuscript.Manuscript, opts Options) error {
	b, err := newBook(m, opts)
	if err != nil {
		return err
	}
	if err := b.eachChapter(ctx, b.renderChapter); err != nil {
		return err
	}
	if err := b.placePages(opts.PrintPages); err != nil {
		return err
	}
	if err := b.eachChapter(ctx, b.writeChapter); err != nil {
		return err
	}
	entries, err := b.entries(ctx)
	if err != nil {
		return err
	}
	return writeContainer(w, entries)
}

// book is the plan of one EPUB: what the templates need, and the images
// that chapters asked for.
type book struct {
	m        *manuscript.Manuscript
	renderer *markdown.Renderer

	Lang, Identifier, Title, Subtitle string
	ExtraIdentifiers                  []string
	Authors, Subjects                 []string
	Publisher, Date, Rights           string
	Description, Modified             string
	UserStyle                         bool
	Cover                             *image
	Chapters                          []*chapter
	// Source is the print edition's identifier (dc:source) when there
	// is a page-list and the metadata names one.
	Source string

	mu          sync.Mutex
	images      map[string]*image // by book path
	Images      []*image          // sorted by Href, for the manifest
	missingAlt  bool
	AccessModes []string

	AccessModesSufficient []string
	AccessibilityFeatures []string
	AccessibilitySummary  string
	// ConformsTo is manuscript.AccessibilityConformance when the book
	// meets it, else ""; CertifiedBy names the evaluator of the claim.
	ConformsTo, CertifiedBy string
}

type chapter struct {
	*manuscript.Chapter
	Href     string
	Sections []section
	xhtml    []byte
	frag     *markdown.Fragment   // rendered, until written as xhtml
	breaks   []markdown.PageBreak // the print pages that start here
	Pages    []section            // their markers, in page order
}

type section struct{ Href, Title string }

type image struct {
	ID, Href, MediaType, path string
	IsCover                   bool
	toPNG                     bool // a WebP image, converted (webpToPNG)
}

func newBook(m *manuscript.Manuscript, opts Options) (*book, error) {
	md := m.Metadata
	b := &book{
		m: m, renderer: opts.Renderer, images: map[string]*image{},
		Title: md.Title, Subtitle: md.Subtitle, Authors: md.Authors, Subjects: md.Subjects,
		Publisher: md.Publisher, Rights: md.Rights, Description: md.Description,
	}
	if b.renderer == nil {
		b.renderer = markdown.New()
	}
	if b.Title == "" {
		b.Title = "Untitled"
	}
	b.Lang = "en"
	if md.Language != "" {
		tag, err := language.Parse(md.Language)
		if err != nil {
			return nil, &manuscript.Error{File: manuscript.MetadataFile, Msg: fmt.Sprintf("language %q is not a BCP 47 language tag", md.Language)}
		}
		b.Lang = tag.String()
	}
	b.Identifier, b.ExtraIdentifiers = identifiers(md)
	if manuscript.ValidDate(md.Date) {
		b.Date = md.Date
	}
	b.Modified = modified(opts.Modified, md.Date).Format("2006-01-02T15:04:05Z")
	if md.Cover != "" {
		img, err := b.image(manuscript.MetadataFile, md.Cover)
		if err != nil {
			return nil, &manuscript.Error{File: manuscript.MetadataFile, Msg: fmt.Sprintf("cover %q: %v", md.Cover, err)}
		}
		img.IsCover = true
		b.Cover = img
	}
	if s := md.EPUB.Stylesheet; s != "" {
		if ref, err := m.Resolve(manuscript.MetadataFile, s); err != nil || ref.Kind != manuscript.RefFile {
			return nil, &manuscript.Error{File: manuscript.MetadataFile, Msg: fmt.Sprintf("stylesheet %q: not a file of the book", s)}
		}
		b.UserStyle = true
	}
	for _, c := range m.Chapters {
		b.Chapters = append(b.Chapters, &chapter{Chapter: c, Href: c.ID + ".xhtml"})
	}
	return b, nil
}

// identifiers returns the unique identifier of the package and any other.
// Without an identifier or ISBN in the metadata, the identifier is a UUID
// derived from the title and authors (name-based, SHA-1, as RFC 9562
// version 5), so that rebuilds keep it and readers keep their place.
func identifiers(md manuscript.Metadata) (string, []string) {
	var isbn string
	if md.ISBN != "" {
		isbn = "urn:isbn:" + strings.NewReplacer("-", "", " ", "").Replace(md.ISBN)
	}
	switch {
	case md.Identifier != "" && isbn != "":
		return md.Identifier, []string{isbn}
	case md.Identifier != "":
		return md.Identifier, nil
	case isbn != "":
		return isbn, nil
	}
	h := sha1.Sum([]byte("bindery\x00" + md.Title + "\x00" + strings.Join(md.Authors, "\x00")))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return "urn:uuid:" + x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32], nil
}

func modified(opt time.Time, date string) time.Time {
	if !opt.IsZero() {
		return opt.UTC().Truncate(time.Second)
	}
	if t, err := time.Parse(time.RFC3339, date); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse("2006-01-02", date); err == nil {
		return t
	}
	return DefaultModified
}

// image registers the image that ref (written in file from) names, once per
// book path. Its name in the EPUB is derived from the path alone — a short
// hash and the cleaned base name — so it is the same whatever order the
// chapters render in, unique, and safe as a zip and OCF file name.
func (b *book) image(from, ref string) (*image, error) {
	r, err := b.m.Resolve(from, ref)
	if err != nil {
		return nil, err
	}
	if r.Kind != manuscript.RefFile {
		return nil, manuscript.ErrNotImage
	}
	typ, err := b.m.ImageType(r.Path)
	if err != nil {
		return nil, err
	}
	return b.imageAt(r.Path, typ), nil
}

func (b *book) imageAt(p, typ string) *image {
	b.mu.Lock()
	defer b.mu.Unlock()
	if img, ok := b.images[p]; ok {
		return img
	}
	sum := sha256.Sum256([]byte(p))
	h := hex.EncodeToString(sum[:4])
	img := &image{ID: "img-" + h, Href: "images/" + h + "-" + manuscript.SafeFileName(path.Base(p)), MediaType: typ, path: p}
	if typ == "image/webp" {
		base := strings.TrimSuffix(path.Base(p), path.Ext(p)) + ".png"
		img.Href, img.MediaType, img.toPNG = "images/"+h+"-"+manuscript.SafeFileName(base), "image/png", true
	}
	b.images[p] = img
	return img
}

// ChapterHref implements markdown.Linker.
func (b *book) ChapterHref(c *manuscript.Chapter, id string) string {
	if id == "" {
		return c.ID + ".xhtml"
	}
	return c.ID + ".xhtml#" + id
}

// ImageSrc implements markdown.Linker.
func (b *book) ImageSrc(p, mediaType string) (string, error) {
	return b.imageAt(p, mediaType).Href, nil
}

// eachChapter runs step for every chapter, on all cores. Each result
// depends on its chapter only, so the order of work does not change the
// output.
func (b *book) eachChapter(ctx context.Context, step func(context.Context, *chapter) error) error {
	jobs := make(chan *chapter)
	errs := make([]error, len(b.Chapters))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(b.Chapters)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				errs[c.Index] = step(ctx, c)
			}
		}()
	}
	for _, c := range b.Chapters {
		if ctx.Err() != nil {
			break
		}
		jobs <- c
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *book) renderChapter(ctx context.Context, c *chapter) error {
	frag, err := b.renderer.RenderChapter(ctx, b.m, c.Chapter, b)
	if err != nil {
		return err
	}
	for _, h := range frag.Headings() {
		if h.Level == 2 && h.ID != "" {
			c.Sections = append(c.Sections, section{Href: c.Href + "#" + h.ID, Title: h.Text})
		}
	}
	if frag.MissingAlt() {
		b.mu.Lock()
		b.missingAlt = true
		b.mu.Unlock()
	}
	c.frag = frag
	return nil
}

// placePages asks for the print edition's pages, when there is one, and
// hands each chapter those that start in it. It is called once the
// chapters are rendered, so that the caller may typeset them meanwhile.
func (b *book) placePages(pages func() ([]PrintPage, error)) error {
	if pages == nil {
		return nil
	}
	list, err := pages()
	if err != nil {
		return err
	}
	for _, p := range list {
		if p.Chapter < 0 || p.Chapter >= len(b.Chapters) {
			return fmt.Errorf("epub: print page %d is in chapter %d of %d", p.Number, p.Chapter, len(b.Chapters))
		}
		c := b.Chapters[p.Chapter]
		c.breaks = append(c.breaks, markdown.PageBreak{Word: p.Word, Number: p.Number})
	}
	if len(list) > 0 {
		md := b.m.Metadata
		b.Source = md.Identifier
		if md.ISBN != "" {
			b.Source = "urn:isbn:" + strings.NewReplacer("-", "", " ", "").Replace(md.ISBN)
		}
	}
	return nil
}

// writeChapter finishes a rendered chapter for EPUB reading systems
// (pop-up notes, page-break markers) and serialises it.
func (b *book) writeChapter(_ context.Context, c *chapter) error {
	frag := c.frag
	c.frag = nil
	frag.PopUpNotes()
	sort.SliceStable(c.breaks, func(i, j int) bool { return c.breaks[i].Word < c.breaks[j].Word })
	for i, id := range frag.PageBreaks(c.breaks) {
		c.Pages = append(c.Pages, section{Href: c.Href + "#" + id, Title: strconv.Itoa(c.breaks[i].Number)})
	}
	var body bytes.Buffer
	if err := frag.WriteXHTML(&body); err != nil {
		return err
	}
	var doc bytes.Buffer
	doc.Grow(body.Len() + 1024)
	doc.WriteString(xmlProlog)
	err := templates.ExecuteTemplate(&doc, "chapter.xhtml", struct {
		Lang, Title string
		UserStyle   bool
		Body        template.HTML
	}{b.Lang, c.Title, b.UserStyle,
		// The body is the sanitised, rewritten chapter tree serialised by
		// markdown.Fragment.WriteXHTML, which escapes every text and value.
		template.HTML(body.String())})
	c.xhtml = doc.Bytes()
	return err
}

// entries lays out the container in a fixed order and compresses it.
func (b *book) entries(ctx context.Context) ([]entry, error) {
	b.accessibility()
	files := []struct {
		name  string
		data  []byte
		store bool
	}{{name: "mimetype", data: []byte("application/epub+zip"), store: true}}
	add := func(name string, data []byte, store bool) {
		files = append(files, struct {
			name  string
			data  []byte
			store bool
		}{name, data, store})
	}
	container, err := templateFS.ReadFile("templates/container.xml")
	if err != nil {
		return nil, err
	}
	add("META-INF/container.xml", container, false)
	for _, t := range []struct{ name, tmpl string }{
		{"EPUB/package.opf", "package.opf"}, {"EPUB/nav.xhtml", "nav.xhtml"}, {"EPUB/toc.ncx", "toc.ncx"},
	} {
		var buf bytes.Buffer
		buf.WriteString(xmlProlog)
		if err := templates.ExecuteTemplate(&buf, t.tmpl, b); err != nil {
			return nil, err
		}
		add(t.name, buf.Bytes(), false)
	}
	if b.Cover != nil {
		var buf bytes.Buffer
		buf.WriteString(xmlProlog)
		if err := templates.ExecuteTemplate(&buf, "cover.xhtml", b); err != nil {
			return nil, err
		}
		add("EPUB/cover.xhtml", buf.Bytes(), false)
	}
	var tp bytes.Buffer
	tp.WriteString(xmlProlog)
	if err := templates.ExecuteTemplate(&tp, "titlepage.xhtml", b); err != nil {
		return nil, err
	}
	add("EPUB/titlepage.xhtml", tp.Bytes(), false)
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, err
	}
	add("EPUB/css/style.css", css, false)
	if b.UserStyle {
		ref, _ := b.m.Resolve(manuscript.MetadataFile, b.m.Metadata.EPUB.Stylesheet)
		data, err := b.m.ReadFile(ref.Path)
		if err != nil {
			return nil, err
		}
		add("EPUB/css/book.css", data, false)
	}
	for _, img := range b.Images {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := b.m.ReadFile(img.path)
		if err != nil {
			return nil, err
		}
		if img.toPNG {
			if data, err = webpToPNG(data); err != nil {
				return nil, fmt.Errorf("image %s: %w", img.path, err)
			}
		}
		add("EPUB/"+img.Href, data, true)
	}
	for _, c := range b.Chapters {
		add("EPUB/"+c.Href, c.xhtml, false)
	}

	entries := make([]entry, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				entries[i], errs[i] = newEntry(files[i].name, files[i].data, files[i].store)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return entries, ctx.Err()
}

// HasPages reports whether the book carries the print edition's pages.
func (b *book) HasPages() bool {
	for _, c := range b.Chapters {
		if len(c.Pages) > 0 {
			return true
		}
	}
	return false
}

// accessibility fills the EPUB Accessibility 1.1 discovery metadata from
// what the book actually contains: it claims alternative text only when
// every image has some, and textual sufficiency only then.
func (b *book) accessibility() {
	for _, img := range b.images {
		b.Images = append(b.Images, img)
	}
	sort.Slice(b.Images, func(i, j int) bool { return b.Images[i].Href < b.Images[j].Href })
	hasImages := len(b.Images) > 0
	b.AccessModes = []string{"textual"}
	b.AccessibilityFeatures = []string{"structuralNavigation", "tableOfContents", "readingOrder"}
	if b.HasPages() {
		b.AccessibilityFeatures = append(b.AccessibilityFeatures, "printPageNumbers", "pageNavigation")
	}
	summary := "This publication has structured headings, a table of contents and a logical reading order."
	switch {
	case !hasImages:
		b.AccessModesSufficient = []string{"textual"}
	case b.missingAlt:
		b.AccessModes = append(b.AccessModes, "visual")
		b.AccessModesSufficient = []string{"textual,visual"}
		summary += " Some images lack alternative text."
	default:
		b.AccessModes = append(b.AccessModes, "visual")
		b.AccessModesSufficient = []string{"textual", "textual,visual"}
		b.AccessibilityFeatures = append(b.AccessibilityFeatures, "alternativeText")
		summary += " Every image has alternative text."
	}
	if b.HasPages() {
		summary += " Page breaks and a page list follow the print edition."
	}
	summary += " It has no known hazards."
	if len(manuscript.AccessibilityGaps(b.m)) == 0 && !b.missingAlt {
		b.ConformsTo = manuscript.AccessibilityConformance
		// The evaluation is the publisher's own, made with Bindery's
		// checks (manuscript.AccessibilityGaps): it names the publisher,
		// else the authors, who publish themselves.
		b.CertifiedBy = b.Publisher
		if b.CertifiedBy == "" {
			b.CertifiedBy = strings.Join(b.Authors, ", ")
		}
		summary += " It meets " + b.ConformsTo + "."
	}
	b.AccessibilitySummary = summary
}
