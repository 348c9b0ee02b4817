// Package html writes a manuscript as one standalone, responsive HTML5
// file with a table of contents: the format to read a book in a browser or
// to attach it to an e-mail.
//
// The file carries its own Content-Security-Policy in a meta element, and
// it is strict: no script at all (default-src 'none'), no inline style
// attributes (the sanitiser removes them), images only from data: URIs (or
// from the file's own origin when they are copied beside it), and the one
// stylesheet in a <style> element allowed by the SHA-256 hash of its exact
// text, computed at build time, rather than by 'unsafe-inline'. So even a
// sanitiser bug could not run script when the file is opened.
//
// The page is built with html/template (contextual escaping of every
// metadata value); chapter bodies are the sanitised trees of package
// render/markdown, serialised by golang.org/x/net/html.
package html
