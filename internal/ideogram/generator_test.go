package ideogram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bindery/bindery/internal/manuscript"
)

var frankenstein = manuscript.Metadata{
	Title:       "Frankenstein",
	Subtitle:    "or, The Modern Prometheus",
	Authors:     []string{"Mary Shelley"},
	Description: "A young scientist creates a sapient creature in an unorthodox experiment. Then it goes wrong.",
}

// testGenerator returns a Generator on api with key (none when ""),
// logging to logs, small local covers, and its cache folder.
func testGenerator(t *testing.T, api *fakeAPI, key string, logs *bytes.Buffer) (*Generator, string) {
	t.Helper()
	ks, err := NewKeySource(env{EnvKey: key}.get)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer
	if logs != nil {
		w = logs
	}
	c, _ := testClient(t, api, ks, w, nil)
	dir := t.TempDir()
	o := GeneratorOptions{Keys: ks, Client: c, CacheDir: dir, CoverWidth: 400, CoverHeight: 600}
	if logs != nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	g, err := NewGenerator(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g, dir
}

func TestCoverWithoutKeyIsLocal(t *testing.T) {
	api := newFakeAPI(t)
	var logs bytes.Buffer
	g, _ := testGenerator(t, api, "", &logs)
	im, err := g.Cover(context.Background(), frankenstein)
	if err != nil {
		t.Fatalf("Cover: %v", err)
	}
	if im.Source != SourceLocal || im.MIME != "image/png" || len(im.Data) == 0 {
		t.Errorf("image = %s %s %d bytes", im.Source, im.MIME, len(im.Data))
	}
	if !strings.HasPrefix(im.AltText, "Cover of “Frankenstein”, or, The Modern Prometheus, by Mary Shelley") {
		t.Errorf("alt = %q", im.AltText)
	}
	if !strings.Contains(logs.String(), "no Ideogram API key configured") {
		t.Errorf("no log line says why there is no illustration:\n%s", logs.String())
	}
	if n, _ := api.calls(); n != 0 {
		t.Errorf("the API was called %d times without a key", n)
	}
	if _, err := g.Illustration(context.Background(), "Frankenstein", Request{Prompt: "the creature"}); !errors.Is(err, ErrNoKey) {
		t.Errorf("Illustration err = %v, want ErrNoKey", err)
	}
	if !strings.Contains(logs.String(), "skipping an illustration") {
		t.Errorf("skipping an illustration is not logged")
	}
}

func TestCoverIsGeneratedOnceThenCached(t *testing.T) {
	api := newFakeAPI(t)
	g, dir := testGenerator(t, api, testKey, nil)

	first, err := g.Cover(context.Background(), frankenstein)
	if err != nil || first.Source != SourceIdeogram {
		t.Fatalf("first Cover = %q, %v", first.Source, err)
	}
	if want := "Cover illustration for “Frankenstein”: A young scientist creates a sapient creature in an unorthodox experiment."; first.AltText != want {
		t.Errorf("alt = %q, want %q", first.AltText, want)
	}
	second, err := g.Cover(context.Background(), frankenstein)
	if err != nil || second.Source != SourceCache {
		t.Fatalf("second Cover = %q, %v", second.Source, err)
	}
	if !bytes.Equal(first.Data, second.Data) || first.AltText != second.AltText || first.CacheKey != second.CacheKey {
		t.Errorf("the cached image differs from the generated one")
	}
	if gen, img := api.calls(); gen != 1 || img != 1 {
		t.Errorf("API calls = %d generate, %d download; want 1 and 1", gen, img)
	}
	// The record beside the image.
	raw, err := os.ReadFile(filepath.Join(dir, first.CacheKey[:2], first.CacheKey+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Model != Model || rec.CostEstimateUSD != 0.03 || rec.AltText != first.AltText || rec.Seed != 12345 || rec.Created.IsZero() || !strings.Contains(rec.Prompt, "Frankenstein") || rec.KeyVersion != "" {
		t.Errorf("record = %s", raw)
	}

	// A new Generator on the same folder (the next run) pays nothing.
	g2, err := NewGenerator(GeneratorOptions{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close()
	if im, err := g2.Cover(context.Background(), frankenstein); err != nil || im.Source != SourceCache {
		t.Errorf("next run without a key: %q, %v; want the cached cover", im.Source, err)
	}
}

func TestConcurrentCoversPayOnce(t *testing.T) {
	api := newFakeAPI(t)
	g, _ := testGenerator(t, api, testKey, nil)
	var wg sync.WaitGroup
	sources := make([]string, 6)
	for i := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			im, err := g.Cover(context.Background(), frankenstein)
			if err != nil {
				t.Error(err)
			}
			sources[i] = im.Source
		}()
	}
	wg.Wait()
	if n, _ := api.calls(); n != 1 {
		t.Errorf("generate called %d times for one cover (sources %v)", n, sources)
	}
	if len(g.inflight) != 0 {
		t.Errorf("per-key locks left behind: %d", len(g.inflight))
	}
}

func TestCoverFallsBackWhenIdeogramFails(t *testing.T) {
	api := newFakeAPI(t)
	api.setGenerate(func(w http.ResponseWriter, r *http.Request, call int) { w.WriteHeader(http.StatusServiceUnavailable) })
	var logs bytes.Buffer
	g, dir := testGenerator(t, api, testKey, &logs)
	im, err := g.Cover(context.Background(), frankenstein)
	if err != nil || im.Source != SourceLocal {
		t.Fatalf("Cover = %q, %v; want a local cover", im.Source, err)
	}
	if !strings.Contains(logs.String(), "Ideogram cover failed") || !strings.Contains(logs.String(), "503") {
		t.Errorf("the failure is not logged:\n%s", logs.String())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") { // the store's own folder of uploads under way
			t.Errorf("a failure left %s in the cache", e.Name())
		}
	}
}

func TestCoverHonoursCancellation(t *testing.T) {
	api := newFakeAPI(t)
	g, _ := testGenerator(t, api, testKey, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Cover(ctx, frankenstein); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestCoverPromptIsBounded(t *testing.T) {
	md := manuscript.Metadata{Title: strings.Repeat("T", 10000), Subtitle: "\x00\u202eevil", Authors: []string{strings.Repeat("A ", 5000)}, Description: strings.Repeat("word ", 10000)}
	p := CoverPrompt(md)
	if n := len([]rune(p)); n > MaxPromptRunes {
		t.Errorf("prompt has %d runes", n)
	}
	if strings.ContainsAny(p, "\x00\u202e") {
		t.Errorf("prompt keeps control characters")
	}
	if _, err := (Request{Prompt: p}).normalized(); err != nil {
		t.Errorf("the prompt of odd metadata is refused: %v", err)
	}
}
