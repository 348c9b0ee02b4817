package ideogram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/manuscript"
)

// Where an Image came from.
const (
	SourceIdeogram = "ideogram" // generated (and paid for) in this call
	SourceCache    = "cache"    // generated earlier, served from the cache
	SourceLocal    = "local"    // drawn by RenderCover, no key needed
)

// Image is what the images stage receives.
type Image struct {
	Data    []byte
	MIME    string // "image/png" or "image/jpeg"
	AltText string // always set, at most MaxAltTextRunes runes
	Source  string // SourceIdeogram, SourceCache or SourceLocal
	// Fallback, for SourceLocal when a key is configured, says in
	// user-safe words why the service gave no image ("The image service
	// refused the API key (v2).", with the number of attempts when it
	// retried); "" when there is no key.
	Fallback string
	CacheKey string // "" for SourceLocal
	Record   *Record
}

// Ext is the file extension for the image, with its dot.
func (im Image) Ext() string {
	if im.MIME == "image/jpeg" {
		return ".jpg"
	}
	return ".png"
}

// GeneratorOptions configures NewGenerator.
type GeneratorOptions struct {
	// Keys holds the API keys; nil or without a key means local covers
	// only.
	Keys *KeySource
	// Client calls the API. When nil, NewGenerator builds one from Keys and
	// ClientOptions.
	Client        *Client
	ClientOptions ClientOptions
	// CacheDir is the cache folder (typically BINDERY_DATA_DIR/cache/images).
	// Required unless Cache is set.
	CacheDir string
	// Cache, when set, is the cache to use instead of CacheDir's: when
	// nodes share storage, the bucket's (NewCache), so that an image one
	// node paid for serves every node.
	Cache  *Cache
	Logger *slog.Logger // discards when nil
	Now    func() time.Time

	RenderingSpeed string // "TURBO" when empty
	StyleType      string // "AUTO" when empty
	// PricesUSD overrides DefaultPricesUSD, by rendering speed.
	PricesUSD map[string]float64
	// CoverWidth and CoverHeight size local covers: DefaultCoverWidth ×
	// DefaultCoverHeight when zero.
	CoverWidth, CoverHeight int
}

// Generator produces book covers for the images stage: from the cache when
// the same request was paid for before, from Ideogram when a key is
// configured, and otherwise (or when Ideogram fails) a local typographic
// cover. Lack of a key, or an Ideogram outage, never fails a run; only a
// cancelled context does. Safe for concurrent use.
type Generator struct {
	keys   *KeySource
	client *Client
	cache  *Cache
	log    *slog.Logger
	now    func() time.Time
	o      GeneratorOptions

	mu       sync.Mutex
	inflight map[string]*keyLock // per cache key: one paid request at a time; guarded by mu
}

// NewGenerator opens the cache folder and returns a Generator. Close
// releases the folder.
func NewGenerator(o GeneratorOptions) (*Generator, error) {
	cache := o.Cache
	if cache == nil {
		if o.CacheDir == "" {
			return nil, bindery.Errorf(bindery.EINVALID, "The image cache folder is not set.")
		}
		var err error
		if cache, err = OpenCache(o.CacheDir); err != nil {
			return nil, err
		}
	}
	var err error
	g := &Generator{keys: o.Keys, client: o.Client, cache: cache, log: o.Logger, now: o.Now, o: o, inflight: map[string]*keyLock{}}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.client == nil {
		co := o.ClientOptions
		if co.Logger == nil {
			co.Logger = g.log
		}
		if g.client, err = NewClient(o.Keys, co); err != nil {
			cache.Close()
			return nil, err
		}
	}
	if g.o.CoverWidth == 0 || g.o.CoverHeight == 0 {
		g.o.CoverWidth, g.o.CoverHeight = DefaultCoverWidth, DefaultCoverHeight
	}
	return g, nil
}

// Close releases the cache folder.
func (g *Generator) Close() error { return g.cache.Close() }

// CoverRequest is the Ideogram request for meta's cover. Exported so that
// the cost of a run can be estimated and its cache key known in advance.
func (g *Generator) CoverRequest(meta manuscript.Metadata) Request {
	return Request{
		Prompt:         CoverPrompt(meta),
		AspectRatio:    "2x3",
		RenderingSpeed: g.o.RenderingSpeed,
		StyleType:      g.o.StyleType,
	}
}

// CoverPrompt is the prompt for a book's cover: the title, subtitle,
// authors and the first sentence of the description, each cleaned and
// cut, so that untrusted metadata yields a bounded prompt.
func CoverPrompt(meta manuscript.Metadata) string {
	title := clipRunes(printable(meta.Title), 200)
	if title == "" {
		title = "Untitled"
	}
	var b strings.Builder
	b.WriteString("Book cover for “" + title + "”")
	if sub := clipRunes(printable(meta.Subtitle), 200); sub != "" {
		b.WriteString(", " + sub)
	}
	if a := joinAuthors(meta.Authors); a != "" {
		b.WriteString(", by " + a)
	}
	b.WriteString(". ")
	if d := coverSummary(meta); d != "" {
		b.WriteString(d + " ")
	}
	b.WriteString("An evocative, uncluttered illustration with the title and the author's name set in refined lettering.")
	return clipRunes(b.String(), MaxPromptRunes)
}

// coverSummary is what the cover should show: the description's first
// sentence, at most 400 runes.
func coverSummary(meta manuscript.Metadata) string {
	return clipWords(firstSentence(printable(meta.Description)), 400)
}

