// Package client talks to a Bindery server's HTTP API and live events for
// the command line (bindery login, push, pull, run). It speaks the API of
// CONTRACT.md §5 and §6 and nothing else: every check stays on the server.
//
// A client holds an API token and sends it only as an Authorization
// header, and only to the server it was made for; New refuses plain http
// to anything but the local machine, so a token never crosses a network
// unencrypted.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// Client is an API client for one server. Token is an API token
// ("bindery_tok_…"), or empty before signing in.
type Client struct {
	base  *url.URL
	Token string
	http  *http.Client
}

// New returns a client of the server at rawURL (https://host[:port], or
// http:// on a loopback address).
func New(rawURL, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(rawURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the server must be given as https://host[:port], not %q", rawURL)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("refusing plain http to %s: the API token would travel unencrypted; use https://", u.Host)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return &Client{base: u, Token: token, http: &http.Client{
		Timeout: 0, // uploads and downloads may be long; requests carry contexts
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 5 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
		},
		// A redirect to another host would carry nothing of ours (the
		// header is not forwarded across hosts), but a redirect is never
		// expected from the API: stop at it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL returns the server's base URL.
func (c *Client) URL() string { return c.base.String() }

// Error is an API error answer: its status and the server's code and
// message (safe to show).
type Error struct {
	Status    int
	Code      string
	Message   string
	Challenge string // with second_factor_required at sign-in
}

func (e *Error) Error() string { return e.Message }

// Unwrap makes errors.As find a *bindery.Error with the same code.
func (e *Error) Unwrap() error { return &bindery.Error{Code: e.Code, Message: e.Message} }

// request sends one request; out, when not nil, receives the JSON answer.
func (c *Client) request(ctx context.Context, method, path string, body io.Reader, contentType string, header http.Header, out any) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		var e struct {
			Error     struct{ Code, Message string } `json:"error"`
			Challenge string                         `json:"challenge"`
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			e.Error.Message = fmt.Sprintf("the server answered %s", resp.Status)
		}
		return nil, &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Challenge: e.Challenge}
	}
	if out == nil {
		return resp, nil
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(out); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	return resp, nil
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// SignIn signs in with a password (and code, or a challenge and code, for
// a second factor) and returns the session cookie. A *Error with Code
// second_factor_required carries the Challenge to answer.
func (c *Client) SignIn(ctx context.Context, email, password, challenge, code string) (string, error) {
	body := map[string]string{"email": email, "password": password, "code": code}
	if challenge != "" {
		body = map[string]string{"challenge": challenge, "code": code}
	}
	resp, err := c.request(ctx, "POST", "/api/v1/auth/login", jsonBody(body), "application/json", nil, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "bindery_session" {
			return ck.Value, nil
		}
	}
	return "", errors.New("the server did not start a session")
}

// CreateToken makes an API token with the session cookie, then signs the
// session out. It returns the token's secret.
func (c *Client) CreateToken(ctx context.Context, session, name, expiresIn string) (string, error) {
	h := http.Header{"Cookie": {"bindery_session=" + session}}
	var out struct {
		Secret string `json:"secret"`
	}
	_, err := c.request(ctx, "POST", "/api/v1/me/tokens", jsonBody(map[string]string{"name": name, "expires_in": expiresIn}), "application/json", h, &out)
	if resp, lerr := c.request(ctx, "POST", "/api/v1/auth/logout", nil, "", h, nil); lerr == nil {
		resp.Body.Close()
	}
	if err != nil {
		return "", err
	}
	return out.Secret, nil
}

// Me returns the signed-in account's e-mail address (a token check).
func (c *Client) Me(ctx context.Context) (string, error) {
	var out struct {
		Email string `json:"email"`
	}
	_, err := c.request(ctx, "GET", "/api/v1/me", nil, "", nil, &out)
	return out.Email, err
}

// Files returns the paths of book id's files with the SHA-256 of each.
func (c *Client) Files(ctx context.Context, id int64) (map[string]string, error) {
	var out struct {
		Files []struct {
			Path string `json:"path"`
		} `json:"files"`
		SHA256 map[string]string `json:"sha256"`
	}
	if _, err := c.request(ctx, "GET", bookPath(id, "/files?hash=sha256"), nil, "", nil, &out); err != nil {
		return nil, err
	}
	if out.SHA256 == nil {
		out.SHA256 = map[string]string{}
	}
	return out.SHA256, nil
}

// PutFile stores r at name in book id.
func (c *Client) PutFile(ctx context.Context, id int64, name string, r io.Reader) error {
	resp, err := c.request(ctx, "PUT", bookPath(id, "/files/"+escapePath(name)), r, "application/octet-stream", nil, nil)
	return closeBody(resp, err)
}

// DeleteFile removes name from book id.
func (c *Client) DeleteFile(ctx context.Context, id int64, name string) error {
	resp, err := c.request(ctx, "DELETE", bookPath(id, "/files/"+escapePath(name)), nil, "", nil, nil)
	return closeBody(resp, err)
}

// Import creates a book from a zip archive of its folder and returns its
// id and title.
func (c *Client) Import(ctx context.Context, zip io.Reader) (int64, string, error) {
	var out struct {
		Book struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"book"`
	}
	_, err := c.request(ctx, "POST", "/api/v1/books/import", zip, "application/zip", nil, &out)
	return out.Book.ID, out.Book.Title, err
}

// SourceZip returns the book folder as a zip archive; the caller closes
// it.
func (c *Client) SourceZip(ctx context.Context, id int64) (io.ReadCloser, error) {
	resp, err := c.request(ctx, "GET", bookPath(id, "/source.zip"), nil, "", nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Run is what the API says of a run.
type Run struct {
	ID     int64  `json:"id"`
	BookID int64  `json:"book_id"`
	State  string `json:"state"`
	Error  string `json:"error"`
}

// StartRun queues a run of book id.
func (c *Client) StartRun(ctx context.Context, id int64, formats []string, draft bool) (*Run, error) {
	var out Run
	body := map[string]any{"formats": formats}
	if draft {
		body["draft"] = true
	}
	_, err := c.request(ctx, "POST", bookPath(id, "/runs"), jsonBody(body), "application/json", nil, &out)
	return &out, err
}

// GetRun returns run id.
func (c *Client) GetRun(ctx context.Context, id int64) (*Run, error) {
	var out Run
	_, err := c.request(ctx, "GET", "/api/v1/runs/"+strconv.FormatInt(id, 10), nil, "", nil, &out)
	return &out, err
}

func bookPath(id int64, rest string) string {
	return "/api/v1/books/" + strconv.FormatInt(id, 10) + rest
}

func escapePath(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func closeBody(resp *http.Response, err error) error {
	if resp != nil {
		resp.Body.Close()
	}
	return err
}
