// Package web holds the embedded HTML templates and static files. Pages
// are rendered with html/template (contextual escaping) and load no inline
// script or style, so the strict Content-Security-Policy holds.
//
// The signed-in page is the dashboard: a static shell (templates
// dashboard.html) whose ES modules under static/js fetch everything else
// from /api/v1 and /ws. It needs no template data; "page" renders it
// whenever its data has a non-nil User, so GET / needs no change.
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

// DashboardTemplate names the dashboard shell in Templates. It takes no
// data (nil is fine): the page learns who is signed in from GET /api/v1/me.
const DashboardTemplate = "dashboard"

// Templates parses every page template. The sign-in and set-up pages
// define "title" and "content" and are executed as "page" (which uses
// "layout"); "page" with a signed-in User renders DashboardTemplate.
func Templates() (*template.Template, error) {
	return template.ParseFS(templates, "templates/*.html")
}

// Static is the static file tree (style sheets, scripts), rooted so that
// "app.css" is static/app.css.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}
