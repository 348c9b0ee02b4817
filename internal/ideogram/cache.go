package ideogram

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"
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

// Cache stores images by cache key under one folder, as
// <dir>/<first two hex digits>/<key>.png|.jpg and <key>.json. All access
// goes through an os.Root, and every write is a temporary file renamed into
// place, so a crash leaves either the old state or the new, never half an
// image. Safe for concurrent use (writes of the same key race harmlessly:
// both write the same content).
type Cache struct {
	root *os.Root
}

// maxRecordBytes bounds a record read back from disk.
const maxRecordBytes = 64 << 10

// OpenCache opens (creating it 0700 if needed: generated covers are unpublished work) the cache folder dir.
// Close releases it.
func OpenCache(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ideogram cache: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("ideogram cache: %w", err)
	}
	return &Cache{root: root}, nil
}

// Close releases the cache folder.
func (c *Cache) Close() error { return c.root.Close() }

// ErrCacheMiss is returned by Get when the cache holds no usable entry.
var ErrCacheMiss = errors.New("ideogram cache: miss")

func validKey(key string) bool {
	if len(key) != sha256.Size*2 {
		return false
	}
	_, err := hex.DecodeString(key)
	return err == nil
}

func (c *Cache) names(key, mime string) (dir, img, rec string) {
	dir = key[:2]
	ext := ".png"
	if mime == "image/jpeg" {
		ext = ".jpg"
	}
	return dir, path.Join(dir, key+ext), path.Join(dir, key+".json")
}

// Get returns the image and record stored under key, or ErrCacheMiss. An
// entry whose image does not match its record's SHA-256, or whose image is
// not PNG or JPEG, counts as a miss.
func (c *Cache) Get(key string) ([]byte, Record, error) {
	if !validKey(key) {
		return nil, Record{}, ErrCacheMiss
	}
	_, _, recName := c.names(key, "")
	raw, err := readRootFile(c.root, recName, maxRecordBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, Record{}, ErrCacheMiss
		}
		return nil, Record{}, fmt.Errorf("ideogram cache: %w", err)
	}
	var rec Record
	if json.Unmarshal(raw, &rec) != nil || rec.Key != key {
		return nil, Record{}, ErrCacheMiss
	}
	_, imgName, _ := c.names(key, rec.MIME)
	img, err := readRootFile(c.root, imgName, MaxImageBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
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
func (c *Cache) Put(img []byte, rec Record) error {
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
	dir, imgName, recName := c.names(rec.Key, mime)
	if err := c.root.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ideogram cache: %w", err)
	}
	if err := writeAtomic(c.root, imgName, img); err != nil {
		return err
	}
	return writeAtomic(c.root, recName, append(data, '\n'))
}

// writeAtomic writes data to a new temporary file beside name, syncs it
// and renames it over name.
func writeAtomic(root *os.Root, name string, data []byte) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := path.Join(path.Dir(name), "."+path.Base(name)+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("ideogram cache: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = root.Rename(tmp, name)
	}
	if werr != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("ideogram cache: %w", werr)
	}
	return nil
}

// readRootFile reads name under root, refusing files over limit bytes.
func readRootFile(root *os.Root, name string, limit int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, tooBig, err := readLimited(f, limit)
	if err != nil {
		return nil, err
	}
	if tooBig {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
