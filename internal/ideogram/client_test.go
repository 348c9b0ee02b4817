package ideogram

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

var coverReq = Request{Prompt: "A lighthouse at dusk, woodcut style"}

func TestGenerateSendsTheDocumentedRequest(t *testing.T) {
	api := newFakeAPI(t)
	c, _ := testClient(t, api, mustKeys(t, testKey), nil, nil)

	res, err := c.Generate(context.Background(), Request{Prompt: "  A lighthouse  ", Seed: 42, AspectRatio: "2:3"})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if got, want := res.MIME, "image/png"; got != want {
		t.Errorf("MIME = %q, want %q", got, want)
	}
	if !bytes.Equal(res.Data, tinyPNG(t)) {
		t.Errorf("image bytes differ from what the host served")
	}
	if res.Seed != 12345 || res.Resolution != "832x1248" || res.Prompt != "the prompt as used" || res.Attempts != 1 {
		t.Errorf("result = %+v", res)
	}
	keys, imageKeys, forms := api.seen()
	if len(keys) != 1 || keys[0] != testKey {
		t.Errorf("Api-Key header on generate = %q, want the key", keys)
	}
	if len(imageKeys) != 0 {
		t.Errorf("the image host received an Api-Key header")
	}
	want := map[string]string{"prompt": "A lighthouse", "aspect_ratio": "2x3", "rendering_speed": "TURBO", "style_type": "AUTO", "magic_prompt": "OFF", "num_images": "1", "seed": "42"}
	for k, v := range want {
		if got := forms[0][k]; got != v {
			t.Errorf("form field %s = %q, want %q", k, got, v)
		}
	}
}

func TestGenerateRetries429HonouringRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter func(now time.Time) string
		want       time.Duration
	}{
		{"seconds", func(time.Time) string { return "7" }, 7 * time.Second},
		{"http date", func(now time.Time) string { return now.Add(20 * time.Second).Format(http.TimeFormat) }, 20 * time.Second},
		{"shorter than jitter", func(time.Time) string { return "0" }, 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			c, sl := testClient(t, api, mustKeys(t, testKey), nil, nil)
			api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) {
				if call == 1 {
					w.Header().Set("Retry-After", tc.retryAfter(sl.clk.Now()))
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				api.ok(w, "/img/1")
			})
			res, err := c.Generate(context.Background(), coverReq)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if res.Attempts != 2 {
				t.Errorf("attempts = %d, want 2", res.Attempts)
			}
			if got := sl.waits(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("waits = %v, want [%v]", got, tc.want)
			}
		})
	}
}

func TestGenerate5xxBacksOffWithFullJitterThenGivesUp(t *testing.T) {
	api := newFakeAPI(t)
	c, sl := testClient(t, api, mustKeys(t, testKey), nil, nil)
	api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) { w.WriteHeader(http.StatusBadGateway) })

	_, err := c.Generate(context.Background(), coverReq)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if e.Status != http.StatusBadGateway || e.Attempts != 3 {
		t.Errorf("status %d after %d attempts, want 502 after 3", e.Status, e.Attempts)
	}
	if n, _ := api.calls(); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
	// Jitter fixed at one half: half of 1 s, then half of 2 s.
	if got, want := sl.waits(), []time.Duration{500 * time.Millisecond, time.Second}; !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
	if !strings.Contains(err.Error(), "502") {
		t.Errorf("error %q does not name the status", err)
	}
}

func TestGenerateDoesNotRetryOtherClientErrors(t *testing.T) {
	for _, st := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusNotFound} {
		api := newFakeAPI(t)
		c, sl := testClient(t, api, mustKeys(t, testKey), nil, nil)
		api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) {
			w.WriteHeader(st)
			w.Write([]byte(`{"detail":"Prompt failed the safety check."}`))
		})
		_, err := c.Generate(context.Background(), coverReq)
		var e *Error
		if !errors.As(err, &e) || e.Status != st {
			t.Errorf("%d: err = %v", st, err)
		}
		if n, _ := api.calls(); n != 1 || len(sl.waits()) != 0 {
			t.Errorf("%d: %d requests and %d waits, want 1 and 0", st, n, len(sl.waits()))
		}
		if st == http.StatusUnprocessableEntity && !strings.Contains(err.Error(), "safety check") {
			t.Errorf("422 error %q lacks the service's reason", err)
		}
	}
}

