package realtime

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/bindery/bindery/internal/bindery"
)

// SessionCookie is the session cookie's name (CONTRACT.md §5; the same as
// server.SessionCookie, repeated here so that realtime does not import
// the HTTP layer).
const SessionCookie = "bindery_session"

// Defaults of HandlerOptions.
const (
	DefaultAuthTimeout   = 5 * time.Second
	DefaultMaxFrameBytes = 64 << 10
	DefaultCallTimeout   = 10 * time.Second

	// maxTokenFrameBytes bounds the first frame of an unauthenticated
	// peer: a token, not a payload.
	maxTokenFrameBytes = 4 << 10
	// drainLimit is how much of an oversized frame the server reads and
	// discards to keep the connection; past it the connection is closed
	// with 1009.
	drainLimit = 1 << 20
)

// Reasons passed to OnAuthFailure.
const (
	FailHost         = "host not served"
	FailOrigin       = "origin not allowed"
	FailNoCredential = "no credential"
	FailCredential   = "invalid credential"
	// FailNotAllowed: a valid credential whose holder may not connect
	// (two-factor enrolment pending), or one that could not be checked
	// (an internal error). No guess: not a sign-in failure.
	FailNotAllowed = "credential not allowed"
	FailTimeout    = "no token frame in time"
	FailTokenFrame = "malformed token frame"
	FailAuthHeader = "authorization header not bearer"
)

// HandlerOptions configures NewHandler. Hub, Auth, Backend and PublicURL
// are required.
type HandlerOptions struct {
	Hub     *Hub
	Auth    Authenticator
	Backend Backend

	// PublicURL is BINDERY_PUBLIC_URL: its origin may connect (and present
	// the session cookie), its host name is served.
	PublicURL *url.URL
	// AllowedOrigins are further origins ("https://admin.example.org")
	// treated exactly like PublicURL's own: they may connect and use the
	// session cookie. Only list origins that are this application.
	AllowedOrigins []string
	// AllowedHosts are further host names the Host header may carry.
	// "localhost" and IP literals are always accepted.
	AllowedHosts []string

	// DashboardToken is DASHBOARD_TOKEN. Empty means there is none: then
	// no credential ever matches it (NOTES.md #1).
	DashboardToken string
	// DashboardViewer is who a DASHBOARD_TOKEN holder is (default
	// ReadAllViewer: reads every book, controls none).
	DashboardViewer Viewer

	// OnAuthFailure is called for every refused connection, with one of
	// the Fail… reasons, for the audit log and the rate limits. It runs on
	// the connection's goroutine; r's body and context must not be used.
	//
	// For a handshake refused before the upgrade (FailHost, FailOrigin) a
	// non-zero return says the address has gone over its limit of refused
	// handshakes: the answer is then 429 Too Many Requests with
	// Retry-After instead of 421 or 403. Those refusals are what any web
	// page can provoke from its visitors' browsers, so the caller should
	// count them apart from sign-in failures (see server.newWSHandler).
	OnAuthFailure func(r *http.Request, reason string) (retryAfter time.Duration)

	// CatchUp, when set, is called before a resume (?since=ID, a token
	// frame's since, or an in-band resume) whose ID is beyond the newest
	// event this hub has published, and returns when the hub has read
	// what was stored up to now, or when ctx ends. With several nodes the
	// client may have seen event ID on another node before this node's
	// feed read it; without the wait such a resume would get a fresh
	// state_sync instead of the events after ID. An ID still beyond after
	// the catch-up is unknown, and gets the state_sync.
	CatchUp func(ctx context.Context, id int64)

	AuthTimeout   time.Duration // for the token frame (default 5 s)
	MaxFrameBytes int64         // per client frame (default 64 KiB)
	CallTimeout   time.Duration // per Backend or Authenticator call (default 10 s)
	Logger        *slog.Logger  // default discard
}

// Handler serves /ws (CONTRACT.md §6). Create it with NewHandler.
type Handler struct {
	o         HandlerOptions
	hub       *Hub
	policy    *originPolicy
	tokenHash *[sha256.Size]byte // nil without DASHBOARD_TOKEN
	log       *slog.Logger
}

