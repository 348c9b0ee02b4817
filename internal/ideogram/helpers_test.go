package ideogram

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/clock"
)

// testKey is a key with a recognisable shape; tests look for it everywhere
// it must not be.
const testKey = "ideo-TEST-9f8e7d6c5b4a39281706f5e4d3c2b1a0"

// env is a fake getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// mustKeys returns a KeySource holding key as IDEOGRAM_API_KEY.
func mustKeys(tb testing.TB, key string) *KeySource {
	tb.Helper()
	ks, err := NewKeySource(env{EnvKey: key}.get)
	if err != nil {
		tb.Fatalf("NewKeySource: %v", err)
	}
	return ks
}

// tinyPNG is a valid 2×3 PNG.
func tinyPNG(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 2, 3))
	img.Set(1, 1, color.NRGBA{200, 10, 10, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// fakeAPI is an httptest server playing Ideogram: generate answers come
// from the generate function (default: success pointing at /img/1), images
// from image (default: tinyPNG). It records what it saw.
type fakeAPI struct {
	*httptest.Server
	tb testing.TB

	mu            sync.Mutex
	generate      func(w http.ResponseWriter, r *http.Request, call int)
	image         func(w http.ResponseWriter, r *http.Request)
	generateCalls int
	imageCalls    int
	keysSeen      []string // Api-Key of generate requests
	imageKeys     []string // Api-Key of image requests (must stay empty)
	forms         []map[string]string
}

func newFakeAPI(tb testing.TB) *fakeAPI {
	tb.Helper()
	f := &fakeAPI{tb: tb}
	img := tinyPNG(tb)
	f.image = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(img)
	}
	f.generate = func(w http.ResponseWriter, r *http.Request, call int) { f.ok(w, "/img/1") }
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+generatePath, func(w http.ResponseWriter, r *http.Request) {
		form := map[string]string{}
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			for k, v := range r.MultipartForm.Value {
				form[k] = v[0]
			}
		}
		f.mu.Lock()
		f.generateCalls++
		call := f.generateCalls
		f.keysSeen = append(f.keysSeen, r.Header.Get(keyHeader))
		f.forms = append(f.forms, form)
		gen := f.generate
		f.mu.Unlock()
		gen(w, r, call)
	})
	mux.HandleFunc("GET /img/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.imageCalls++
		if k := r.Header.Get(keyHeader); k != "" {
			f.imageKeys = append(f.imageKeys, k)
		}
		h := f.image
		f.mu.Unlock()
		h(w, r)
	})
	f.Server = httptest.NewServer(mux)
	tb.Cleanup(f.Close)
	return f
}

// ok answers a generate request with one safe image at path.
func (f *fakeAPI) ok(w http.ResponseWriter, path string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"created": "2026-01-02T03:04:05.000000+00:00",
		"data": []map[string]any{{
			"url": f.URL + path, "prompt": "the prompt as used", "resolution": "832x1248",
			"is_image_safe": true, "seed": 12345, "style_type": "GENERAL",
		}},
	})
}

func (f *fakeAPI) setGenerate(h func(w http.ResponseWriter, r *http.Request, call int)) {
	f.mu.Lock()
	f.generate = h
	f.mu.Unlock()
}

func (f *fakeAPI) setImage(h func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	f.image = h
	f.mu.Unlock()
}

// seen returns copies of what the server recorded.
func (f *fakeAPI) seen() (keys, imageKeys []string, forms []map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keysSeen...), append([]string(nil), f.imageKeys...), append([]map[string]string(nil), f.forms...)
}

func (f *fakeAPI) calls() (generate, image int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.generateCalls, f.imageCalls
}

// fakeSleeper records the waits asked for and moves a fake clock instead
// of sleeping.
type fakeSleeper struct {
	clk    *clock.Fake
	mu     sync.Mutex
	delays []time.Duration
	hook   func() // called on each sleep, e.g. to cancel a context
}

func newFakeSleeper() *fakeSleeper {
	return &fakeSleeper{clk: clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
}

func (s *fakeSleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.clk.Advance(d)
	return nil
}

func (s *fakeSleeper) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// testClient returns a Client for api with fake time and a fixed jitter
// of one half, logging to logs when non-nil.
func testClient(tb testing.TB, api *fakeAPI, ks *KeySource, logs io.Writer, tweak func(*ClientOptions)) (*Client, *fakeSleeper) {
	tb.Helper()
	sl := newFakeSleeper()
	o := ClientOptions{
		BaseURL:     api.URL,
		MaxAttempts: 3,
		BaseDelay:   time.Second,
		MaxDelay:    8 * time.Second,
		Deadline:    time.Minute,
		Now:         sl.clk.Now,
		Sleep:       sl.Sleep,
		Rand:        func() float64 { return 0.5 },
	}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if tweak != nil {
		tweak(&o)
	}
	c, err := NewClient(ks, o)
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	return c, sl
}