// Cover returns meta's cover. It tries, in order: the cache; Ideogram, when
// a key is configured (the result is cached); a local cover from
// RenderCover. The Source field says which. Errors: only ctx's error, or
// RenderCover's (which would be a bug).
func (g *Generator) Cover(ctx context.Context, meta manuscript.Metadata) (Image, error) {
	if err := ctx.Err(); err != nil {
		return Image{}, err
	}
	req := g.CoverRequest(meta)
	alt := AltText(meta.Title, coverSummary(meta))
	im, err := g.generate(ctx, req, alt)
	switch {
	case err == nil:
		return im, nil
	case ctx.Err() != nil:
		return Image{}, ctx.Err()
	}
	fallback := ""
	if errors.Is(err, ErrNoKey) {
		g.log.Info("no Ideogram API key configured: using a typographic cover and skipping illustrations")
	} else {
		g.log.Warn("Ideogram cover failed: using a typographic cover", "error", err.Error(), "code", bindery.ErrorCode(err))
		fallback = failureReason(err)
	}
	data, rerr := RenderCover(meta, g.o.CoverWidth, g.o.CoverHeight)
	if rerr != nil {
		return Image{}, rerr
	}
	return Image{Data: data, MIME: "image/png", AltText: LocalCoverAltText(meta), Source: SourceLocal, Fallback: fallback}, nil
}

// failureReason says in user-safe words why a request failed: the
// service's answer as Error describes it, with the number of attempts
// when it retried ("The image service is rate-limiting requests. (after 4
// attempts)" reads "… requests; gave up after 4 attempts.").
func failureReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		msg := e.Message
		if e.Attempts > 1 {
			msg = strings.TrimSuffix(msg, ".") + fmt.Sprintf("; gave up after %d attempts.", e.Attempts)
		}
		return msg
	}
	return bindery.ErrorMessage(err)
}

// Illustration returns an image for prompt in a book titled title, from
// the cache or from Ideogram. Without a key it returns ErrNoKey (wrapped),
// which the images stage treats as "skip this illustration", not as a
// failure; it logs that once per call.
func (g *Generator) Illustration(ctx context.Context, title string, r Request) (Image, error) {
	im, err := g.generate(ctx, r, AltText("", r.Prompt))
	if errors.Is(err, ErrNoKey) {
		g.log.Info("no Ideogram API key configured: skipping an illustration", "book", clipRunes(printable(title), 80))
	}
	if err == nil && title != "" {
		im.AltText = clipWords("Illustration for “"+clipRunes(printable(title), maxAltTitleRunes)+"”: "+firstSentence(printable(r.Prompt)), MaxAltTextRunes)
	}
	return im, err
}

// generate serves r from the cache or buys it from Ideogram and caches
// it. One request per cache key is in flight at a time, so two runs of the
// same book do not pay twice.
func (g *Generator) generate(ctx context.Context, r Request, alt string) (Image, error) {
	nr, err := r.normalized()
	if err != nil {
		return Image{}, err
	}
	key := nr.CacheKey()
	if im, ok := g.fromCache(ctx, key); ok {
		return im, nil
	}
	// Without a key there is nothing more to try; say so before waiting on
	// another caller's request.
	if _, err := g.keys.Key(); err != nil {
		return Image{}, err
	}
	unlock, err := g.lock(ctx, key)
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	if im, ok := g.fromCache(ctx, key); ok {
		return im, nil
	}
	res, err := g.client.Generate(ctx, nr)
	if err != nil {
		return Image{}, err
	}
	rec := Record{
		Key: key, Model: Model, Prompt: nr.Prompt, NegativePrompt: nr.NegativePrompt,
		AspectRatio: nr.AspectRatio, RenderingSpeed: nr.RenderingSpeed, StyleType: nr.StyleType,
		Seed: res.Seed, UsedPrompt: res.Prompt, Resolution: res.Resolution,
		CostEstimateUSD: g.price(nr.RenderingSpeed), KeyVersion: res.KeyVersion,
		AltText: alt, Created: g.now().UTC(),
	}
	if err := g.cache.Put(context.WithoutCancel(ctx), res.Data, rec); err != nil {
		// The image is paid for; hand it over even if it cannot be kept.
		g.log.Warn("ideogram: cannot cache an image", "key", key, "error", err.Error())
	}
	rec.MIME = res.MIME
	g.log.Info("ideogram image stored", "key", key, "cost_estimate_usd", rec.CostEstimateUSD)
	return Image{Data: res.Data, MIME: res.MIME, AltText: alt, Source: SourceIdeogram, CacheKey: key, Record: &rec}, nil
}

func (g *Generator) fromCache(ctx context.Context, key string) (Image, bool) {
	data, rec, err := g.cache.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, ErrCacheMiss) {
			g.log.Warn("ideogram: cache unreadable", "key", key, "error", err.Error())
		}
		return Image{}, false
	}
	return Image{Data: data, MIME: rec.MIME, AltText: rec.AltText, Source: SourceCache, CacheKey: key, Record: &rec}, true
}

// keyLock serialises paid requests for one cache key. refs counts its
// holders and waiters; the entry leaves the map with the last of them.
type keyLock struct {
	ch   chan struct{}
	refs int
}

// lock takes the per-key lock, giving up when ctx ends.
func (g *Generator) lock(ctx context.Context, key string) (func(), error) {
	g.mu.Lock()
	kl := g.inflight[key]
	if kl == nil {
		kl = &keyLock{ch: make(chan struct{}, 1)}
		g.inflight[key] = kl
	}
	kl.refs++
	g.mu.Unlock()
	release := func() {
		g.mu.Lock()
		if kl.refs--; kl.refs == 0 {
			delete(g.inflight, key)
		}
		g.mu.Unlock()
	}
	select {
	case kl.ch <- struct{}{}:
		return func() { <-kl.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

func (g *Generator) price(speed string) float64 {
	if p, ok := g.o.PricesUSD[speed]; ok {
		return p
	}
	return DefaultPricesUSD[speed]
}