// NewHandler returns the /ws handler. It fails when a required option is
// missing or an allowlisted origin is malformed.
func NewHandler(o HandlerOptions) (*Handler, error) {
	if o.Hub == nil || o.Auth == nil || o.Backend == nil {
		return nil, errors.New("realtime: Hub, Auth and Backend are required")
	}
	policy, err := newOriginPolicy(o.PublicURL, o.AllowedOrigins, o.AllowedHosts)
	if err != nil {
		return nil, err
	}
	if o.DashboardViewer == nil {
		o.DashboardViewer = ReadAllViewer{}
	}
	if o.AuthTimeout <= 0 {
		o.AuthTimeout = DefaultAuthTimeout
	}
	if o.MaxFrameBytes <= 0 {
		o.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{o: o, hub: o.Hub, policy: policy, log: o.Logger}
	if o.DashboardToken != "" {
		sum := sha256.Sum256([]byte(o.DashboardToken))
		h.tokenHash = &sum
	}
	return h, nil
}

// ServeHTTP checks Host and Origin, upgrades, authenticates and syncs,
// then hands the connection to a goroutine of its own and returns; the
// hub tracks it from the upgrade on (Stats, Shutdown).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.policy.allowedHost(r.Host) {
		h.refuseHandshake(w, r, FailHost, "This server does not answer for that host name.", http.StatusMisdirectedRequest)
		return
	}
	origin := r.Header.Get("Origin")
	sameOrigin := origin != "" && h.policy.allowedOrigin(origin)
	if origin != "" && !sameOrigin {
		h.refuseHandshake(w, r, FailOrigin, "Cross-origin WebSocket connections are refused.", http.StatusForbidden)
		return
	}
	cred, credFail := credential(r, sameOrigin)
	resume, since := sinceParam(r.URL)

	bw := &batchWriter{ResponseWriter: w}
	conn, err := websocket.Accept(bw, r, &websocket.AcceptOptions{OriginPatterns: h.policy.patterns})
	if err != nil {
		return // Accept has answered
	}
	// Frame size is enforced by readFrame, so that an oversized frame gets
	// an error frame instead of the library's immediate 1009.
	conn.SetReadLimit(-1)
	c := newClient(h.hub, conn)
	c.wire = bw.conn
	if !h.hub.track(c) {
		conn.Close(websocket.StatusGoingAway, reasonShutdown)
		return
	}
	if !h.open(r, c, conn, cred, credFail, resume, since) {
		h.finish(c)
		return
	}
	c.startPing()
	// Serve on a fresh goroutine and let ServeHTTP return: net/http then
	// drops the request, its headers and its response buffers, which would
	// otherwise live as long as the connection (about a third of the
	// memory of an idle connection).
	go func() {
		defer h.finish(c)
		h.serve(c, conn)
	}()
}

// open authenticates the connection and sends state_sync (or the missed
// events). It reports false when the connection is over.
func (h *Handler) open(r *http.Request, c *client, conn *websocket.Conn, cred, credFail string, resume bool, since int64) bool {
	if credFail != "" {
		h.refuse(r, conn, credFail)
		return false
	}
	if cred == "" {
		var ok bool
		var frameSince *int64
		if cred, frameSince, ok = h.awaitToken(r, conn); !ok {
			return false
		}
		if frameSince != nil {
			resume, since = true, *frameSince
		}
	}
	if _, err := h.authenticateFor(c, cred); err != nil {
		reason := FailCredential
		switch bindery.ErrorCode(err) {
		case bindery.EUNAUTHORIZED:
		case bindery.EINTERNAL:
			h.log.Error("websocket authentication failed", "err", err)
			reason = FailNotAllowed
		default:
			reason = FailNotAllowed
		}
		h.refuse(r, conn, reason)
		return false
	}
	return h.start(c, resume, since)
}

// finish forgets a connection whose reader has stopped and makes sure it
// is closed.
func (h *Handler) finish(c *client) {
	h.hub.untrack(c)
	c.closeWith(websocket.StatusNormalClosure, "", true)
}

// credential picks the connection's credential from the handshake:
// Authorization: Bearer, else the session cookie — but the cookie only
// when Origin is ours. A browser attaches cookies to cross-site WebSocket
// handshakes, so a cookie without a same-origin Origin proves nothing;
// it is ignored, and the peer must send a token frame instead.
func credential(r *http.Request, sameOrigin bool) (cred, fail string) {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, ok := strings.Cut(a, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", FailAuthHeader
		}
		return strings.TrimSpace(tok), ""
	}
	if sameOrigin {
		if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
			return ck.Value, ""
		}
	}
	return "", ""
}