func TestGenerateSlowResponseHitsTheRequestTimeout(t *testing.T) {
	api := newFakeAPI(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c, _ := testClient(t, api, mustKeys(t, testKey), nil, func(o *ClientOptions) {
		o.RequestTimeout = 50 * time.Millisecond
		o.MaxAttempts = 2
	})
	start := time.Now()
	_, err := c.Generate(context.Background(), coverReq)
	if err == nil || !strings.Contains(err.Error(), "did not answer within") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if n, _ := api.calls(); n != 2 {
		t.Errorf("requests = %d, want 2 (a timeout is retried)", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestGenerateGivesUpWhenWaitingWouldPassTheDeadline(t *testing.T) {
	api := newFakeAPI(t)
	api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c, sl := testClient(t, api, mustKeys(t, testKey), nil, nil)
	_, err := c.Generate(context.Background(), coverReq)
	if code := bindery.ErrorCode(err); code != bindery.ETOOMANY {
		t.Errorf("code = %q, want %q (err %v)", code, bindery.ETOOMANY, err)
	}
	if len(sl.waits()) != 0 {
		t.Errorf("slept %v past a one-minute deadline", sl.waits())
	}
}

func TestGenerateStopsAtOnceWhenCancelled(t *testing.T) {
	api := newFakeAPI(t)
	api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) { w.WriteHeader(http.StatusServiceUnavailable) })
	c, sl := testClient(t, api, mustKeys(t, testKey), nil, func(o *ClientOptions) { o.MaxAttempts = 10 })
	ctx, cancel := context.WithCancel(context.Background())
	sl.hook = cancel // the run is stopped while we wait to retry

	_, err := c.Generate(ctx, coverReq)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled in its chain", err)
	}
	if n, _ := api.calls(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}

	// Already cancelled: no request at all.
	_, err = c.Generate(ctx, coverReq)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := api.calls(); n != 1 {
		t.Errorf("requests = %d after a cancelled call, want 1", n)
	}
}

func TestGenerateRefusesBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		generate func(api *fakeAPI) func(w http.ResponseWriter, r *http.Request, call int)
		image    func(w http.ResponseWriter, r *http.Request)
		code     string
		contains string
	}{
		{name: "garbage body", generate: body(http.StatusOK, "<html>oops</html>"), code: bindery.EINTERNAL, contains: "unreadable"},
		{name: "empty data", generate: body(http.StatusOK, `{"created":"x","data":[]}`), code: bindery.EINTERNAL, contains: "no image"},
		{name: "oversized body", generate: body(http.StatusOK, `{"data":[],"pad":"`+strings.Repeat("x", MaxJSONBytes)+`"}`), code: bindery.ETOOLARGE},
		{name: "unsafe image", generate: body(http.StatusOK, `{"data":[{"url":null,"is_image_safe":false}]}`), code: bindery.EUNPROCESSABLE, contains: "unsafe"},
		{name: "ftp url", generate: body(http.StatusOK, `{"data":[{"url":"ftp://example.com/a.png","is_image_safe":true}]}`), contains: "not an http(s) URL"},
		{name: "javascript url", generate: body(http.StatusOK, `{"data":[{"url":"javascript:alert(1)"}]}`), contains: "not an http(s) URL"},
		{name: "html instead of image", image: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<!doctype html><p>hi")) }, code: bindery.EUNSUPPORTED, contains: "not a PNG or JPEG"},
		{name: "webp", image: func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("RIFF\x10\x00\x00\x00WEBPVP8 ")) }, code: bindery.EUNSUPPORTED, contains: "WebP"},
		{name: "oversized image", image: func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("\x89PNG\r\n\x1a\n"))
			chunk := make([]byte, 1<<20)
			for range MaxImageBytes>>20 + 1 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, code: bindery.ETOOLARGE},
		{name: "image host 404", image: func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, contains: "refused the download"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			if tc.generate != nil {
				api.setGenerate(tc.generate(api))
			}
			if tc.image != nil {
				api.setImage(tc.image)
			}
			c, sl := testClient(t, api, mustKeys(t, testKey), nil, nil)
			_, err := c.Generate(context.Background(), coverReq)
			if err == nil {
				t.Fatal("Generate succeeded")
			}
			if tc.code != "" && bindery.ErrorCode(err) != tc.code {
				t.Errorf("code = %q, want %q (err %v)", bindery.ErrorCode(err), tc.code, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("err = %q, want it to contain %q", err, tc.contains)
			}
			if gen, _ := api.calls(); gen != 1 || len(sl.waits()) != 0 {
				t.Errorf("a bad answer was retried (%d requests)", gen)
			}
		})
	}
}

