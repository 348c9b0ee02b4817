package server

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// catalogAccess is who may browse the catalog: anyone with
// BINDERY_PUBLIC_CATALOG=true, else signed-in users (the default: a press
// decides to go public).
func (s *Server) catalogAccess() Access {
	if s.cfg.PublicCatalog {
		return Anyone
	}
	return SignedIn
}

type publishRequest struct {
	RunID int64 `json:"run_id"`
}

// handlePublish: POST /api/v1/books/{id}/publish {run_id}. Only a run of
// this book whose quality stage passed can become its edition.
func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request) {
	var req publishRequest
	if err := decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	pub, err := s.books.Publish(r.Context(), s.actor(r), bookOf(r), req.RunID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pub)
}

// catalogEntry is a publication as the catalog page shows it.
type catalogEntry struct {
	*bindery.Publication
	Cover     string
	Downloads []catalogLink
}

type catalogLink struct{ Href, Label string }

var formatLabels = map[string]string{".epub": "EPUB", ".pdf": "PDF (print, 6×9)", ".html": "HTML"}

func (s *Server) catalogEntries(r *http.Request) ([]catalogEntry, error) {
	pubs, err := s.store.ListPublications(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]catalogEntry, 0, len(pubs))
	for _, p := range pubs {
		e := catalogEntry{Publication: p}
		for _, f := range p.Files {
			href := fmt.Sprintf("/catalog/%d/%s", p.BookID, f)
			if strings.HasPrefix(f, "cover.") {
				e.Cover = href
			} else if label, ok := formatLabels[path.Ext(f)]; ok {
				e.Downloads = append(e.Downloads, catalogLink{Href: href, Label: label})
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// handleCatalog: GET /catalog, the published books as a page.
func (s *Server) handleCatalog(w http.ResponseWriter, r *http.Request) {
	entries, err := s.catalogEntries(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, "catalog", map[string]any{"Entries": entries, "User": userOrNil(r)}); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(buf.Bytes())
}

func userOrNil(r *http.Request) *bindery.User {
	if p := principal(r); p != nil {
		return p.User
	}
	return nil
}

// handleCatalogFile: GET /catalog/{book}/{file}. Books download as
// attachments; the cover is shown inline (an image, under the sandboxing
// CSP like every user-supplied file).
func (s *Server) handleCatalogFile(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("book"), 10, 64)
	if err != nil {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "Not found."))
		return
	}
	name := r.PathValue("file")
	f, modified, err := s.catalog.Open(r.Context(), id, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	ct := editionTypes[path.Ext(name)]
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	if !strings.HasPrefix(name, "cover.") {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	h.Set("Content-Security-Policy", userContentCSP)
	http.ServeContent(w, r, "", modified, f)
}

// editionTypes are the media types of an edition's files (the artifacts
// and the cover the catalog copied).
var editionTypes = map[string]string{".epub": "application/epub+zip", ".pdf": "application/pdf", ".html": "text/html; charset=utf-8",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}

// OPDS 1.2 acquisition feed (Atom), for reading apps.
type opdsFeed struct {
	XMLName xml.Name    `xml:"feed"`
	Xmlns   string      `xml:"xmlns,attr"`
	DC      string      `xml:"xmlns:dc,attr"`
	OPDS    string      `xml:"xmlns:opds,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  opdsPerson  `xml:"author"`
	Links   []opdsLink  `xml:"link"`
	Entries []opdsEntry `xml:"entry"`
}

type opdsPerson struct {
	Name string `xml:"name"`
}

type opdsLink struct {
	Rel   string `xml:"rel,attr"`
	Href  string `xml:"href,attr"`
	Type  string `xml:"type,attr"`
	Title string `xml:"title,attr,omitempty"`
}

type opdsEntry struct {
	Title    string       `xml:"title"`
	ID       string       `xml:"id"`
	Updated  string       `xml:"updated"`
	Authors  []opdsPerson `xml:"author"`
	Language string       `xml:"dc:language,omitempty"`
	Summary  string       `xml:"summary,omitempty"`
	Links    []opdsLink   `xml:"link"`
}

const opdsAcquisition = "application/atom+xml;profile=opds-catalog;kind=acquisition"

// handleOPDS: GET /opds. Text is escaped by encoding/xml.
func (s *Server) handleOPDS(w http.ResponseWriter, r *http.Request) {
	pubs, err := s.store.ListPublications(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := strings.TrimSuffix(s.cfg.PublicURL.String(), "/")
	// Atom requires <updated>: the newest publication, or for an empty
	// catalog the time of the answer (nothing in it is older).
	var updated time.Time
	feed := opdsFeed{
		Xmlns: "http://www.w3.org/2005/Atom", DC: "http://purl.org/dc/terms/", OPDS: "http://opds-spec.org/2010/catalog",
		ID: base + "/opds", Title: "Bindery catalog", Author: opdsPerson{Name: "Bindery"},
		Links: []opdsLink{
			{Rel: "self", Href: base + "/opds", Type: opdsAcquisition},
			{Rel: "start", Href: base + "/opds", Type: opdsAcquisition},
		},
	}
	for _, p := range pubs {
		if p.PublishedAt.After(updated) {
			updated = p.PublishedAt
		}
		e := opdsEntry{Title: p.Title, ID: fmt.Sprintf("%s/catalog/%d", base, p.BookID), Updated: p.PublishedAt.Format(time.RFC3339),
			Language: p.Language, Summary: p.Description}
		for _, a := range p.Authors {
			e.Authors = append(e.Authors, opdsPerson{Name: a})
		}
		for _, f := range p.Files {
			href := fmt.Sprintf("%s/catalog/%d/%s", base, p.BookID, f)
			switch path.Ext(f) {
			case ".epub":
				e.Links = append(e.Links, opdsLink{Rel: "http://opds-spec.org/acquisition", Href: href, Type: "application/epub+zip"})
			case ".pdf":
				e.Links = append(e.Links, opdsLink{Rel: "http://opds-spec.org/acquisition", Href: href, Type: "application/pdf"})
			case ".png", ".jpg", ".jpeg", ".gif", ".webp":
				t := editionTypes[path.Ext(f)]
				e.Links = append(e.Links, opdsLink{Rel: "http://opds-spec.org/image", Href: href, Type: t},
					opdsLink{Rel: "http://opds-spec.org/image/thumbnail", Href: href, Type: t})
			}
		}
		feed.Entries = append(feed.Entries, e)
	}
	if updated.IsZero() {
		updated = s.now()
	}
	feed.Updated = updated.UTC().Format(time.RFC3339)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(feed); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", opdsAcquisition+";charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}
