package ideogram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// Size limits of what the image service may send us.
const (
	MaxJSONBytes  = 1 << 20  // an API answer
	MaxImageBytes = 20 << 20 // a downloaded image
	MaxRedirects  = 3        // when downloading an image
)

// DefaultBaseURL is Ideogram's API, as config.Load defaults it too.
const DefaultBaseURL = "https://api.ideogram.ai"

// ClientOptions configures NewClient. Zero values take the defaults named.
type ClientOptions struct {
	BaseURL string // DefaultBaseURL when empty (IDEOGRAM_BASE_URL)

	// HTTPClient supplies the Transport (proxy, TLS); its redirect policy
	// and timeout are replaced. http.DefaultTransport when nil.
	HTTPClient *http.Client

	Logger *slog.Logger // discards when nil

	MaxAttempts    int           // DefaultMaxAttempts: requests per operation
	BaseDelay      time.Duration // DefaultBaseDelay: first back-off ceiling
	MaxDelay       time.Duration // DefaultMaxDelay: back-off ceiling cap
	Deadline       time.Duration // DefaultDeadline: generate + download, retries included
	RequestTimeout time.Duration // DefaultRequestTimeout: one request, body included

	// For tests: the clock, the sleeper and the jitter source. Rand returns
	// a number in [0, 1).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Rand  func() float64
}

// Client calls Ideogram's generate endpoint and downloads the image.
// Safe for concurrent use.
type Client struct {
	endpoint string
	keys     *KeySource
	api      *http.Client // never follows redirects: the key header would follow
	dl       *http.Client // follows at most MaxRedirects, http(s) only, never has the key
	retry    retrier
	log      *slog.Logger
}

// Result is a generated and downloaded image.
type Result struct {
	Data       []byte
	MIME       string // "image/png" or "image/jpeg"
	Prompt     string // the prompt Ideogram used
	Seed       int64
	Resolution string // e.g. "832x1248"
	KeyVersion string // the version of the key that paid; never the key
	Attempts   int    // generate requests made
}

// NewClient returns a Client using the keys of ks. It fails only for a
// malformed BaseURL.
func NewClient(ks *KeySource, o ClientOptions) (*Client, error) {
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, bindery.Errorf(bindery.EINVALID, "IDEOGRAM_BASE_URL must be an http(s) URL.")
	}
	var transport http.RoundTripper = http.DefaultTransport
	if o.HTTPClient != nil && o.HTTPClient.Transport != nil {
		transport = o.HTTPClient.Transport
	}
	c := &Client{
		endpoint: strings.TrimRight(u.String(), "/") + generatePath,
		keys:     ks,
		api: &http.Client{
			Transport: transport,
			// Go strips Authorization on cross-host redirects but not a
			// custom header such as Api-Key: never follow, so the key goes
			// to the configured host only.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		dl:  &http.Client{Transport: transport, CheckRedirect: checkDownloadRedirect},
		log: o.Logger,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.retry = retrier{
		maxAttempts:    orInt(o.MaxAttempts, DefaultMaxAttempts),
		base:           orDur(o.BaseDelay, DefaultBaseDelay),
		max:            orDur(o.MaxDelay, DefaultMaxDelay),
		deadline:       orDur(o.Deadline, DefaultDeadline),
		requestTimeout: orDur(o.RequestTimeout, DefaultRequestTimeout),
		now:            o.Now,
		sleep:          o.Sleep,
		rand:           o.Rand,
		log:            c.log,
	}
	if c.retry.now == nil {
		c.retry.now = time.Now
	}
	if c.retry.sleep == nil {
		c.retry.sleep = sleepContext
	}
	if c.retry.rand == nil {
		c.retry.rand = rand.Float64
	}
	return c, nil
}

var (
	errTooManyRedirects = errors.New("too many redirects")
	errRedirectScheme   = errors.New("redirect to a non-http(s) URL")
)

func checkDownloadRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return errTooManyRedirects
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return errRedirectScheme
	}
	return nil
}

// Generate asks Ideogram for one image for r and downloads it. Errors:
// ErrNoKey (wrapped) without a key; an EINVALID *bindery.Error for a bad
// request; otherwise an *Error. 429, 5xx and transport failures are retried
// with back-off (MaxAttempts, Deadline); other 4xx are not. When ctx ends,
// Generate returns at once with an error wrapping ctx.Err().
func (c *Client) Generate(ctx context.Context, r Request) (Result, error) {
	r, err := r.normalized()
	if err != nil {
		return Result{}, err
	}
	key, err := c.keys.Key()
	if err != nil {
		return Result{}, err
	}
	body, ctype, err := encodeGenerate(r)
	if err != nil {
		return Result{}, fmt.Errorf("ideogram: encode request: %w", err)
	}
	start := c.retry.now()
	ctx, cancel := context.WithTimeout(ctx, c.retry.deadline)
	defer cancel()

	var g generated
	attempts := 0
	err = c.retry.run(ctx, "generate", start, func(actx context.Context) (bool, *Error) {
		attempts++
		req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
		if err != nil {
			return false, &Error{Op: "generate", Code: bindery.EINTERNAL, Message: "The image request could not be built."}
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "Bindery")
		setKey(req, key)
		resp, err := c.api.Do(req)
		if err != nil {
			return c.transportError("generate", actx, err)
		}
		defer resp.Body.Close()
		data, tooBig, err := readLimited(resp.Body, MaxJSONBytes)
		if err != nil {
			return c.transportError("generate", actx, err)
		}
		switch st := resp.StatusCode; {
		case st == http.StatusOK && tooBig:
			return false, &Error{Op: "generate", Status: st, Code: bindery.ETOOLARGE, Message: fmt.Sprintf("The image service's answer is larger than %d bytes.", MaxJSONBytes)}
		case st == http.StatusOK:
			g, err = parseGenerateResponse(data)
			if err != nil {
				return false, &Error{Op: "generate", Status: st, Code: bindery.ErrorCode(err), Message: bindery.ErrorMessage(err)}
			}
			return false, nil
		case st == http.StatusTooManyRequests || st >= 500:
			e := &Error{Op: "generate", Status: st, Code: bindery.EINTERNAL, Message: "The image service is unavailable."}
			if st == http.StatusTooManyRequests {
				e.Code, e.Message = bindery.ETOOMANY, "The image service is rate limiting requests."
			}
			e.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.retry.now())
			return true, e
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			return false, &Error{Op: "generate", Status: st, Code: bindery.EINTERNAL, Message: "The image service refused the API key (" + versionLabel(key.Version) + ")."}
		case st >= 400 && st < 500:
			msg := "The image service refused the request."
			if d := apiDetail(data, key); d != "" {
				msg = "The image service refused the request: " + d
			}
			return false, &Error{Op: "generate", Status: st, Code: bindery.EUNPROCESSABLE, Message: msg}
		default:
			return false, &Error{Op: "generate", Status: st, Code: bindery.EINTERNAL, Message: "The image service gave an unexpected answer."}
		}
	})
	if err != nil {
		return Result{}, err
	}
	img, mime, err := c.download(ctx, start, g.URL)
	if err != nil {
		return Result{}, err
	}
	c.log.Info("ideogram image generated", "key_version", versionLabel(key.Version), "seed", g.Seed, "resolution", g.Resolution, "bytes", len(img), "attempts", attempts)
	return Result{Data: img, MIME: mime, Prompt: g.Prompt, Seed: g.Seed, Resolution: g.Resolution, KeyVersion: key.Version, Attempts: attempts}, nil
}

