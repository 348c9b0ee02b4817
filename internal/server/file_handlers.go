package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/books"
)

// Upload limits beyond the per-file size: how long one upload may take
// (the server's 60 s read timeout is extended for it), how many files one
// multipart request may carry, and what its non-file parts may add.
const (
	uploadTimeout      = 15 * time.Minute
	maxFilesPerRequest = 100
	multipartOverhead  = 1 << 20
)

// userContentCSP is sent with every file and preview a user supplied: it
// forbids scripts, plugins and forms, and "sandbox" gives the document a
// unique origin, so even HTML smuggled past every check runs nowhere near
// the dashboard's cookies.
const userContentCSP = "default-src 'none'; img-src 'self'; style-src 'self'; sandbox"

// handleListFiles: GET /api/v1/books/{id}/files.
//
// With ?hash=sha256 the answer also maps every path to the SHA-256 of its
// stored bytes ("sha256"); without it, "sha256" is null.
func (s *Server) handleListFiles(w http.ResponseWriter, r *http.Request) {
	b := bookOf(r)
	files, err := s.books.Files(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var used int64
	for _, f := range files {
		used += f.Size
	}
	var hashes map[string]string
	if r.URL.Query().Get("hash") == "sha256" { // for clients that synchronise (bindery push)
		if hashes, err = s.books.Hashes(r.Context(), b.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	lim := s.books.Limits()
	writeJSON(w, http.StatusOK, map[string]any{"files": files, "sha256": hashes, "usage": map[string]int64{
		"files": int64(len(files)), "bytes": used, "max_files": int64(lim.MaxFiles), "max_bytes": lim.MaxBookBytes, "max_file_bytes": lim.MaxFileBytes,
	}})
}

// extendUpload gives an upload more time than ordinary requests get.
func extendUpload(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTimeout))
}

// handlePutFile: PUT /api/v1/books/{id}/files/{path...} with the raw file
// as body. The body is limited while it streams (http.MaxBytesReader):
// a 60 MB upload costs the server a 32 KB buffer, not 60 MB.
func (s *Server) handlePutFile(w http.ResponseWriter, r *http.Request) {
	name, err := books.FileName(r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	max := s.books.Limits().MaxFileBytes
	if r.ContentLength > max {
		s.writeError(w, r, tooLarge(max))
		return
	}
	extendUpload(w)
	s.storeFile(w, r, name, http.MaxBytesReader(w, r.Body, max))
}

func tooLarge(max int64) error {
	return bindery.Errorf(bindery.ETOOLARGE, "The file is larger than the limit of %d bytes.", max)
}

// storeFile writes one file, audits it and answers with its description.
func (s *Server) storeFile(w http.ResponseWriter, r *http.Request, name string, body io.Reader) {
	f, err := s.putFile(r, name, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, f)
}

// putFile stores one file of the request's book, giving a body cut off
// by its size limit the limit's message.
func (s *Server) putFile(r *http.Request, name string, body io.Reader) (bookfs.File, error) {
	f, err := s.books.PutFile(r.Context(), s.actor(r), bookOf(r), name, body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = tooLarge(s.books.Limits().MaxFileBytes)
	}
	return f, err
}

// handleUploadFiles: POST /api/v1/books/{id}/files, multipart/form-data
// with one or more file parts. A part's file name is its path in the book
// ("chapters/01.md", "metadata.yaml"); with ?place=auto (drag and drop of
// loose files) a bare name is placed by type instead (chapters/,
// assets/images/, sources/). Parts stream straight to storage: nothing is
// buffered in memory or spooled by the multipart parser. Files stored
// before a failing part stay stored and are listed in the error's message.
func (s *Server) handleUploadFiles(w http.ResponseWriter, r *http.Request) {
	max := s.books.Limits().MaxFileBytes
	if r.ContentLength > max+multipartOverhead {
		s.writeError(w, r, tooLarge(max))
		return
	}
	extendUpload(w)
	r.Body = http.MaxBytesReader(w, r.Body, max+multipartOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		s.writeError(w, r, bindery.Errorf(bindery.EUNSUPPORTED, "Send files as multipart/form-data."))
		return
	}
	var place *books.Placement // loose files dropped on the book, placed by type
	if r.URL.Query().Get("place") == "auto" {
		if place, err = s.books.Placement(r.Context(), bookOf(r).ID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	stored := []bookfs.File{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, r, tooLarge(max))
			return
		} else if err != nil {
			s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "The multipart body is malformed."))
			return
		}
		raw := partFileName(part)
		if raw == "" {
			part.Close()
			continue
		}
		if len(stored) == maxFilesPerRequest {
			s.writeError(w, r, bindery.Errorf(bindery.ETOOLARGE, "At most %d files per request.", maxFilesPerRequest))
			return
		}
		var name string
		if place != nil {
			name, err = place.Name(raw)
		} else {
			name, err = books.FileName(raw)
		}
		if err == nil {
			var f bookfs.File
			f, err = s.putFile(r, name, part)
			stored = append(stored, f)
			if err == nil && place != nil {
				place.Stored(name)
			}
		}
		part.Close()
		if err != nil {
			if len(stored) > 0 && bindery.ErrorCode(err) != bindery.EINTERNAL {
				err = &bindery.Error{Code: bindery.ErrorCode(err), Message: bindery.ErrorMessage(err) + " (" + raw + "; files before it were stored)"}
			}
			s.writeError(w, r, err)
			return
		}
	}
	if len(stored) == 0 {
		s.writeError(w, r, bindery.Errorf(bindery.EINVALID, "The request holds no file."))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"files": stored})
}

// partFileName is the file name a multipart part declares, with its
// folders: mime/multipart's FileName keeps only the last element, but a
// folder upload needs "chapters/01.md". The name is untrusted here and
// goes through bookfs.CleanPath like any other.
func partFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return ""
	}
	return params["filename"]
}

// handleGetFile: GET /api/v1/books/{id}/files/{path...}. Always an
// attachment with its exact type, nosniff and a sandboxing CSP: a stored
// file is never rendered as a page of our origin.
func (s *Server) handleGetFile(w http.ResponseWriter, r *http.Request) {
	name, err := bookfs.CleanPath(r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "File not found."))
		return
	}
	f, info, err := s.books.Open(r.Context(), bookOf(r).ID, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(name)}))
	h.Set("Content-Security-Policy", userContentCSP)
	http.ServeContent(w, r, "", info.Modified, f)
}

// handleDeleteFile: DELETE /api/v1/books/{id}/files/{path...}.
func (s *Server) handleDeleteFile(w http.ResponseWriter, r *http.Request) {
	name, err := bookfs.CleanPath(r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, bindery.Errorf(bindery.ENOTFOUND, "File not found."))
		return
	}
	if err := s.books.DeleteFile(r.Context(), s.actor(r), bookOf(r), name); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
