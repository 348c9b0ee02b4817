package ideogram

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/blob"
)

func TestCacheKeyCoversEveryField(t *testing.T) {
	base := Request{Prompt: "a fox", NegativePrompt: "text", AspectRatio: "2x3", RenderingSpeed: "TURBO", StyleType: "AUTO", MagicPrompt: "OFF", Seed: 7}
	if got, want := base.CacheKey(), base.CacheKey(); got != want || len(got) != 64 {
		t.Fatalf("CacheKey not stable: %q %q", got, want)
	}
	// Defaults and spelling do not change the key.
	same := Request{Prompt: " a fox ", NegativePrompt: "text", AspectRatio: "2:3", RenderingSpeed: "turbo", Seed: 7}
	if same.CacheKey() != base.CacheKey() {
		t.Errorf("equivalent requests have different keys")
	}
	seen := map[string]string{base.CacheKey(): "base"}
	for name, r := range map[string]Request{
		"prompt":   {Prompt: "a fox!", NegativePrompt: "text", Seed: 7},
		"negative": {Prompt: "a fox", Seed: 7},
		"aspect":   {Prompt: "a fox", NegativePrompt: "text", AspectRatio: "1x1", Seed: 7},
		"speed":    {Prompt: "a fox", NegativePrompt: "text", RenderingSpeed: "QUALITY", Seed: 7},
		"style":    {Prompt: "a fox", NegativePrompt: "text", StyleType: "DESIGN", Seed: 7},
		"magic":    {Prompt: "a fox", NegativePrompt: "text", MagicPrompt: "ON", Seed: 7},
		"seed":     {Prompt: "a fox", NegativePrompt: "text", Seed: 8},
	} {
		k := r.CacheKey()
		if other, dup := seen[k]; dup {
			t.Errorf("changing %s gives the key of %s", name, other)
		}
		seen[k] = name
	}
}

func TestCachePutGet(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := coverReq.CacheKey()
	if _, _, err := c.Get(context.Background(), key); !errors.Is(err, ErrCacheMiss) {
		t.Fatalf("empty cache: err = %v", err)
	}
	img := tinyPNG(t)
	created := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := c.Put(context.Background(), img, Record{Key: key, Prompt: coverReq.Prompt, Model: Model, CostEstimateUSD: 0.03, AltText: "alt", Created: created}); err != nil {
		t.Fatal(err)
	}
	got, rec, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(img) || rec.MIME != "image/png" || rec.Bytes != len(img) || rec.Prompt != coverReq.Prompt || !rec.Created.Equal(created) || rec.AltText != "alt" {
		t.Errorf("record = %+v", rec)
	}
	// Files: <2 hex>/<key>.png and .json, and no temporary files left.
	entries, _ := os.ReadDir(filepath.Join(dir, key[:2]))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{key + ".json", key + ".png"}; strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("files = %v, want %v", names, want)
	}

	// A damaged image is a miss, not a wrong answer.
	os.WriteFile(filepath.Join(dir, key[:2], key+".png"), append(img, 0), 0o640)
	if _, _, err := c.Get(context.Background(), key); !errors.Is(err, ErrCacheMiss) {
		t.Errorf("damaged image: err = %v, want a miss", err)
	}
}

func TestCacheRefusesBadInput(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, key := range []string{"", "../../etc/passwd", strings.Repeat("z", 64), strings.Repeat("a", 63)} {
		if _, _, err := c.Get(context.Background(), key); !errors.Is(err, ErrCacheMiss) {
			t.Errorf("Get(%q) err = %v", key, err)
		}
		if err := c.Put(context.Background(), tinyPNG(t), Record{Key: key}); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
	}
	if err := c.Put(context.Background(), []byte("GIF89a"), Record{Key: coverReq.CacheKey()}); err == nil {
		t.Errorf("Put of a GIF succeeded")
	}
}

// TestSharedCache: with shared storage, an image one node cached (and
// paid for) is a hit on another node, under the prefix given; a bad
// prefix is refused.
func TestSharedCache(t *testing.T) {
	ctx := context.Background()
	store, err := blob.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a, err := NewCache(store, "cache/images/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCache(store, "cache/images/")
	key := coverReq.CacheKey()
	img := tinyPNG(t)
	if err := a.Put(ctx, img, Record{Key: key, Prompt: coverReq.Prompt, Model: Model}); err != nil {
		t.Fatal(err)
	}
	got, _, err := b.Get(ctx, key)
	if err != nil || !bytes.Equal(got, img) {
		t.Fatalf("the other node's Get = %d bytes, %v", len(got), err)
	}
	if _, err := store.Stat(ctx, "cache/images/"+key[:2]+"/"+key+".png"); err != nil {
		t.Fatalf("not under the prefix: %v", err)
	}
	if _, err := NewCache(store, "../x/"); err == nil {
		t.Fatal("a prefix climbing out was accepted")
	}
}