// sinceParam reads ?since=N, the connect-time resume point.
func sinceParam(u *url.URL) (bool, int64) {
	s := u.Query().Get("since")
	if s == "" {
		return false, 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return false, 0
	}
	return true, n
}

// authenticateFor authenticates cred and records the viewer on c. A
// Disconnect that runs while the credential is being checked may have
// been meant for it (a session revoked that very moment), so then the
// credential is checked again.
func (h *Handler) authenticateFor(c *client, cred string) (Viewer, error) {
	for range 3 {
		gen := h.hub.generation()
		v, err := h.authenticate(cred)
		if err != nil {
			return nil, err
		}
		if h.hub.authenticated(c, v, gen) {
			return v, nil
		}
	}
	return nil, bindery.Errorf(bindery.EUNAUTHORIZED, authFailedMessage)
}

// authenticate resolves a credential. The DASHBOARD_TOKEN is compared in
// constant time over SHA-256 digests (so not even its length leaks), and
// only when one is configured: an empty credential never matches an unset
// token (NOTES.md #1).
func (h *Handler) authenticate(cred string) (Viewer, error) {
	if cred == "" {
		return nil, bindery.Errorf(bindery.EUNAUTHORIZED, authFailedMessage)
	}
	if h.tokenHash != nil {
		sum := sha256.Sum256([]byte(cred))
		if subtle.ConstantTimeCompare(sum[:], h.tokenHash[:]) == 1 {
			return h.o.DashboardViewer, nil
		}
	}
	ctx, cancel := context.WithTimeout(h.hub.ctx, h.o.CallTimeout)
	defer cancel()
	v, err := h.o.Auth.Authenticate(ctx, cred)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, bindery.Errorf(bindery.EUNAUTHORIZED, authFailedMessage)
	}
	return v, nil
}

// awaitToken reads the first frame, {"token": "…"}, within AuthTimeout.
// On failure it has refused the connection and returns ok false.
//
// The deadline is a timer, not a context on the read: cancelling a read
// makes coder/websocket cut the connection, and the peer must first get
// the error frame.
func (h *Handler) awaitToken(r *http.Request, conn *websocket.Conn) (token string, since *int64, ok bool) {
	const waiting, received, expired = 0, 1, 2
	var state atomic.Int32
	t := time.AfterFunc(h.o.AuthTimeout, func() {
		if state.CompareAndSwap(waiting, expired) {
			h.refuse(r, conn, FailTimeout)
		}
	})
	defer t.Stop()
	buf, tooBig, err := readFrame(conn, maxTokenFrameBytes)
	defer putBuffer(buf)
	if !state.CompareAndSwap(waiting, received) {
		return "", nil, false
	}
	if err != nil && !errors.Is(err, errTooBig) {
		h.authFailed(r, FailNoCredential) // the peer left without a word
		return "", nil, false
	}
	if tooBig {
		h.refuse(r, conn, FailTokenFrame)
		return "", nil, false
	}
	if token, since, err = parseTokenFrame(buf.Bytes()); err != nil {
		h.refuse(r, conn, FailTokenFrame)
		return "", nil, false
	}
	return token, since, true
}

// refuse answers a failed authentication as CONTRACT.md §6 says: the
// error frame, then close 1008. The message is the same for every cause.
func (h *Handler) refuse(r *http.Request, conn *websocket.Conn, reason string) {
	h.authFailed(r, reason)
	body := mustJSON(errorFrame{Type: FrameError, Timestamp: h.hub.now().UTC(), Message: authFailedMessage})
	ctx, cancel := context.WithTimeout(context.Background(), h.hub.opts.WriteTimeout)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, withID(0, body)); err != nil {
		conn.CloseNow()
		return
	}
	conn.Close(websocket.StatusPolicyViolation, "authentication failed")
}

func (h *Handler) authFailed(r *http.Request, reason string) time.Duration {
	h.log.Warn("websocket authentication refused", "reason", reason, "path", r.URL.Path)
	if h.o.OnAuthFailure != nil {
		return h.o.OnAuthFailure(r, reason)
	}
	return 0
}

// refuseHandshake answers a handshake refused before the upgrade with
// status, or with 429 and Retry-After when OnAuthFailure says the address
// is over its limit.
func (h *Handler) refuseHandshake(w http.ResponseWriter, r *http.Request, reason, msg string, status int) {
	if retry := h.authFailed(r, reason); retry > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((retry+time.Second-1)/time.Second), 10))
		http.Error(w, "Too many refused WebSocket connections from your address; try again later.", http.StatusTooManyRequests)
		return
	}
	http.Error(w, msg, status)
}

