// Package web holds the embedded HTML templates and static files. Pages
// are rendered with html/template (contextual escaping) and load no inline
// script or style, so the strict Content-Security-Policy holds.
package web

import (
	"embed"
	"html/template"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Templates parses every page template. Each page defines "title" and
// "content" and is executed as "layout".
func Templates() (*template.Template, error) {
	return template.ParseFS(templates, "templates/*.html")
}

// Static is the static file tree (style sheets, scripts), rooted so that
// "style.css" is static/style.css.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}
