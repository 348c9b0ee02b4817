package ideogram

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// Error is a failed call to the image service. Its text names the
// operation, the HTTP status and a short message of ours; it never holds
// the key, a response body or a transport error verbatim (those go, without
// the key, to the debug log). Unwrap yields a *bindery.Error (code and
// user-facing message) and, when the caller's context ended, its error, so
// errors.Is(err, context.Canceled) works.
type Error struct {
	Op       string // "generate" or "download"
	Status   int    // HTTP status; 0 when there was no answer
	Attempts int    // requests made
	Code     string // a bindery error code
	Message  string // safe to show to users

	retryAfter time.Duration
	cause      error // only context errors
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ideogram ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Status != 0 {
		b.WriteString(statusText(e.Status))
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Attempts > 1 {
		b.WriteString(" (after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		b.WriteString(" attempts)")
	}
	return b.String()
}

// Unwrap returns the *bindery.Error view and the context error, if any.
func (e *Error) Unwrap() []error {
	errs := []error{&bindery.Error{Code: e.Code, Message: e.Message, RetryAfter: e.retryAfter}}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// Retry defaults. Ideogram's default rate limit is 10 requests in flight;
// a cover takes 3–25 s to generate.
const (
	DefaultMaxAttempts    = 4
	DefaultBaseDelay      = 1 * time.Second
	DefaultMaxDelay       = 30 * time.Second
	DefaultDeadline       = 3 * time.Minute
	DefaultRequestTimeout = 90 * time.Second
)

// retrier runs an attempt function until it succeeds, fails for good, or
// runs out of attempts or time. now, sleep and rand are injected so tests
// neither sleep nor depend on chance.
type retrier struct {
	maxAttempts    int
	base, max      time.Duration
	deadline       time.Duration
	requestTimeout time.Duration
	now            func() time.Time
	sleep          func(context.Context, time.Duration) error
	rand           func() float64 // in [0, 1)
	log            *slog.Logger
}

// attemptFunc makes one request. It returns a nil error on success; else
// whether the failure may be retried (429, 5xx, transport errors).
type attemptFunc func(ctx context.Context) (retry bool, err *Error)

// run calls fn until it succeeds or must stop. start is when the whole
// operation began: the deadline counts from it. Every returned error is an
// *Error with Attempts set; when ctx ends, it wraps ctx.Err() and is
// returned at once, without another attempt or sleep.
func (r *retrier) run(ctx context.Context, op string, start time.Time, fn attemptFunc) error {
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return stopped(op, i, err)
		}
		actx, cancel := context.WithTimeout(ctx, r.requestTimeout)
		retry, err := fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		err.Attempts = i + 1
		if cerr := ctx.Err(); cerr != nil {
			return stopped(op, i+1, cerr)
		}
		if !retry {
			return err
		}
		if i+1 >= r.maxAttempts {
			return err
		}
		d := r.delay(i, err.retryAfter)
		if r.now().Add(d).Sub(start) > r.deadline {
			// Waiting would overrun the deadline: give up now rather than
			// sleep only to fail.
			return err
		}
		r.log.Warn("ideogram request failed; will retry", "op", op, "status", err.Status, "attempt", i+1, "delay", d.String(), "reason", err.Message)
		if serr := r.sleep(ctx, d); serr != nil {
			return stopped(op, i+1, serr)
		}
	}
}

// delay is the wait before attempt i+1 (i counts from 0): exponential
// back-off with full jitter (a uniform random wait between zero and
// base·2^i, capped at max), so that many clients throttled together do not
// return together; but never less than the server's Retry-After.
func (r *retrier) delay(i int, retryAfter time.Duration) time.Duration {
	ceil := r.max
	if i < 30 {
		if c := r.base << i; c > 0 && c < ceil {
			ceil = c
		}
	}
	f := r.rand()
	if f < 0 || f >= 1 {
		f = 0
	}
	d := time.Duration(f * float64(ceil))
	if retryAfter > d {
		d = retryAfter
	}
	return d
}

// stopped is the error for an operation whose context ended.
func stopped(op string, attempts int, cause error) *Error {
	msg := "The image request was cancelled."
	if errors.Is(cause, context.DeadlineExceeded) {
		msg = "The image request ran out of time."
	}
	return &Error{Op: op, Attempts: attempts, Code: bindery.EINTERNAL, Message: msg, cause: cause}
}

// maxRetryAfter bounds a Retry-After value so that arithmetic cannot
// overflow; the deadline decides whether to wait that long.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (RFC 9110 §10.2.3). It returns 0 when absent or malformed.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if strings.Trim(h, "0123456789") == "" {
		n, err := strconv.ParseUint(h, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter // only an overflow fails here
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d < 0:
		return 0
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
