package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/bindery/bindery/internal/bindery"
)

// handleImportBook: POST /api/v1/books/import — a new book from a .zip or
// .tar.gz of a book folder (the raw request body). The archive is unpacked
// and checked entry by entry into a hidden staging folder (bookfs.Stage:
// the rules of single uploads, real inflated sizes, no links or devices);
// only then is the book created, owned by the caller, and the folder moved
// into place. Nothing is left of a refused archive. 201 with the book, its
// files and the entries skipped (not book files).
func (s *Server) handleImportBook(w http.ResponseWriter, r *http.Request) {
	lim := s.books.Limits().MaxBookBytes
	body := &cappedBody{r: http.MaxBytesReader(w, r.Body, lim)}
	imp, err := s.books.Import(r.Context(), s.actor(r), body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if body.capped || errors.As(err, &tooBig) {
			err = bindery.Errorf(bindery.ETOOLARGE, "The archive is larger than the book limit of %d bytes.", lim)
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"book": bookView{Book: imp.Book, Metadata: &imp.Metadata}, "files": imp.Files, "skipped": nonNil(imp.Skipped)})
}

// handleExportSource: GET /api/v1/books/{id}/source.zip — the book folder
// as a zip, streamed; importing it gives the same folder byte for byte.
func (s *Server) handleExportSource(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "book-" + strconv.FormatInt(b.ID, 10) + "-source.zip"}))
	h.Set("Cache-Control", "private, no-store")
	if err := s.books.ExportSource(r.Context(), b.ID, w); err != nil {
		// The status is sent: all that is left is to cut the download
		// short (a truncated zip does not open) and say why in the log.
		s.log.Warn("book source export cut short", "book_id", b.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// cappedBody notes when a MaxBytesReader below it refused more bytes, so
// that the error can say so whichever layer (zip, gzip, a file) saw it.
type cappedBody struct {
	r      io.Reader
	capped bool
}

func (c *cappedBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		c.capped = true
	}
	return n, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
