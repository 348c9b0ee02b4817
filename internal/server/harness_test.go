package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/testkit"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	bookService "github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/clock"
	"github.com/bindery/bindery/internal/config"
	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/metrics"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/privacy"
	"github.com/bindery/bindery/internal/realtime"
	"github.com/bindery/bindery/internal/server"
	"github.com/bindery/bindery/internal/store/sqlite"
)

// testParams make password hashing cheap in tests; the policy and code
// paths are the same as in production.
var testParams = auth.Params{Memory: 64, Time: 1, Threads: 1}

const strongPassword = "correct horse battery staple"

// harness is a real server over real HTTP on loopback, with a SQLite file
// in a temporary folder and a fake clock.
type harness struct {
	t     testing.TB
	srv   *httptest.Server
	srvr  *server.Server
	store *sqlite.DB
	auth  *auth.Service
	clock *clock.Fake
	cfg   *config.Config
	users map[bindery.Role]*bindery.User
	books *bookfs.Store
	runs  *pipeline.Engine
	cat   *catalog.Catalog
	// shared is a book owned by the author with the editor and the viewer
	// as members: every role can see it.
	shared *bindery.Book
}

// newHarness starts a server configured by env (on top of defaults) with
// one user per role: admin@, author@, editor@, viewer@example.com.
func newHarness(t testing.TB, env map[string]string) *harness {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	// The server's public URL is where the test reaches it, so that
	// same-origin checks (CSRF, WebSocket Origin) see a real browser's view.
	vars := map[string]string{"BINDERY_DATA_DIR": t.TempDir(), "BINDERY_PUBLIC_URL": "http://" + srv.Listener.Addr().String()}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hub := realtime.NewHub(realtime.HubOptions{PingInterval: -1})
	t.Cleanup(func() { hub.Shutdown(context.Background()) })
	store, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "bindery.db"), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := clock.NewFake(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	m := metrics.New(metrics.Sources{RunsByState: store.CountRunsByState, WSClients: func() int { return hub.Stats().Conns }})
	svc, err := auth.NewService(ctx, auth.Config{
		Store: store, Hasher: auth.NewHasher(testParams), Now: clk.Now,
		Sleep:      func(context.Context, time.Duration) error { return nil },
		Guard:      auth.NewGuard(auth.GuardConfig{MaxFailures: cfg.LoginMaxFailures, Window: cfg.LoginWindow, BlockDuration: cfg.BlockDuration, Now: clk.Now}),
		SessionTTL: cfg.SessionTTL, SessionIdle: cfg.SessionIdle,
		TwoFactor: auth.TwoFactorPolicy(cfg.RequireTwoFactor),
		OnRevoke:  func(r auth.Revocation) { server.Disconnect(hub, r) },
		Observe:   func(ev string) { m.Login(ev) },
	})
	if err != nil {
		t.Fatal(err)
	}
	// The limits as serve gives them (cli.bookLimits).
	l := cfg.Limits
	books, err := bookfs.New(cfg.BooksDir(), bookfs.Limits{MaxFileBytes: cfg.MaxUploadBytes, MaxFiles: cfg.BookMaxFiles, MaxBookBytes: cfg.BookMaxBytes,
		MaxInflateRatio: l.MaxArchiveRatio, Manuscript: manuscript.Limits{
			MaxChapters: l.MaxChapters, MaxChapterBytes: l.MaxChapterBytes, MaxBookTextBytes: l.MaxBookTextBytes,
			MaxParagraphBytes: l.MaxParagraphBytes, MaxNesting: l.MaxNesting, MaxTableColumns: l.MaxTableColumns,
			MaxFootnotes: l.MaxFootnotes, MaxImagePixels: l.MaxImagePixels, MaxJPEGPixels: l.MaxJPEGPixels,
			MaxAssetBytes: cfg.MaxUploadBytes,
		}})
	if err != nil {
		t.Fatal(err)
	}
	jobsDB, err := sqlite.OpenPool(filepath.Join(cfg.DataDir, "bindery.db"), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jobsDB.Close() })
	artifacts := filepath.Join(cfg.DataDir, "artifacts")
	cat, err := catalog.New(catalog.Config{Store: store, Dir: filepath.Join(cfg.DataDir, "published"), BookDir: books.Dir,
		ArtifactsDir: func(id int64) string { return filepath.Join(artifacts, strconv.FormatInt(id, 10)) }})
	if err != nil {
		t.Fatal(err)
	}
	var engine *pipeline.Engine
	library := bookService.New(bookService.Deps{Store: store, Files: books, Catalog: cat, Audit: svc, Now: clk.Now,
		ArtifactsDir: func(id int64) string { return filepath.Join(artifacts, strconv.FormatInt(id, 10)) },
		Emit:         func(ctx context.Context, ev *bindery.Event) { engine.Emit(ctx, ev) },
		Disconnect:   func(id int64) { server.Disconnect(hub, auth.Revocation{UserID: id}) }})
	engine, err = pipeline.New(ctx, pipeline.Config{Store: store, Books: library, ArtifactsDir: artifacts,
		Jobs: riverjobs.SQLite(jobsDB, riverjobs.SQLiteOptions{}), PollInterval: 20 * time.Millisecond, Publisher: pipeline.PublisherFunc(func(e *bindery.Event) { hub.Publish(e) })})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { engine.Shutdown(context.Background()) })
	priv := privacy.New(privacy.Deps{Store: store, Auth: svc, Books: books, Library: library, Now: clk.Now,
		ArtifactsDir: func(id int64) string { return filepath.Join(artifacts, strconv.FormatInt(id, 10)) }, PublishedDir: cat.EditionDir})
	h, err := server.New(server.Deps{Config: cfg, Store: store, Auth: svc, Books: library, Runs: engine, Hub: hub, Catalog: cat, Metrics: m, Privacy: priv, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	hs := &harness{t: t, srv: srv, srvr: h, store: store, auth: svc, clock: clk, cfg: cfg, users: map[bindery.Role]*bindery.User{}, books: books, runs: engine, cat: cat}
	for _, r := range bindery.Roles {
		u, err := svc.CreateUser(ctx, nil, string(r)+"@example.com", r, strongPassword, auth.Client{})
		if err != nil {
			t.Fatal(err)
		}
		hs.users[r] = u
	}
	hs.shared = hs.newBook(bindery.RoleAuthor, bindery.RoleEditor, bindery.RoleViewer)
	return hs
}

// newRun records a run of the shared book in the given state, without a
// job behind it, and an artifact "book.epub" in its folder.
func (h *harness) newRun(state string) *bindery.Run {
	h.t.Helper()
	r := &bindery.Run{BookID: h.shared.ID, State: state, Formats: []string{"epub"}, CreatedBy: h.users[bindery.RoleAuthor].ID, CreatedAt: h.clock.Now()}
	if err := h.store.CreateRun(context.Background(), r); err != nil {
		h.t.Fatal(err)
	}
	dir := filepath.Join(h.cfg.DataDir, "artifacts", strconv.FormatInt(r.ID, 10))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "book.epub"), []byte("PK epub"), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return r
}

