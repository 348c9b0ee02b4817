package pipeline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/ideogram"
	"github.com/bindery/bindery/internal/pipeline"
)

// TestImagesStageSaysWhatHappened: with a key configured but refused
// (401), or rate-limited until the retries run out (429), the run still
// builds with a typographic cover, but the images stage ends as a warning
// and the run's log says why — never "no key configured".
func TestImagesStageSaysWhatHappened(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		want     string
		attempts int64
	}{
		{"key refused", http.StatusUnauthorized, "refused the API key", 1},
		{"rate-limited", http.StatusTooManyRequests, "gave up after 3 attempts", 3},
		{"service down", http.StatusServiceUnavailable, "gave up after 3 attempts", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Retry-After", "0")
				http.Error(w, `{"error":"no"}`, tc.status)
			}))
			defer fake.Close()
			keys, err := ideogram.NewKeySource(func(k string) string {
				if k == "IDEOGRAM_API_KEY" {
					return "test-key-" + strings.Repeat("x", 40)
				}
				return ""
			})
			if err != nil {
				t.Fatal(err)
			}
			g, err := ideogram.NewGenerator(ideogram.GeneratorOptions{Keys: keys, CacheDir: t.TempDir(), ClientOptions: ideogram.ClientOptions{
				BaseURL: fake.URL, MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond,
				Sleep: func(ctx context.Context, d time.Duration) error { return ctx.Err() },
			}})
			if err != nil {
				t.Fatal(err)
			}
			env := newEnv(t, noCoverBook(), pipeline.IdeogramIllustrator(g))
			ctx := context.Background()
			r, _ := env.engine.StartRun(ctx, env.book, env.user, []string{"epub"}, false)
			env.rec.wait(t, "run_succeeded", forRun(r.ID, bindery.EventRunSucceeded))
			got, _ := env.store.RunByID(ctx, r.ID)
			images := got.Stages[1]
			if images.State != "warning" || !strings.Contains(images.Message, tc.want) {
				t.Errorf("images stage = %s %q, want warning with %q", images.State, images.Message, tc.want)
			}
			logs, _ := env.store.RunLogs(ctx, r.ID, 0)
			var warned bool
			for _, l := range logs {
				if strings.Contains(l.Message, "No Ideogram key configured") {
					t.Errorf("the log says no key is configured: %q", l.Message)
				}
				warned = warned || (l.Level == "warn" && strings.Contains(l.Message, tc.want))
			}
			if !warned {
				t.Errorf("no warning in the run log says %q", tc.want)
			}
			if n := calls.Load(); n != tc.attempts {
				t.Errorf("the service was called %d times, want %d", n, tc.attempts)
			}
			fin := env.rec.wait(t, "stage_finished images", func(e *bindery.Event) bool {
				return e.RunID == r.ID && e.Type == bindery.EventStageFinished && e.Stage == bindery.StageImages
			})
			if fin.State != "warning" {
				t.Errorf("stage_finished carries state %q, want warning", fin.State)
			}
		})
	}
}
