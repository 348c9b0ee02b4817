package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds a Chromium, or skips the test (fails it under CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BINDERY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (install the chromium package or set BINDERY_CHROMIUM); browser tests cannot be skipped in CI")
	}
	t.Skip("no Chromium found; install chromium (apt-get install -y chromium) or set BINDERY_CHROMIUM")
	return ""
}

// browser is one Chromium process; tabs opened with Tab get their own
// browser context (cookies, cache), so two users can be signed in at once.
type browser struct {
	t     *testing.T
	alloc context.Context
	root  context.Context // first tab; keeps the browser alive
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(cancelRoot)
	if err := chromedp.Do(root); err != nil { // start the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return &browser{t: t, alloc: alloc, root: root}
}

// tab is one page in its own browser context, watched for JavaScript
// dialogs, uncaught exceptions and Content-Security-Policy violations.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	dialogs  []string
	problems []string // console errors, exceptions, CSP reports
}

// cspProbe runs in every document before its own scripts (DevTools may
// inject it although the CSP forbids inline script) and records every
// Content-Security-Policy violation where the test can read it.
const cspProbe = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.effectiveDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber);
  console.error('CSP violation: ' + e.effectiveDirective + ' ' + e.blockedURI);
});`

func (b *browser) Tab(width, height int64) *tab {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatal(err)
	}
	_, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
		return cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
	})
	if err != nil {
		t.Fatal(err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, string(ev.Type)+": "+ev.Message)
			tb.mu.Unlock()
			// Dismiss it, or the page would hang.
			go chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (cdp.Empty, error) {
				return cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			})
		}
	}()
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			text := m.String()
			bad := m.IsException() || strings.Contains(text, "Content Security Policy") || strings.Contains(text, "CSP violation")
			if m.Type == "error" && !expectedConsoleError(text) {
				bad = true
			}
			if bad {
				tb.mu.Lock()
				tb.problems = append(tb.problems, text+" ("+m.URL+")")
				tb.mu.Unlock()
			}
		}
	}()
	return tb
}

// expectedConsoleError: the browser logs failed requests and dropped
// WebSockets while the test stops the server on purpose, and a 404 for
// /favicon.ico.
func expectedConsoleError(text string) bool {
	for _, s := range []string{"ERR_CONNECTION_REFUSED", "WebSocket connection to", "favicon.ico", "Failed to load resource"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("browser: %v\nproblems so far: %v", err, tb.Problems())
	}
}

// eval runs a JavaScript expression (promises are awaited) and decodes
// its value.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %.80q: %v", js, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it is true. Errors (a page
// navigating away mid-evaluation) count as "not yet".
func (tb *tab) waitJS(what, cond string, timeout time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond) // polling the page, with a deadline
	}
	// What the page says, and what it looks like, for the next engineer.
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	said, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.notice:not([hidden]), [role=alert]:not([hidden])')].map((n) => n.textContent.trim()).filter(Boolean)`))
	cancel()
	tb.screenshot("failed-" + strings.Join(strings.Fields(what), "-"))
	tb.t.Fatalf("waiting for %s (%s): not within %v (last error: %v)\nnotices on the page: %q\nproblems: %v", what, cond, timeout, last, said, tb.Problems())
}

// clickUntil clicks the element of CSS selector sel until cond holds,
// three times at most:
// a click the page ignored because it landed while the layout moved
// under it (a full-page screenshot lays the page out at its full height
// for a moment) is clicked again, as a user would. A third miss fails.
func (tb *tab) clickUntil(sel, cond string) {
	tb.t.Helper()
	for range 2 {
		tb.do(chromedp.Click(chromedp.CSS(sel)))
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")", chromedp.WithPollingTimeout(2*time.Second)))
		cancel()
		if err == nil && ok {
			return
		}
	}
	tb.do(chromedp.Click(chromedp.CSS(sel)))
	tb.waitJS("a click on "+sel, cond, 5*time.Second)
}

func (tb *tab) Problems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.problems...)
}

func (tb *tab) Dialogs() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.dialogs...)
}

// clean fails the test if the page opened a dialog, threw, or reported a
// CSP violation.
func (tb *tab) clean() {
	tb.t.Helper()
	if d := tb.Dialogs(); len(d) > 0 {
		tb.t.Errorf("JavaScript dialogs opened: %q", d)
	}
	if p := tb.Problems(); len(p) > 0 {
		tb.t.Errorf("console problems: %q", p)
	}
	if v := eval[[]string](tb, `window.__csp || []`); len(v) > 0 {
		tb.t.Errorf("CSP violations: %q", v)
	}
}

// artifacts is where screenshots go.
var (
	artifactsOnce sync.Once
	artifactsDir  string
)

func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	artifactsOnce.Do(func() {
		artifactsDir = os.Getenv("BINDERY_TEST_ARTIFACTS")
		if artifactsDir == "" {
			artifactsDir, _ = os.MkdirTemp("", "bindery-e2e-shots")
		}
		os.MkdirAll(artifactsDir, 0o755)
	})
	time.Sleep(300 * time.Millisecond) // let transitions settle; only cosmetic
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	// From the top, where the sticky header belongs.
	scroll, _ := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const at = [scrollX, scrollY]; scrollTo(0, 0); return at; })()`))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	// Capturing beyond the viewport lays the page out at its full height
	// for a moment: put the scroll position back once it has shrunk, or
	// the next click lands where an element was before.
	if len(scroll) == 2 {
		_, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`new Promise((done) => requestAnimationFrame(() => {
			scrollTo(%g, %g);
			requestAnimationFrame(() => done(true));
		}))`, scroll[0], scroll[1]), chromedp.EvalAwaitPromise))
	}
	p := filepath.Join(artifactsDir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.t.Error(err)
	}
	tb.t.Logf("screenshot: %s", p)
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
