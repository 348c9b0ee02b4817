package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// maxJSONBody bounds every JSON request body: API requests are small;
// files travel through the upload routes with their own limit.
const maxJSONBody = 64 << 10

// Shared, read-only header values (see everyResponse).
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	noStore         = []string{"no-store"}
)

// writeJSON writes v as JSON with status. API answers are never cached:
// they carry personal data.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// decodeJSON reads one JSON object into v: at most maxJSONBody bytes,
// Content-Type application/json, no unknown fields, nothing after it.
// Errors are EINVALID, ETOOLARGE or EUNSUPPORTED with a useful message.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return bindery.Errorf(bindery.EUNSUPPORTED, "Send the request body as application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bindery.Errorf(bindery.ETOOLARGE, "The request body is larger than %d bytes.", maxJSONBody)
		}
		return bindery.Errorf(bindery.EINVALID, "The request body is not valid JSON for this request: %s", jsonProblem(err))
	}
	if dec.More() {
		return bindery.Errorf(bindery.EINVALID, "The request body must hold exactly one JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return bindery.Errorf(bindery.EINVALID, "The request body must hold exactly one JSON object.")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing input values
// (a password field could be in it).
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error"
	case errors.As(err, &typ):
		return "field " + typ.Field + " has the wrong type"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed"
}

// exportWriteTimeout is how long one write of a long download (an export)
// may take: the server's write timeout is meant for small answers, and an
// export runs longer, so each write that makes progress extends the
// deadline. A stalled client still times out.
const exportWriteTimeout = 30 * time.Second

// progressWriter extends the connection's write deadline before each
// write, so that a long download lives as long as it makes progress and no
// longer.
type progressWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func newProgressWriter(w http.ResponseWriter) progressWriter {
	return progressWriter{w: w, rc: http.NewResponseController(w)}
}

func (p progressWriter) Write(b []byte) (int, error) {
	_ = p.rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	return p.w.Write(b)
}
