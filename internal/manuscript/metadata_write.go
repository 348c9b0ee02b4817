package manuscript

import (
	"go.yaml.in/yaml/v3"
)

// metadataYAML is the written form of metadata.yaml: the original system's
// keys, empty values left out.
type metadataYAML struct {
	Title       string    `yaml:"title"`
	Subtitle    string    `yaml:"subtitle,omitempty"`
	Author      []string  `yaml:"author,omitempty"`
	Language    string    `yaml:"language,omitempty"`
	Identifier  string    `yaml:"identifier,omitempty"`
	ISBN        string    `yaml:"isbn,omitempty"`
	Publisher   string    `yaml:"publisher,omitempty"`
	Date        string    `yaml:"date,omitempty"`
	Rights      string    `yaml:"rights,omitempty"`
	Description string    `yaml:"description,omitempty"`
	Subject     []string  `yaml:"subject,omitempty"`
	Cover       string    `yaml:"cover,omitempty"`
	PDF         *pdfYAML  `yaml:"pdf,omitempty"`
	EPUB        *epubYAML `yaml:"epub,omitempty"`
}

type pdfYAML struct {
	PageSize   string       `yaml:"page_size,omitempty"`
	Margins    *marginsYAML `yaml:"margins,omitempty"`
	FontFamily string       `yaml:"font_family,omitempty"`
	FontSize   string       `yaml:"font_size,omitempty"`
}

type marginsYAML struct {
	Top    string `yaml:"top,omitempty"`
	Right  string `yaml:"right,omitempty"`
	Bottom string `yaml:"bottom,omitempty"`
	Left   string `yaml:"left,omitempty"`
}

type epubYAML struct {
	CoverImage string `yaml:"cover_image,omitempty"`
	Stylesheet string `yaml:"stylesheet,omitempty"`
}

// YAML returns md as the text of a metadata.yaml that ParseMetadata
// reads back to the same Metadata. Comments and key order of a hand-written
// file are not kept: the server writes this form when metadata is edited
// through the API.
func (md Metadata) YAML() ([]byte, error) {
	out := metadataYAML{
		Title: md.Title, Subtitle: md.Subtitle, Author: md.Authors, Language: md.Language,
		Identifier: md.Identifier, ISBN: md.ISBN, Publisher: md.Publisher, Date: md.Date,
		Rights: md.Rights, Description: md.Description, Subject: md.Subjects, Cover: md.Cover,
	}
	if p := md.PDF; p != (PDFOptions{}) {
		out.PDF = &pdfYAML{PageSize: p.PageSize, FontFamily: p.FontFamily, FontSize: p.FontSize}
		if p.Margins != (Margins{}) {
			m := marginsYAML(p.Margins)
			out.PDF.Margins = &m
		}
	}
	if e := md.EPUB; e != (EPUBOptions{}) {
		out.EPUB = &epubYAML{CoverImage: e.CoverImage, Stylesheet: e.Stylesheet}
	}
	return yaml.Marshal(out)
}
