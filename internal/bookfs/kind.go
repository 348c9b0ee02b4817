package bookfs

import (
	"path"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
)

// Kind is an accepted file type.
type Kind struct {
	Ext         string // lower-case, with the dot; "" for metadata.yaml
	ContentType string // exact Content-Type served on download
}

// MetadataFile is the one accepted file name without an allowed extension.
const MetadataFile = "metadata.yaml"

// kinds are the original system's ALLOWED_EXTENSIONS (.md .txt .jpg .png
// .pdf .epub), plus .jpeg (the same format), metadata.yaml, and what the
// book folder format uses besides: stylesheets (.css), fonts for
// pdf.font_family and @font-face (.ttf, .otf) and GIF and WebP images.
// Each is checked for what it claims to be (content.go). SVG is refused:
// it is a document that can carry script and remote references, and
// Bindery has no sanitiser for it that it would trust.
var kinds = map[string]Kind{
	".md":   {".md", "text/markdown; charset=utf-8"},
	".txt":  {".txt", "text/plain; charset=utf-8"},
	".jpg":  {".jpg", "image/jpeg"},
	".jpeg": {".jpeg", "image/jpeg"},
	".png":  {".png", "image/png"},
	".gif":  {".gif", "image/gif"},
	".webp": {".webp", "image/webp"},
	".pdf":  {".pdf", "application/pdf"},
	".epub": {".epub", "application/epub+zip"},
	".css":  {".css", "text/css; charset=utf-8"},
	".ttf":  {".ttf", "font/ttf"},
	".otf":  {".otf", "font/otf"},
}

var metadataKind = Kind{"", "application/yaml; charset=utf-8"}

// AllowedTypes names the accepted types for error messages.
const AllowedTypes = ".md, .txt, .jpg, .jpeg, .png, .gif, .webp, .css, .ttf, .otf, .pdf, .epub and metadata.yaml"

// KindOf returns the kind of a cleaned path, or EUNSUPPORTED naming the
// allowed types.
func KindOf(p string) (Kind, error) {
	base := path.Base(p)
	if base == MetadataFile {
		return metadataKind, nil
	}
	if k, ok := kinds[strings.ToLower(path.Ext(base))]; ok {
		return k, nil
	}
	return Kind{}, bindery.Errorf(bindery.EUNSUPPORTED, "Files of this type are not accepted; allowed: %s.", AllowedTypes)
}

// Placement returns where a bare file name (no folder) goes in a book:
// chapters/ for text, assets/images/ for images, assets/css/ for
// stylesheets, assets/fonts/ for fonts, sources/ for PDF and EPUB files,
// the top for metadata.yaml. Names with a folder are kept as given.
func Placement(p string, k Kind) string {
	if strings.Contains(p, "/") {
		return p
	}
	switch k.Ext {
	case ".md", ".txt":
		return "chapters/" + p
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return "assets/images/" + p
	case ".css":
		return "assets/css/" + p
	case ".ttf", ".otf":
		return "assets/fonts/" + p
	case ".pdf", ".epub":
		return "sources/" + p
	}
	return p
}
