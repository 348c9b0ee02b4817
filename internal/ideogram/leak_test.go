package ideogram

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/manuscript"
)

// TestKeyNeverLeaks pushes a known key through every failure path and
// looks for it in the error (every way it may be printed), in every log
// line (written by a plain handler, not the redacting one: the package must
// not rely on redaction downstream), and in what is stored on disk.
func TestKeyNeverLeaks(t *testing.T) {
	echoKey := func(w http.ResponseWriter, r *http.Request, status int) {
		// A hostile or buggy server echoing the key back.
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"detail":"bad key %s","message":"key=%s"}`, r.Header.Get(keyHeader), r.Header.Get(keyHeader))
	}
	scenarios := []struct {
		name     string
		generate func(api *fakeAPI) func(w http.ResponseWriter, r *http.Request, call int)
		image    func(w http.ResponseWriter, r *http.Request)
		baseURL  func(api *fakeAPI) string
		timeout  time.Duration
	}{
		{name: "429 until exhausted", generate: func(*fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Retry-After", "1")
				echoKey(w, r, http.StatusTooManyRequests)
			}
		}},
		{name: "500", generate: func(*fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) { echoKey(w, r, http.StatusInternalServerError) }
		}},
		{name: "401 echoing the key", generate: func(*fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) { echoKey(w, r, http.StatusUnauthorized) }
		}},
		{name: "422 echoing the key", generate: func(*fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) { echoKey(w, r, http.StatusUnprocessableEntity) }
		}},
		{name: "garbage body with the key", generate: func(*fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Write([]byte("<<" + r.Header.Get(keyHeader) + ">>"))
			}
		}},
		{name: "slow response", timeout: 30 * time.Millisecond, generate: func(*fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() }
		}},
		{name: "bad image URL carrying the key", generate: func(api *fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) {
				json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{{"url": "gopher://x/" + r.Header.Get(keyHeader)}}})
			}
		}},
		{name: "image URL with the key in its query", generate: func(api *fakeAPI) func(http.ResponseWriter, *http.Request, int) {
			return func(w http.ResponseWriter, r *http.Request, _ int) { api.ok(w, "/img/1?k="+r.Header.Get(keyHeader)) }
		}, image: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }},
		{name: "transport error", baseURL: func(*fakeAPI) string {
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			return dead.URL
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			api := newFakeAPI(t)
			if sc.generate != nil {
				api.setGenerate(sc.generate(api))
			}
			if sc.image != nil {
				api.setImage(sc.image)
			}
			var logs bytes.Buffer
			c, _ := testClient(t, api, mustKeys(t, testKey), &logs, func(o *ClientOptions) {
				if sc.baseURL != nil {
					o.BaseURL = sc.baseURL(api)
				}
				if sc.timeout != 0 {
					o.RequestTimeout = sc.timeout
				}
			})
			_, err := c.Generate(context.Background(), coverReq)
			if err == nil {
				t.Fatal("Generate succeeded")
			}
			assertNoKey(t, "error", fmt.Sprintf("%v | %+v | %#v | %s", err, err, err, err))

			// The same failure through the Generator, which logs it and
			// falls back to a local cover.
			gen, err := NewGenerator(GeneratorOptions{Keys: mustKeys(t, testKey), Client: c, CacheDir: t.TempDir(), CoverWidth: 300, CoverHeight: 450, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			defer gen.Close()
			im, err := gen.Cover(context.Background(), manuscript.Metadata{Title: "Leak"})
			if err != nil || im.Source != SourceLocal {
				t.Fatalf("Cover = %q, %v; want a local cover", im.Source, err)
			}
			assertNoKey(t, "log", logs.String())
			if !strings.Contains(logs.String(), "ideogram") {
				t.Errorf("nothing was logged; the test would prove nothing")
			}
		})
	}
}

func TestKeyValueHasNoPrintedForm(t *testing.T) {
	ks := mustKeys(t, testKey)
	k, err := ks.Key()
	if err != nil {
		t.Fatal(err)
	}
	if k.Reveal() != testKey {
		t.Fatalf("Reveal() does not return the key")
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("key", "k", k, "ks", ks)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("key", "k", k)
	j, _ := json.Marshal(map[string]any{"k": k, "status": ks.Status()})
	printed := fmt.Sprintf("%v %+v %#v %s %q %x %X %d", k, k, k, k, k, k, k, k) +
		fmt.Sprintf("%v %+v %#v", ks, ks, ks.Status()) + logs.String() + string(j) +
		fmt.Sprint(struct{ K Key }{k}) + fmt.Sprintf("%+v", []Key{k})
	assertNoKey(t, "printed forms", printed)

	// A panic with a Key prints its String.
	func() {
		defer func() {
			r := recover()
			assertNoKey(t, "panic value", fmt.Sprint(r))
		}()
		panic(k)
	}()
}

func TestCacheRecordHoldsNoKey(t *testing.T) {
	api := newFakeAPI(t)
	c, _ := testClient(t, api, mustKeys(t, testKey), nil, nil)
	dir := t.TempDir()
	gen, err := NewGenerator(GeneratorOptions{Keys: mustKeys(t, testKey), Client: c, CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer gen.Close()
	if im, err := gen.Cover(context.Background(), manuscript.Metadata{Title: "Stored"}); err != nil || im.Source != SourceIdeogram {
		t.Fatalf("Cover: %q, %v", im.Source, err)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		assertNoKey(t, p, string(data))
		return nil
	})
}

func TestKeySourceErrorsNameTheVariableNotTheValue(t *testing.T) {
	for _, e := range []env{
		{EnvKey + "_V1": testKey, EnvKey + "_V2": testKey + "2"}, // no current version
		{EnvKey + "_V1": testKey, EnvCurrentVersion: "v3"},       // current names a missing key
		{EnvKey + "_V1": testKey, EnvCurrentVersion: testKey},    // a key pasted into the pointer
		{EnvKey: testKey, EnvKey + "_FILE": "/nonexistent"},      // both
		{EnvKey + "_FILE": filepath.Join(t.TempDir(), testKey)},  // missing file named like the key
	} {
		_, err := NewKeySource(e.get)
		if err == nil {
			t.Errorf("%v: no error", e)
			continue
		}
		if !strings.Contains(err.Error(), "IDEOGRAM_API_KEY") {
			t.Errorf("error %q names no variable", err)
		}
		assertNoKey(t, "key source error", strings.ReplaceAll(err.Error(), filepath.Dir(e[EnvKey+"_FILE"]), ""))
	}
}

func assertNoKey(t *testing.T, where, s string) {
	t.Helper()
	if strings.Contains(s, testKey) {
		t.Errorf("the key appears in the %s:\n%s", where, s)
	}
	// A prefix long enough to be useful to an attacker must not appear
	// either (guards against clipped echoes).
	if strings.Contains(s, testKey[:16]) {
		t.Errorf("part of the key appears in the %s:\n%s", where, s)
	}
}