// download fetches a generated image: no key, bounded redirects, at most
// MaxImageBytes, PNG or JPEG only (by content, not by header).
func (c *Client) download(ctx context.Context, start time.Time, rawURL string) ([]byte, string, error) {
	u, err := checkImageURL(rawURL)
	if err != nil {
		return nil, "", &Error{Op: "download", Code: bindery.ErrorCode(err), Message: bindery.ErrorMessage(err)}
	}
	var img []byte
	var mime string
	err = c.retry.run(ctx, "download", start, func(actx context.Context) (bool, *Error) {
		req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
		if err != nil {
			return false, &Error{Op: "download", Code: bindery.EINTERNAL, Message: "The image link is not usable."}
		}
		req.Header.Set("Accept", "image/png, image/jpeg")
		req.Header.Set("User-Agent", "Bindery")
		resp, err := c.dl.Do(req)
		if err != nil {
			return c.transportError("download", actx, err)
		}
		defer resp.Body.Close()
		switch st := resp.StatusCode; {
		case st == http.StatusOK:
		case st == http.StatusTooManyRequests || st >= 500:
			return true, &Error{Op: "download", Status: st, Code: bindery.EINTERNAL, Message: "The image host is unavailable.", retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.retry.now())}
		default:
			return false, &Error{Op: "download", Status: st, Code: bindery.EINTERNAL, Message: "The image host refused the download."}
		}
		tooLarge := &Error{Op: "download", Status: resp.StatusCode, Code: bindery.ETOOLARGE, Message: fmt.Sprintf("The generated image is larger than %d bytes.", MaxImageBytes)}
		if resp.ContentLength > MaxImageBytes {
			return false, tooLarge
		}
		data, tooBig, err := readLimited(resp.Body, MaxImageBytes)
		if err != nil {
			return c.transportError("download", actx, err)
		}
		if tooBig {
			return false, tooLarge
		}
		m, err := sniffImage(data)
		if err != nil {
			return false, &Error{Op: "download", Status: resp.StatusCode, Code: bindery.EUNSUPPORTED, Message: bindery.ErrorMessage(err)}
		}
		img, mime = data, m
		return false, nil
	})
	return img, mime, err
}

// transportError turns a failed round trip into a safe *Error. The
// underlying text (which names hosts and addresses, never the key, since
// the key travels in a header) goes to the debug log only.
func (c *Client) transportError(op string, actx context.Context, err error) (bool, *Error) {
	e := &Error{Op: op, Code: bindery.EINTERNAL, Message: "The image service could not be reached."}
	retry := true
	switch {
	case errors.Is(err, errTooManyRedirects):
		e.Message, retry = "The image link redirected too many times.", false
	case errors.Is(err, errRedirectScheme):
		e.Message, retry = "The image link redirected to a non-http(s) URL.", false
	case actx.Err() != nil:
		e.Message = fmt.Sprintf("The image service did not answer within %s.", c.retry.requestTimeout)
	}
	var ue *url.Error
	detail := "transport error"
	if errors.As(err, &ue) {
		detail = clipRunes(printable(ue.Err.Error()), 200)
	}
	c.log.Debug("ideogram transport error", "op", op, "detail", detail)
	return retry, e
}

// readLimited reads at most limit bytes of r. tooBig reports that r held
// more; the surplus is not read.
func readLimited(r io.Reader, limit int64) (data []byte, tooBig bool, err error) {
	data, err = io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return nil, true, nil
	}
	return data, false, nil
}

// sniffImage accepts PNG and JPEG by their magic numbers. WebP and
// everything else are refused: the EPUB and PDF outputs take PNG and JPEG
// only, and converting would add a decoder to the attack surface.
func sniffImage(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", nil
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "", bindery.Errorf(bindery.EUNSUPPORTED, "The generated image is WebP; only PNG and JPEG are accepted.")
	}
	return "", bindery.Errorf(bindery.EUNSUPPORTED, "The downloaded file is not a PNG or JPEG image.")
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDur(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}