// passedRun records a run of the shared book whose quality stage passed,
// with an artifact: a run that may be published.
func (h *harness) passedRun() *bindery.Run {
	h.t.Helper()
	r := h.newRun(bindery.RunSucceeded)
	for _, st := range r.Stages {
		st.State = "succeeded"
		if err := h.store.UpdateStage(context.Background(), r.ID, st); err != nil {
			h.t.Fatal(err)
		}
	}
	return r
}

// newBook creates a book owned by owner's user, with the given members,
// holding metadata.yaml and one chapter, chapters/01-one.md.
func (h *harness) newBook(owner bindery.Role, members ...bindery.Role) *bindery.Book {
	h.t.Helper()
	ctx := context.Background()
	b := &bindery.Book{OwnerID: h.users[owner].ID, Title: "Shared", CreatedAt: h.clock.Now(), UpdatedAt: h.clock.Now()}
	if err := h.store.CreateBook(ctx, b); err != nil {
		h.t.Fatal(err)
	}
	for _, m := range members {
		if err := h.store.AddMember(ctx, b.ID, h.users[m].ID, h.clock.Now()); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.books.Create(b.ID); err != nil {
		h.t.Fatal(err)
	}
	for name, body := range map[string]string{
		"metadata.yaml":      "title: Shared\nauthor: A. Writer\nlanguage: en\n",
		"chapters/01-one.md": "# One\n\nThe first chapter.\n",
	} {
		if _, err := h.books.Put(ctx, b.ID, name, strings.NewReader(body)); err != nil {
			h.t.Fatal(err)
		}
	}
	return b
}

// session signs role's user in (through the service, not HTTP) and
// returns the session cookie value.
func (h *harness) session(r bindery.Role) string {
	h.t.Helper()
	_, tok, err := h.auth.Login(context.Background(), string(r)+"@example.com", strongPassword, "", auth.Client{}, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// req describes one request.
type req struct {
	method, path string
	body         string
	contentType  string // default application/json when there is a body
	cookie       string // session cookie value
	bearer       string
	header       map[string]string
}

// do sends r without following redirects and returns the response and
// its body.
func (h *harness) do(r req) (*http.Response, string) {
	h.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, h.srv.URL+r.path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	} else if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: r.cookie})
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.header {
		if k == "Host" {
			hr.Host = v
		} else {
			hr.Header.Set(k, v)
		}
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(hr)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login posts credentials to the JSON API from the given forwarded
// address (when set) and returns the response.
func (h *harness) login(email, password string, header map[string]string) (*http.Response, string) {
	h.t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return h.do(req{method: "POST", path: "/api/v1/auth/login", body: string(b), header: header})
}

func cookieFrom(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == server.SessionCookie {
			return c
		}
	}
	return nil
}

// authClient is the client of actions taken directly on the service.
var authClient = auth.Client{}