// start makes c live: the missed events for a resumable since, else a
// state_sync. It reports false when the connection is over.
func (h *Handler) start(c *client, resume bool, since int64) bool {
	if resume {
		h.catchUp(since)
	}
	if !h.hub.attach(c, resume, since, nil) {
		return true
	}
	runs, err := h.activeRuns(c.viewer)
	if err != nil {
		h.log.Error("websocket state_sync failed", "viewer", c.viewer.ID(), "err", err)
		h.hub.send(c, h.errorBody(err))
		c.closeWith(websocket.StatusInternalError, "state unavailable", false)
		return false
	}
	h.hub.attach(c, false, 0, runs)
	return true
}

// catchUp waits, at most CallTimeout, for this hub to have read what is
// stored up to event since when it is beyond the newest it published
// (HandlerOptions.CatchUp).
func (h *Handler) catchUp(since int64) {
	if h.o.CatchUp == nil || since <= h.hub.newest() {
		return
	}
	ctx, cancel := context.WithTimeout(h.hub.ctx, h.o.CallTimeout)
	defer cancel()
	h.o.CatchUp(ctx, since)
}

// activeRuns returns the active runs the viewer may read, never nil.
func (h *Handler) activeRuns(v Viewer) ([]bindery.Run, error) {
	ctx, cancel := context.WithTimeout(h.hub.ctx, h.o.CallTimeout)
	defer cancel()
	all, err := h.o.Backend.ActiveRuns(ctx, v)
	if err != nil {
		return nil, err
	}
	runs := make([]bindery.Run, 0, len(all))
	for _, run := range all {
		if v.CanRead(run.BookID) {
			runs = append(runs, run)
		}
	}
	return runs, nil
}

// serve reads client frames until the connection ends.
func (h *Handler) serve(c *client, conn *websocket.Conn) {
	for {
		buf, tooBig, err := readFrame(conn, h.o.MaxFrameBytes)
		switch {
		case errors.Is(err, errTooBig):
			putBuffer(buf)
			h.hub.send(c, h.errorBody(h.tooBig()))
			c.closeWith(websocket.StatusMessageTooBig, "frame too large", false)
			return
		case err != nil:
			putBuffer(buf)
			return
		case tooBig:
			h.hub.send(c, h.errorBody(h.tooBig()))
		default:
			h.handleFrame(c, buf.Bytes())
		}
		putBuffer(buf)
	}
}

func (h *Handler) tooBig() error {
	return bindery.Errorf(bindery.ETOOLARGE, "Frame too large: the limit is %d bytes.", h.o.MaxFrameBytes)
}

// errorBody encodes an error frame. Only an *bindery.Error's message
// reaches the client.
func (h *Handler) errorBody(err error) []byte {
	return mustJSON(errorFrame{Type: FrameError, Timestamp: h.hub.now().UTC(),
		Code: bindery.ErrorCode(err), Message: bindery.ErrorMessage(err)})
}

// errTooBig: a frame so large that even draining it was not worth it.
var errTooBig = errors.New("realtime: frame over the drain limit")

// readFrame waits for the next message and reads it into a pooled
// buffer, taken only once a message has arrived so that a waiting
// connection holds none. A message over limit bytes is read on and
// discarded, up to drainLimit more, and reported as tooBig; a longer one
// returns errTooBig. buf is nil only with an error from the connection.
func readFrame(conn *websocket.Conn, limit int64) (buf *bytes.Buffer, tooBig bool, err error) {
	_, rd, err := conn.Reader(context.Background())
	if err != nil {
		return nil, false, err
	}
	buf = getBuffer()
	n, err := buf.ReadFrom(io.LimitReader(rd, limit+1))
	if err != nil {
		return buf, false, err
	}
	if n <= limit {
		return buf, false, nil
	}
	if _, err = io.CopyN(io.Discard, rd, drainLimit); errors.Is(err, io.EOF) {
		return buf, true, nil
	} else if err != nil {
		return buf, true, err
	}
	return buf, true, errTooBig
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

// putBuffer returns small buffers to the pool; a buffer grown by a large
// frame is left to the collector, so idle connections hold nothing.
func putBuffer(b *bytes.Buffer) {
	if b != nil && b.Cap() <= 2*DefaultMaxFrameBytes {
		b.Reset()
		bufferPool.Put(b)
	}
}
