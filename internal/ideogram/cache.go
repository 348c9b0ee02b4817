package ideogram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
)

// Prices per output image in US dollars, for the cost estimate in each
// cache record. Source: Ideogram's API pricing page
// (https://ideogram.ai/features/api-pricing, Ideogram 3.0 Generate:
// Turbo/Flash $0.03, Default $0.06, Quality $0.09), as summarised in June
// 2026. Estimates only; the invoice is the truth. GeneratorOptions can
// override them.
var DefaultPricesUSD = map[string]float64{
	"FLASH":   0.03,
	"TURBO":   0.03,
	"DEFAULT": 0.06,
	"QUALITY": 0.09,
}

// cacheKeyVersion changes when the meaning of a cache key changes, so old
// entries are simply not found rather than misread.
const cacheKeyVersion = 1

// CacheKey is the hex SHA-256 of everything that decides the image: the
// model and every field of r after defaults. Two requests with the same
// key would buy the same image, so the second is served from the cache.
// r must be valid (see Client.Generate); an invalid r still hashes.
func (r Request) CacheKey() string {
	if n, err := r.normalized(); err == nil {
		r = n
	}
	canon, _ := json.Marshal(struct {
		V              int    `json:"v"`
		Model          string `json:"model"`
		Prompt         string `json:"prompt"`
		NegativePrompt string `json:"negative_prompt"`
		AspectRatio    string `json:"aspect_ratio"`
		RenderingSpeed string `json:"rendering_speed"`
		StyleType      string `json:"style_type"`
		MagicPrompt    string `json:"magic_prompt"`
		Seed           int64  `json:"seed"`
	}{cacheKeyVersion, Model, r.Prompt, r.NegativePrompt, r.AspectRatio, r.RenderingSpeed, r.StyleType, r.MagicPrompt, r.Seed})
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// Record describes a cached image; it is stored as <key>.json beside the
// image. It holds no secret: the key version, not the key.
type Record struct {
	Key             string    `json:"key"` // the cache key
	Model           string    `json:"model"`
	Prompt          string    `json:"prompt"`
	NegativePrompt  string    `json:"negative_prompt,omitempty"`
	AspectRatio     string    `json:"aspect_ratio"`
	RenderingSpeed  string    `json:"rendering_speed"`
	StyleType       string    `json:"style_type"`
	Seed            int64     `json:"seed"`        // as returned by Ideogram
	UsedPrompt      string    `json:"used_prompt"` // the prompt Ideogram reports using
	Resolution      string    `json:"resolution,omitempty"`
	MIME            string    `json:"mime"`
	SHA256          string    `json:"sha256"` // of the image bytes
	Bytes           int       `json:"bytes"`
	CostEstimateUSD float64   `json:"cost_estimate_usd"`
	KeyVersion      string    `json:"key_version,omitempty"`
	AltText         string    `json:"alt_text"`
	Created         time.Time `json:"created"`
}

// Cache stores images by cache key in a blob store (package blob), as
// <prefix><first two hex digits>/<key>.png|.jpg and <key>.json: a folder
// of this node (OpenCache) or, when nodes share storage, the bucket every
// node reads (NewCache with prefix "cache/images/"), so that one node's
// purchase serves them all. Every write is atomic as seen by readers
// (blob.Store.Put), so a crash leaves either the old state or the new,
// never half an image. Safe for concurrent use (writes of the same key
// race harmlessly: both write the same content).
type Cache struct {
	store  blob.Store
	prefix string
	close  func() error
}

// maxRecordBytes bounds a record read back from storage.
const maxRecordBytes = 64 << 10

// OpenCache opens (creating it 0700 if needed: generated covers are
// unpublished work) the cache folder dir. Close releases it.
func OpenCache(dir string) (*Cache, error) {
	local, err := blob.OpenLocal(dir)
	if err != nil {
		return nil, fmt.Errorf("ideogram cache: %w", err)
	}
	return &Cache{store: local, close: local.Close}, nil
}

// NewCache is a cache in store under prefix ("" or ending in "/").
func NewCache(store blob.Store, prefix string) (*Cache, error) {
	if err := blob.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	return &Cache{store: store, prefix: prefix, close: func() error { return nil }}, nil
}

// Close releases the cache folder.
func (c *Cache) Close() error { return c.close() }

// ErrCacheMiss is returned by Get when the cache holds no usable entry.
var ErrCacheMiss = errors.New("ideogram cache: miss")

func validKey(key string) bool {
	if len(key) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(key)
	return err == nil
}

func (c *Cache) names(key, mime string) (img, rec string) {
	dir := c.prefix + key[:2]
	ext := ".png"
	if mime == "image/jpeg" {
		ext = ".jpg"
	}
	return path.Join(dir, key+ext), path.Join(dir, key+".json")
}

// Get returns the image and record stored under key, or ErrCacheMiss. An
// entry whose image does not match its record's SHA-256, or whose image is
// not PNG or JPEG, counts as a miss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, Record, error) {
	if !validKey(key) {
		return nil, Record{}, ErrCacheMiss
	}
	_, recName := c.names(key, "")
	raw, err := c.read(ctx, recName, maxRecordBytes)
	if err != nil {
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return nil, Record{}, ErrCacheMiss
		}
		return nil, Record{}, fmt.Errorf("ideogram cache: %w", err)
	}
	var rec Record
	if json.Unmarshal(raw, &rec) != nil || rec.Key != key {
		return nil, Record{}, ErrCacheMiss
	}
	imgName, _ := c.names(key, rec.MIME)
	img, err := c.read(ctx, imgName, MaxImageBytes)
	if err != nil {
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return nil, Record{}, ErrCacheMiss
		}
		return nil, Record{}, fmt.Errorf("ideogram cache: %w", err)
	}
	sum := sha256.Sum256(img)
	if hex.EncodeToString(sum[:]) != rec.SHA256 {
		return nil, Record{}, ErrCacheMiss
	}
	if m, err := sniffImage(img); err != nil || m != rec.MIME {
		return nil, Record{}, ErrCacheMiss
	}
	return img, rec, nil
}

// Put stores img under rec.Key, filling rec's SHA256, Bytes and MIME. The
// image is written first and the record last, so a record always describes
// an image that is fully there.
func (c *Cache) Put(ctx context.Context, img []byte, rec Record) error {
	if !validKey(rec.Key) {
		return fmt.Errorf("ideogram cache: malformed key")
	}
	mime, err := sniffImage(img)
	if err != nil {
		return fmt.Errorf("ideogram cache: %w", err)
	}
	sum := sha256.Sum256(img)
	rec.SHA256, rec.Bytes, rec.MIME = hex.EncodeToString(sum[:]), len(img), mime
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("ideogram cache: %w", err)
	}
	imgName, recName := c.names(rec.Key, mime)
	if _, err := c.store.Put(ctx, imgName, bytes.NewReader(img)); err != nil {
		return fmt.Errorf("ideogram cache: %w", err)
	}
	if _, err := c.store.Put(ctx, recName, bytes.NewReader(append(data, '\n'))); err != nil {
		return fmt.Errorf("ideogram cache: %w", err)
	}
	return nil
}

// read reads key, refusing objects over limit bytes.
func (c *Cache) read(ctx context.Context, key string, limit int64) ([]byte, error) {
	obj, _, err := c.store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	data, tooBig, err := readLimited(obj, limit)
	if err != nil {
		return nil, err
	}
	if tooBig {
		return nil, fmt.Errorf("%s is larger than %d bytes", key, limit)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
