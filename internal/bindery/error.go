package bindery

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Error codes shared by every layer. The HTTP layer maps each code to one
// status (server.statusOf) and never shows an internal error's text to a
// client: only an *Error's Message is meant for users.
const (
	EINVALID        = "invalid"                   // 400: malformed or unacceptable input
	EUNAUTHORIZED   = "unauthorized"              // 401: no or bad credentials
	ESECONDFACTOR   = "second_factor_required"    // 401: password right, the account's second factor is needed
	ETWOFACTORSETUP = "two_factor_setup_required" // 403: policy requires the caller to turn on two-factor sign-in first
	EFORBIDDEN      = "forbidden"                 // 403: signed in, but not allowed
	ENOTFOUND       = "not_found"                 // 404: absent, or present but not the caller's to see
	ECONFLICT       = "conflict"                  // 409: clashes with existing state
	ETOOLARGE       = "too_large"                 // 413: body or file over a limit
	EUNSUPPORTED    = "unsupported_media_type"    // 415: file type not accepted
	EUNPROCESSABLE  = "unprocessable"             // 422: well-formed but semantically wrong
	ETOOMANY        = "too_many_requests"         // 429: rate limited or blocked
	EINTERNAL       = "internal"                  // 500: a bug or an outage; details only in logs
	EINSUFFICIENT   = "insufficient_storage"      // 507: the disk (or the database) is full; nothing was saved
)

// MessageNoSpace is what a caller is told when storage is full.
const MessageNoSpace = "The server is out of storage space, so nothing was saved. Try again later, or ask an administrator to free space."

// Error is an application error: a machine-readable Code and a Message safe
// to show to the caller. Messages must never contain secrets (tokens,
// passwords, keys): they travel to clients and into logs.
type Error struct {
	Code    string
	Message string

	// RetryAfter, when positive, tells a rate-limited caller how long to
	// wait (sent as the Retry-After header with ETOOMANY).
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("bindery error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain,
// EINSUFFICIENT for a full disk or database (NoSpace), EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	} else if NoSpace(err) {
		return EINSUFFICIENT
	}
	return EINTERNAL
}

// NoSpace reports whether err says that storage is full: ENOSPC or EDQUOT
// from the file system, or SQLite's SQLITE_FULL ("database or disk is
// full"), which the pure-Go driver returns as an error with a Code method
// whose low byte is the primary result code 13. A full disk is not a bug:
// callers are told so plainly (507) instead of "Internal error.", and the
// operator sees it in the log and in /readyz.
func NoSpace(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteFull
}

// sqliteFull is SQLite's SQLITE_FULL result code.
const sqliteFull = 13

// ErrorMessage returns the user-facing message of err: the Message of the
// first *Error in its chain, MessageNoSpace for a full disk, or "Internal
// error." for anything else, so internal details (SQL, paths, stack
// traces) never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	} else if NoSpace(err) {
		return MessageNoSpace
	}
	return "Internal error."
}