func body(status int, s string) func(api *fakeAPI) func(w http.ResponseWriter, r *http.Request, call int) {
	return func(*fakeAPI) func(w http.ResponseWriter, r *http.Request, call int) {
		return func(w http.ResponseWriter, r *http.Request, call int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(s))
		}
	}
}

func TestDownloadFollowsAFewRedirectsOnly(t *testing.T) {
	api := newFakeAPI(t)
	var hops atomic.Int32
	api.setImage(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/img/1":
			http.Redirect(w, r, "/img/2", http.StatusFound)
		case "/img/2":
			w.Write(tinyPNG(t))
		default: // /img/loop/N
			hops.Add(1)
			http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
		}
	})
	c, _ := testClient(t, api, mustKeys(t, testKey), nil, nil)
	if _, err := c.Generate(context.Background(), coverReq); err != nil {
		t.Fatalf("one redirect: %v", err)
	}

	api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) { api.ok(w, "/img/loop/") })
	_, err := c.Generate(context.Background(), coverReq)
	if err == nil || !strings.Contains(err.Error(), "redirected too many times") {
		t.Fatalf("err = %v", err)
	}
	if n := hops.Load(); n > MaxRedirects+1 {
		t.Errorf("followed %d redirects", n)
	}
}

func TestGenerateNeverFollowsARedirectWithTheKey(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
	}))
	defer other.Close()
	api := newFakeAPI(t)
	api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) {
		http.Redirect(w, r, other.URL+generatePath, http.StatusTemporaryRedirect)
	})
	c, _ := testClient(t, api, mustKeys(t, testKey), nil, nil)
	if _, err := c.Generate(context.Background(), coverReq); err == nil {
		t.Fatal("a redirect was accepted as success")
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
}

func TestGenerateWithoutKey(t *testing.T) {
	api := newFakeAPI(t)
	ks, _ := NewKeySource(env{}.get)
	c, _ := testClient(t, api, ks, nil, nil)
	if _, err := c.Generate(context.Background(), coverReq); !errors.Is(err, ErrNoKey) {
		t.Fatalf("err = %v, want ErrNoKey", err)
	}
	if n, _ := api.calls(); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestRequestValidation(t *testing.T) {
	for _, r := range []Request{
		{},
		{Prompt: "   "},
		{Prompt: strings.Repeat("a", MaxPromptRunes+1)},
		{Prompt: "x", AspectRatio: "7x5"},
		{Prompt: "x", RenderingSpeed: "LUDICROUS"},
		{Prompt: "x", StyleType: "<script>"},
		{Prompt: "x", MagicPrompt: "MAYBE"},
		{Prompt: "x", Seed: -1},
		{Prompt: "x", Seed: 1 << 40},
		{Prompt: "bad \xff utf8"},
	} {
		if _, err := r.normalized(); bindery.ErrorCode(err) != bindery.EINVALID {
			t.Errorf("%+v: err = %v, want EINVALID", r, err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"12", 12 * time.Second},
		{" 3 ", 3 * time.Second},
		{"-4", 0},
		{"1.5", 0},
		{"99999999999999999999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"Mon, 02 Jan 2006 15:04:05 GMT", 0},
		{"tomorrow", 0},
	} {
		if got := parseRetryAfter(tc.h, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestDelayIsFullJitterCapped(t *testing.T) {
	r := retrier{base: time.Second, max: 10 * time.Second}
	for _, tc := range []struct {
		rand       float64
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{0, 0, 0, 0},
		{0.5, 0, 0, 500 * time.Millisecond},
		{0.5, 2, 0, 2 * time.Second},
		{0.5, 10, 0, 5 * time.Second}, // capped at max
		{0.5, 100, 0, 5 * time.Second},
		{0.1, 0, 4 * time.Second, 4 * time.Second}, // never less than Retry-After
		{1.5, 0, 0, 0},                             // a broken source cannot stretch waits
	} {
		r.rand = func() float64 { return tc.rand }
		if got := r.delay(tc.attempt, tc.retryAfter); got != tc.want {
			t.Errorf("delay(rand %v, attempt %d, retry-after %v) = %v, want %v", tc.rand, tc.attempt, tc.retryAfter, got, tc.want)
		}
	}
}

func TestNewClientRefusesBadBaseURL(t *testing.T) {
	for _, u := range []string{"ftp://x", "://", "http://", "https://user:pw@host"} {
		if _, err := NewClient(nil, ClientOptions{BaseURL: u}); err == nil {
			t.Errorf("NewClient(%q) succeeded", u)
		}
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
