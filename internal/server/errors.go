package server

import (
	"math"
	"net/http"
	"strconv"

	"github.com/bindery/bindery/internal/bindery"
)

// statusOf maps error codes to HTTP statuses: the one place where the
// vocabulary meets HTTP.
var statusOf = map[string]int{
	bindery.EINVALID:        http.StatusBadRequest,
	bindery.EUNAUTHORIZED:   http.StatusUnauthorized,
	bindery.ESECONDFACTOR:   http.StatusUnauthorized,
	bindery.ETWOFACTORSETUP: http.StatusForbidden,
	bindery.EFORBIDDEN:      http.StatusForbidden,
	bindery.ENOTFOUND:       http.StatusNotFound,
	bindery.ECONFLICT:       http.StatusConflict,
	bindery.ETOOLARGE:       http.StatusRequestEntityTooLarge,
	bindery.EUNSUPPORTED:    http.StatusUnsupportedMediaType,
	bindery.EUNPROCESSABLE:  http.StatusUnprocessableEntity,
	bindery.ETOOMANY:        http.StatusTooManyRequests,
	bindery.EINTERNAL:       http.StatusInternalServerError,
	bindery.EINSUFFICIENT:   http.StatusInsufficientStorage,
}

// ErrorStatus returns the HTTP status for err.
func ErrorStatus(err error) int {
	if s, ok := statusOf[bindery.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers with the JSON error of CONTRACT.md §5. Internal errors
// are logged with their detail and answered with a generic message, so
// SQL, paths and stack traces never reach a client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, status := bindery.ErrorCode(err), ErrorStatus(err)
	switch code {
	case bindery.EINTERNAL:
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case bindery.EINSUFFICIENT:
		s.log.Error("storage full: a write was refused", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	setRetryAfter(w, err)
	var body errorBody
	body.Error.Code, body.Error.Message = code, bindery.ErrorMessage(err)
	writeJSON(w, status, body)
}

// setRetryAfter sets Retry-After (whole seconds, rounded up) for
// rate-limited errors.
func setRetryAfter(w http.ResponseWriter, err error) {
	if e, ok := err.(*bindery.Error); ok && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
}
