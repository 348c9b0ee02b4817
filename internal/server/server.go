// Package server is Bindery's HTTP layer: the route table, the security
// middleware every response passes through, and the handlers, which decode,
// authorise, call a service and encode.
package server

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/clientaddr"
	"github.com/bindery/bindery/internal/config"
	"github.com/bindery/bindery/internal/metrics"
	"github.com/bindery/bindery/internal/privacy"
	"github.com/bindery/bindery/internal/realtime"
	"github.com/bindery/bindery/internal/web"
)

// Deps are what the server needs.
type Deps struct {
	Config  *config.Config
	Store   bindery.Store
	Auth    *auth.Service
	Books   *books.Service
	Runs    Runs
	Hub     *realtime.Hub // live events for /ws
	Catalog *catalog.Catalog
	Metrics *metrics.Metrics // nil: /metrics answers 404
	Privacy *privacy.Service // exports, account and book deletion
	// Integrations reports the integrations' key status for admins.
	Integrations func() []Integration
	Logger       *slog.Logger
	Now          func() time.Time // default time.Now

	// CatchUp, with several nodes, waits until this node's hub has read
	// event id (realtime.HandlerOptions.CatchUp); nil with one process.
	CatchUp func(ctx context.Context, id int64)
}

// Server is the HTTP handler of Bindery.
type Server struct {
	cfg          *config.Config
	store        bindery.Store
	auth         *auth.Service
	books        *books.Service
	runs         Runs
	hub          *realtime.Hub
	catalog      *catalog.Catalog
	metrics      *metrics.Metrics
	privacy      *privacy.Service
	integrations func() []Integration
	ws           http.Handler
	log          *slog.Logger
	now          func() time.Time
	addrs        *clientaddr.Resolver
	pages        *template.Template
	handler      http.Handler
	csrf         *http.CrossOriginProtection
	hostname     string // the public URL's host name, for the Host check
	ready        readiness
}

// New returns the server with every route of routes.go registered behind
// the middleware chain.
func New(d Deps) (*Server, error) {
	s := &Server{
		cfg: d.Config, store: d.Store, auth: d.Auth, books: d.Books, runs: d.Runs, hub: d.Hub, catalog: d.Catalog, metrics: d.Metrics, privacy: d.Privacy, integrations: d.Integrations, log: d.Logger, now: d.Now,
		addrs: &clientaddr.Resolver{Trusted: d.Config.TrustedProxies},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.hostname = d.Config.PublicURL.Hostname()
	var err error
	if s.pages, err = web.Templates(); err != nil {
		return nil, err
	}
	s.csrf = http.NewCrossOriginProtection()
	if err := s.csrf.AddTrustedOrigin(d.Config.PublicURL.Scheme + "://" + d.Config.PublicURL.Host); err != nil {
		return nil, err
	}
	s.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, bindery.Errorf(bindery.EFORBIDDEN, "Cross-origin requests that change state are refused."))
	}))
	if s.ws, err = s.newWSHandler(d.Hub, d.CatchUp); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.authorize(rt))
	}
	s.handler = s.outer(mux)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// client describes the caller for the auth service.
func (s *Server) client(r *http.Request) auth.Client {
	return auth.Client{Addr: s.addrs.Addr(r), UserAgent: r.UserAgent()}
}

type ctxKey int

const (
	principalKey ctxKey = iota
	bookKey
	runKey
)

// principal returns the authenticated caller, or nil.
func principal(r *http.Request) *auth.Principal {
	p, _ := r.Context().Value(principalKey).(*auth.Principal)
	return p
}

func withPrincipal(ctx context.Context, p *auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}
