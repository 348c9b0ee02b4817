package manuscript

import (
	"go.yaml.in/yaml/v3"
)

// MetadataFile is the name of the metadata file at the top of a book folder.
const MetadataFile = "metadata.yaml"

// Metadata is the content of metadata.yaml. The field names are those of the
// original system and of pandoc, so existing books load unchanged. Unknown
// keys are ignored. Every text is trimmed; absent values are empty.
type Metadata struct {
	Title       string   `json:"title"`
	Subtitle    string   `json:"subtitle"`
	Authors     []string `json:"authors"`    // "author:" as one text or a list
	Language    string   `json:"language"`   // BCP 47 tag as written, e.g. "en-GB"; "lang" is accepted too
	Identifier  string   `json:"identifier"` // e.g. a URL or "urn:uuid:…"
	ISBN        string   `json:"isbn"`
	Publisher   string   `json:"publisher"`
	Date        string   `json:"date"` // as written: "1831", "2024-05-01", …
	Rights      string   `json:"rights"`
	Description string   `json:"description"`
	Subjects    []string `json:"subjects"` // "subject:" as one text or a list
	// Cover is the cover image, relative to the book folder. It comes from
	// "epub: {cover_image}", else "cover", else pandoc's "cover-image".
	Cover string      `json:"cover"`
	PDF   PDFOptions  `json:"pdf"`
	EPUB  EPUBOptions `json:"epub"`
}

// PDFOptions is the "pdf:" mapping, interpreted by the PDF renderer. Values
// are kept as written ("6x9", "0.75in", "11pt"); the renderer validates them.
type PDFOptions struct {
	PageSize   string  `json:"page_size"`
	Margins    Margins `json:"margins"`
	FontFamily string  `json:"font_family"`
	FontSize   string  `json:"font_size"`
}

// Margins accepts either one value for all four sides ("margins: 0.75in")
// or a mapping with top, right, bottom and left.
type Margins struct {
	Top    string `json:"top"`
	Right  string `json:"right"`
	Bottom string `json:"bottom"`
	Left   string `json:"left"`
}

// EPUBOptions is the "epub:" mapping.
type EPUBOptions struct {
	CoverImage string `json:"cover_image"` // relative to the book folder; overrides Cover
	Stylesheet string `json:"stylesheet"`  // extra CSS, relative to the book folder, e.g. assets/css/book.css
}

// parseMetadata decodes metadata.yaml. data has already been size-checked.
// ParseMetadata parses the content of a metadata.yaml with DefaultLimits.
// Errors are *Error ("metadata.yaml:LINE: message").
func ParseMetadata(data []byte) (Metadata, error) { return parseMetadata(data, DefaultLimits) }

func parseMetadata(data []byte, lim Limits) (Metadata, error) {
	var md Metadata
	doc, err := parseYAML(MetadataFile, 1, data, lim)
	if err != nil {
		return md, err
	}
	var cover, coverImage string
	err = doc.each(func(key string, v *yaml.Node) error {
		var err error
		switch key {
		case "title":
			md.Title, err = doc.str(key, v)
		case "subtitle":
			md.Subtitle, err = doc.str(key, v)
		case "author", "authors", "creator":
			var a []string
			a, err = doc.strs(key, v)
			md.Authors = append(md.Authors, a...)
		case "language", "lang":
			md.Language, err = doc.str(key, v)
		case "identifier":
			md.Identifier, err = doc.str(key, v)
		case "isbn":
			md.ISBN, err = doc.str(key, v)
		case "publisher":
			md.Publisher, err = doc.str(key, v)
		case "date":
			md.Date, err = doc.str(key, v)
		case "rights":
			md.Rights, err = doc.str(key, v)
		case "description":
			md.Description, err = doc.str(key, v)
		case "subject", "subjects", "keywords":
			var s []string
			s, err = doc.strs(key, v)
			md.Subjects = append(md.Subjects, s...)
		case "cover":
			cover, err = doc.str(key, v)
		case "cover-image":
			coverImage, err = doc.str(key, v)
		case "pdf":
			err = doc.mapping(key, v, func(k string, v *yaml.Node) error {
				return md.PDF.set(doc, k, v)
			})
		case "epub":
			err = doc.mapping(key, v, func(k string, v *yaml.Node) error {
				var err error
				switch k {
				case "cover_image", "cover-image":
					md.EPUB.CoverImage, err = doc.str("epub."+k, v)
				case "stylesheet":
					md.EPUB.Stylesheet, err = doc.str("epub."+k, v)
				}
				return err
			})
		}
		return err
	})
	if err != nil {
		return md, err
	}
	md.Cover = firstNonEmpty(md.EPUB.CoverImage, cover, coverImage)
	return md, nil
}

func (p *PDFOptions) set(doc *yamlDoc, k string, v *yaml.Node) error {
	var err error
	switch k {
	case "page_size", "page-size":
		p.PageSize, err = doc.str("pdf."+k, v)
	case "font_family", "font-family":
		p.FontFamily, err = doc.str("pdf."+k, v)
	case "font_size", "font-size":
		p.FontSize, err = doc.str("pdf."+k, v)
	case "margins", "margin":
		if v.Kind == yaml.MappingNode {
			return doc.mapping("pdf."+k, v, func(side string, v *yaml.Node) error {
				s, err := doc.str("pdf."+k+"."+side, v)
				switch side {
				case "top":
					p.Margins.Top = s
				case "right", "outside", "outer":
					p.Margins.Right = s
				case "bottom":
					p.Margins.Bottom = s
				case "left", "inside", "inner":
					p.Margins.Left = s
				}
				return err
			})
		}
		var s string
		s, err = doc.str("pdf."+k, v)
		p.Margins = Margins{s, s, s, s}
	}
	return err
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
