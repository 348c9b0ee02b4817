package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/manuscript"
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
	files, err := s.books.List(b.ID)
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
	name, err := bookfs.CleanPath(r.PathValue("path"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := bookfs.KindOf(name); err != nil {
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

func (s *Server) putFile(r *http.Request, name string, body io.Reader) (bookfs.File, error) {
	b := bookOf(r)
	f, err := s.books.Put(r.Context(), b.ID, name, body)
	var tooBig *http.MaxBytesError
	var aborted *bookfs.AbortError
	if errors.As(err, &tooBig) {
		err = tooLarge(s.books.Limits().MaxFileBytes)
	} else if errors.As(err, &aborted) {
		// The client went away mid-body (or cancelled): an abort, logged
		// as such, not an internal error; nothing was stored.
		s.log.Info("upload aborted by the client", "book_id", b.ID, "file", name)
		err = bindery.Errorf(bindery.EINVALID, "The upload ended before the file was complete; nothing was stored.")
	}
	if err != nil {
		return f, err
	}
	if name == bookfs.MetadataFile {
		// The listing keeps its old title when the new one carries a
		// character that reorders or hides text (bindery.TitleRune).
		md, _, err := s.readMetadata(b.ID)
		if err == nil && md != nil && md.Title != "" && md.Title != b.Title {
			if _, bad := bindery.TitleRune(md.Title); !bad {
				_ = s.store.UpdateBookTitle(r.Context(), b.ID, md.Title, s.now())
			}
		}
		if err == nil && md != nil {
			s.unplace(b.ID, md)
		}
	}
	p, c := s.callerClient(r)
	s.auth.Audit(r.Context(), bookEvent(bindery.AuditFileWritten, p, c, b, name))
	return f, nil
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
	auto := r.URL.Query().Get("place") == "auto"
	var named []string // what metadata.yaml names, read once (and after it is replaced)
	if auto {
		named = s.metadataNames(bookOf(r).ID)
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
		name, err := uploadName(raw, auto && !slices.Contains(named, raw))
		if err == nil {
			var f bookfs.File
			f, err = s.putFile(r, name, part)
			stored = append(stored, f)
			if err == nil && auto && name == bookfs.MetadataFile {
				named = s.metadataNames(bookOf(r).ID)
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

// uploadName cleans a multipart file name and, with auto, places a bare
// one by type.
// metadataPaths are the files metadata.yaml names (cover, stylesheet).
func metadataPaths(md *manuscript.Metadata) []string {
	var out []string
	for _, p := range []string{md.Cover, md.EPUB.CoverImage, md.EPUB.Stylesheet} {
		if p != "" {
			out = append(out, strings.TrimPrefix(p, "./"))
		}
	}
	return out
}

// metadataNames are the paths the book's metadata.yaml names: automatic
// placement keeps a bare file name it names as it is ("cover: cover.jpg")
// instead of moving it into assets/images/ and breaking the reference.
func (s *Server) metadataNames(id int64) []string {
	if md, _, err := s.readMetadata(id); err == nil && md != nil {
		return metadataPaths(md)
	}
	return nil
}

// unplace undoes an automatic placement that a metadata.yaml stored after
// it contradicts: a bare file it names ("cover.jpg") that is missing but
// was placed by type ("assets/images/cover.jpg") moves back to the name,
// so that the order in which a folder's files arrive does not matter.
func (s *Server) unplace(id int64, md *manuscript.Metadata) {
	for _, p := range metadataPaths(md) {
		if strings.Contains(p, "/") {
			continue
		}
		k, err := bookfs.KindOf(p)
		if err != nil {
			continue
		}
		placed := bookfs.Placement(p, k)
		if placed == p {
			continue
		}
		if err := s.books.Move(id, placed, p); err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND && bindery.ErrorCode(err) != bindery.ECONFLICT {
			s.log.Warn("moving a placed file back to the name metadata.yaml gives it", "book_id", id, "file", p, "err", err)
		}
	}
}

func uploadName(raw string, auto bool) (string, error) {
	name, err := bookfs.CleanPath(raw)
	if err != nil {
		return "", err
	}
	k, err := bookfs.KindOf(name)
	if err != nil {
		return "", err
	}
	if auto {
		name = bookfs.Placement(name, k)
	}
	return name, nil
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
	f, info, err := s.books.Get(bookOf(r).ID, name)
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
	b := bookOf(r)
	if err := s.books.Delete(b.ID, name); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, c := s.callerClient(r)
	s.auth.Audit(r.Context(), bookEvent(bindery.AuditFileDeleted, p, c, b, name))
	w.WriteHeader(http.StatusNoContent)
}
