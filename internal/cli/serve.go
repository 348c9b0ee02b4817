package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/config"
	"github.com/bindery/bindery/internal/ideogram"
	"github.com/bindery/bindery/internal/jobs"
	"github.com/bindery/bindery/internal/jobs/riverjobs"
	"github.com/bindery/bindery/internal/logging"
	"github.com/bindery/bindery/internal/manuscript"
	"github.com/bindery/bindery/internal/metrics"
	"github.com/bindery/bindery/internal/pipeline"
	"github.com/bindery/bindery/internal/privacy"
	"github.com/bindery/bindery/internal/realtime"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/server"
	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/store/sqlite"
)

// Server limits. Read and write timeouts bound how long one slow client
// can hold a connection (slowloris); routes that stream large bodies or
// hold WebSockets extend their own deadlines with http.ResponseController.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 32 << 10
	shutdownTimeout   = 15 * time.Second
	sweepInterval     = 10 * time.Minute
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve")
	setUsage(e, fs, `Usage: bindery serve

Runs the team server — HTTP API, dashboard, live events (/ws), catalog
and OPDS feed — on one port. Everything is configured through the
environment (or a .env file; the real environment wins): see README.md,
Configuration. On the first start it prints a one-time link to create the
first admin. SIGINT or SIGTERM shut it down gracefully; SIGHUP re-reads
the image-generation keys.

Examples:
  bindery serve
  WEBSOCKET_PORT=9000 BINDERY_DATA_DIR=/var/lib/bindery bindery serve
`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	hub := realtime.NewHub(realtime.HubOptions{})
	var m *metrics.Metrics
	var nodes *nodeEvents // set before any request can revoke anything
	d, closeAll, err := openDeps(ctx, e, true, authHooks{
		onRevoke: func(r auth.Revocation) {
			server.Disconnect(hub, r)
			if nodes != nil {
				nodes.revoked(r)
			}
		},
		observe: func(ev string) {
			if ev == "block" {
				m.Block()
			} else {
				m.Login(ev)
			}
		},
	})
	if err != nil {
		return err
	}
	defer closeAll()
	// Several servers share one database only when they also share the
	// book files (BINDERY_S3_…); with files in each server's data folder,
	// a run taken by another server would build a book that is not there.
	if l, ok := d.db.(interface {
		LockServe(context.Context) (func(), error)
	}); ok && d.cfg.S3 == nil {
		release, err := l.LockServe(ctx)
		if err != nil {
			return fmt.Errorf("BINDERY_DATABASE_URL: %w", err)
		}
		defer release()
	}
	cfg, log, store, svc := d.cfg, d.log, d.store, d.auth
	m = metrics.New(metrics.Sources{
		ActiveSessions: func(ctx context.Context) (int, error) {
			now := time.Now()
			return store.CountActiveSessions(ctx, now, now.Add(-cfg.SessionIdle))
		},
		RunsByState: store.CountRunsByState,
		WSClients:   func() int { return hub.Stats().Conns },
	})
	recent, err := store.RecentEvents(ctx, realtime.DefaultRetain)
	if err != nil {
		return err
	}
	if err := hub.Preload(recent); err != nil {
		return err
	}
	var last int64
	if len(recent) > 0 {
		last = recent[len(recent)-1].ID
	}
	if nodes, err = newNodeEvents(ctx, store, hub, last, log); err != nil {
		return err
	}
	if nodes.run != nil {
		nodes.run(ctx)
	}
	bs, err := newBookStorage(ctx, cfg, store)
	if err != nil {
		return err
	}
	files := bs.files
	images, keys, err := newImageGenerator(ctx, e, cfg, bs.outputs, log)
	if err != nil {
		return err
	}
	defer images.Close()
	queue, closeQueue, err := openJobs(store, cfg, log)
	if err != nil {
		return err
	}
	defer closeQueue()
	artifacts := filepath.Join(cfg.DataDir, "artifacts")
	// A book's quota counts its runs' files too (BINDERY_KEEP_RUNS bounds
	// them): what a writer can make the server hold for one book.
	files.CountOutputs(func(id int64) (int64, error) {
		runs, err := store.ListRuns(context.WithoutCancel(ctx), id, 10_000)
		if err != nil {
			return 0, err
		}
		var n int64
		for i, r := range runs { // newest first
			here := bookfs.FolderBytes(filepath.Join(artifacts, strconv.FormatInt(r.ID, 10)))
			if bs.outputs != nil && here == 0 && i < cfg.KeepRuns+4 {
				// Built on another node: its copies in shared storage.
				// Only the newest runs can have any (BINDERY_KEEP_RUNS
				// finished ones, and those under way): older ones were
				// pruned, and asking the bucket about each would make
				// every upload wait on hundreds of requests.
				for info, err := range bs.outputs.List(context.WithoutCancel(ctx), blob.RunPrefix(r.ID)) {
					if err != nil {
						return 0, err
					}
					here += info.Size
				}
			}
			n += here
		}
		return n, nil
	})
	cat, err := newCatalog(cfg, store, bs)
	if err != nil {
		return err
	}
	// The data folder as the database describes it, before anything runs:
	// interrupted publications, deletions and uploads are settled.
	if err := cat.Recover(); err != nil {
		return fmt.Errorf("recovering the catalog: %w", err)
	}
	// The book service is the one owner of books; it emits through the
	// engine, which needs it in turn: engine is set before any request
	// can reach the service.
	var engine *pipeline.Engine
	library := newLibrary(cfg, store, svc, bs, cat, log, bookEvents{
		emit:       func(ctx context.Context, ev *bindery.Event) { engine.Emit(ctx, ev) },
		disconnect: func(id int64) { server.Disconnect(hub, auth.Revocation{UserID: id}) },
		deleted:    nodes.bookDeleted,
	})
	priv := newPrivacyService(cfg, store, svc, bs, library, d.secrets, log)
	if rep, err := priv.Reconcile(ctx); err != nil {
		return fmt.Errorf("reconciling the data folder: %w", err)
	} else if rep != (privacy.Reconciled{}) {
		log.Warn("the data folder held leftovers of an interrupted process; settled", "deletions_finished", rep.DeletionsFinished,
			"orphans_removed", rep.OrphansRemoved, "folders_created", rep.FoldersCreated, "temporary_files_removed", rep.TempsRemoved)
	}
	if bs.shared != nil {
		// Books this data folder held before they were shared: pushed
		// before any request or run, so that every node finds them.
		n, err := bs.shared.Adopt(ctx, bookExists(store))
		if err != nil {
			return fmt.Errorf("moving this data folder's books to shared storage: %w", err)
		}
		if n > 0 {
			log.Info("moved this data folder's books to shared storage", "books", n)
		}
		if n, err = adoptOutputs(ctx, cfg, store, bs.outputs); err != nil {
			return fmt.Errorf("moving this data folder's editions and artifacts to shared storage: %w", err)
		} else if n > 0 {
			log.Info("moved this data folder's editions and artifacts to shared storage", "files", n)
		}
	}
	engine, err = pipeline.New(ctx, pipeline.Config{
		Store: store, Books: library, ArtifactsDir: artifacts, Outputs: bs.outputs, Jobs: queue, Logger: log,
		Workers: cfg.Workers, MaxActiveRuns: cfg.UserMaxActive, KeepRuns: cfg.KeepRuns, Illustrator: pipeline.IdeogramIllustrator(images), StageObserver: m.Stage,
		Publisher:     pipeline.PublisherFunc(nodes.publish),
		HandOverAfter: handOverAfter(cfg),
	})
	if err != nil {
		return err
	}
	if err := engine.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := engine.Shutdown(sctx); err != nil {
			log.Warn("stopping the job workers", "err", err)
		}
	}()
	// A key an admin stored through the API, used when the environment
	// sets none.
	keys.SetStored(func() (string, bool) {
		kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		v, _, err := store.Credential(kctx, "ideogram")
		return v, err == nil && v != ""
	})
	handler, err := server.New(server.Deps{Config: cfg, Store: store, Auth: svc, Books: library, Runs: engine, Hub: hub, CatchUp: nodes.catchUp, Catalog: cat, Metrics: m, Privacy: priv, Logger: log,
		Integrations: func() []server.Integration {
			st := keys.Status()
			return []server.Integration{{Name: "Ideogram", Configured: st.Configured, Version: st.Version, Versions: st.Versions, FromFile: st.FromFile, Error: st.Error}}
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("WEBSOCKET_HOST/WEBSOCKET_PORT: cannot listen on %s: %w", cfg.Addr(), err)
	}
	// Requests do not end with the signal: on SIGTERM the server stops
	// accepting, and requests in flight (an upload mid-body) have the
	// shutdown grace to finish; only then are they cancelled.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          logging.StdLogger(log, slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	log.Info("bindery listening", "addr", ln.Addr().String(), "env", cfg.Env, "public_url", cfg.PublicURL.String())
	fmt.Fprintf(e.stdout, "Bindery is listening on %s://%s\n", scheme, ln.Addr())
	if !cfg.Loopback() {
		log.Warn("listening on a non-loopback address; make sure a firewall or TLS proxy protects it", "host", cfg.Host)
	}

	if tok, ok, err := svc.NewSetupToken(ctx); err != nil {
		return err
	} else if ok {
		// Printed, not logged: the redacting logger would (rightly) hide
		// it, and logs are kept longer than this one-hour token lives.
		// The token sits in the fragment, which browsers never send.
		link := strings.TrimSuffix(cfg.PublicURL.String(), "/") + "/setup#token=" + tok
		fmt.Fprintf(e.stdout, "\nNo users yet. Create the first admin within %s at this one-time link:\n\n    %s\n\n", auth.SetupTTL, link)
	}

	go sweep(ctx, svc, store, retention{audit: cfg.AuditRetention, events: cfg.EventRetention, shared: bs.shared, editions: cat}, time.Now, log)
	if bs.shared != nil {
		go pruneCopies(ctx, bs.shared, engine, store, nodes.deletedBooks, log)
	}

	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	if cfg.TLS() {
		split := newSplitListener(ln)
		redirect := &http.Server{
			Handler:           httpsRedirect(cfg.PublicURL.String()),
			ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readHeaderTimeout, WriteTimeout: readHeaderTimeout,
			MaxHeaderBytes: maxHeaderBytes, ErrorLog: srv.ErrorLog,
		}
		servers = append(servers, redirect)
		go func() { errc <- srv.ServeTLS(split.tls, cfg.TLSCert, cfg.TLSKey) }()
		go func() { errc <- redirect.Serve(split.plain) }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil {
			log.Warn("requests still running at the end of the shutdown grace are cancelled", "grace", shutdownTimeout.String())
			cancelRequests()
			s.Close()
		}
	}
	// http.Server.Shutdown does not wait for upgraded connections.
	if err := hub.Shutdown(sctx); err != nil {
		log.Warn("closing WebSockets", "err", err)
	}
	for range servers {
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	log.Info("stopped")
	return nil
}

// httpsRedirect answers plain-HTTP requests on the TLS port with a
// permanent redirect to the same path under the public URL — never to the
// Host header, which the client controls.
func httpsRedirect(publicURL string) http.Handler {
	base := strings.TrimSuffix(publicURL, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusPermanentRedirect)
	})
}

// handOverAfter is how long a running run's execution may stay silent
// before another node takes the run over: on PostgreSQL, where runs and
// jobs are shared, BINDERY_RUN_HANDOVER_AFTER (30 s, fifteen heartbeats,
// by default); with SQLite never — one process serves the data folder and
// recovers its runs at start-up.
func handOverAfter(cfg *config.Config) time.Duration {
	if cfg.DatabaseURL != "" {
		return cfg.RunHandOverAfter
	}
	return 0
}

// openJobs opens the job queue (River) where the runs' state is: in the
// PostgreSQL database with BINDERY_DATABASE_URL (River's own tables,
// through the store's pool), else in the SQLite database file (its own
// pool of one connection, as River's SQLite driver asks).
func openJobs(store bindery.Store, cfg *config.Config, log *slog.Logger) (jobs.Opener, func(), error) {
	if pg, ok := store.(*postgres.DB); ok {
		return riverjobs.Postgres(pg.Pool(), riverjobs.PostgresOptions{Logger: log}), func() {}, nil
	}
	db, err := sqlite.OpenPool(cfg.DatabasePath(), 1)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the job queue: %w", err)
	}
	return riverjobs.SQLite(db, riverjobs.SQLiteOptions{Logger: log}), func() { db.Close() }, nil
}

// newAuthService builds the auth service and its brute-force guard from
// the configuration.
func newAuthService(ctx context.Context, cfg *config.Config, store auth.Store, secrets *secretbox.Keyring, log *slog.Logger, hooks authHooks) (*auth.Service, error) {
	return auth.NewService(ctx, auth.Config{
		Store:     store,
		Logger:    log,
		Secrets:   secrets,
		TwoFactor: auth.TwoFactorPolicy(cfg.RequireTwoFactor),
		// Failed sign-ins are audited under a keyed pseudonym of the
		// claimed address, the same one the store's migration used.
		Pseudonymize: func(email string) string { return auditchain.Pseudonym(secrets, email) },
		OnRevoke:     hooks.onRevoke,
		Observe:      hooks.observe,
		Guard:        newGuard(cfg, store, secrets, log),
		SessionTTL:   cfg.SessionTTL,
		SessionIdle:  cfg.SessionIdle,
	})
}

// newGuard builds the brute-force guard. With PostgreSQL its counts and
// blocks live in the database, so that every node (and the shell's
// commands) count the same failures and honour the same blocks and lifts;
// with SQLite one process serves the data folder and memory suffices.
func newGuard(cfg *config.Config, store auth.Store, secrets *secretbox.Keyring, log *slog.Logger) *auth.Guard {
	gc := auth.GuardConfig{MaxFailures: cfg.LoginMaxFailures, Window: cfg.LoginWindow, BlockDuration: cfg.BlockDuration, Logger: log}
	if gs, ok := store.(bindery.GuardStore); ok && cfg.DatabaseURL != "" {
		gc.Shared = gs
		gc.AccountKey = func(account string) string { return auditchain.Pseudonym(secrets, account) }
	}
	return auth.NewGuard(gc)
}

// newImageGenerator builds the images stage's generator: Ideogram when a
// key is configured, local typographic covers otherwise. SIGHUP re-reads
// the keys (and the .env file), so a rotated key is used without a
// restart; keys given as _FILE are also re-read when the file changes.
//
// The image cache is the data folder's, or with shared storage the
// bucket's (cache/images/), so that an image one node paid for serves
// every node.
func newImageGenerator(ctx context.Context, e *env, cfg *config.Config, shared blob.Store, log *slog.Logger) (*ideogram.Generator, *ideogram.KeySource, error) {
	keys := ideogram.NewStaticKeySource(cfg.Ideogram)
	o := ideogram.GeneratorOptions{
		Keys: keys, CacheDir: filepath.Join(cfg.DataDir, "cache", "images"), Logger: log,
		ClientOptions: ideogram.ClientOptions{BaseURL: cfg.Ideogram.BaseURL, Logger: log},
	}
	if shared != nil {
		c, err := ideogram.NewCache(shared, blob.ImageCachePrefix)
		if err != nil {
			return nil, nil, err
		}
		o.Cache = c
	}
	g, err := ideogram.NewGenerator(o)
	if err != nil {
		return nil, nil, err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				getenv, err := layeredEnv(e)
				if err == nil {
					err = keys.Reload(getenv)
				}
				if err != nil {
					log.Error("reloading the image generation keys failed; keeping the old ones", "err", err)
					continue
				}
				log.Info("image generation keys reloaded", "version", keys.Status().Version)
			}
		}
	}()
	return g, keys, nil
}

// bookLimits are the per-book limits of the configuration: uploads, and
// through bookfs.Store.Limits the previews and runs.
func bookLimits(cfg *config.Config) bookfs.Limits {
	return bookfs.Limits{
		MaxFileBytes: cfg.MaxUploadBytes, MaxFiles: cfg.BookMaxFiles, MaxBookBytes: cfg.BookMaxBytes,
		MaxInflateRatio: cfg.Limits.MaxArchiveRatio,
		Manuscript:      manuscriptLimits(cfg.Limits, cfg.MaxUploadBytes),
	}
}

// manuscriptLimits are the build's limits of the configuration; an
// image or stylesheet may be as large as an upload (maxAsset, 0 for the
// default).
func manuscriptLimits(l config.Limits, maxAsset int64) manuscript.Limits {
	return manuscript.Limits{
		MaxChapters:       l.MaxChapters,
		MaxChapterBytes:   l.MaxChapterBytes,
		MaxBookTextBytes:  l.MaxBookTextBytes,
		MaxParagraphBytes: l.MaxParagraphBytes,
		MaxNesting:        l.MaxNesting,
		MaxTableColumns:   l.MaxTableColumns,
		MaxFootnotes:      l.MaxFootnotes,
		MaxImagePixels:    l.MaxImagePixels,
		MaxJPEGPixels:     l.MaxJPEGPixels,
		MaxAssetBytes:     maxAsset,
	}.WithDefaults()
}

// sweep deletes expired sessions and tokens, and audit entries and run
// events past their retention (see retention.purge), at once and then
// every sweepInterval until ctx ends.
// leader is a store shared by several nodes (postgres.DB): TryLead
// reports whether this node runs the periodic work, so that it runs once
// per cluster.
type leader interface {
	TryLead(ctx context.Context) (bool, error)
}

func sweep(ctx context.Context, svc *auth.Service, store purger, r retention, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		// Several nodes on one database: one of them sweeps.
		if l, ok := store.(leader); ok {
			if lead, err := l.TryLead(ctx); err != nil || !lead {
				if err != nil && ctx.Err() == nil {
					log.Warn("asking to lead the periodic sweeps", "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					continue
				}
			}
		}
		if n, err := svc.Sweep(ctx); err != nil && ctx.Err() == nil {
			log.Error("sweeping expired sessions failed", "err", err)
		} else if n > 0 {
			log.Debug("swept expired credentials", "count", n)
		}
		audit, events, err := r.purge(ctx, store, now())
		if err != nil && ctx.Err() == nil {
			log.Error("purging expired audit entries and events failed", "err", err)
		}
		if audit > 0 {
			log.Info("purged expired audit entries", "count", audit)
		}
		if events > 0 {
			log.Debug("purged old events", "count", events)
		}
		if r.shared != nil {
			if n, err := r.shared.Collect(ctx, blobGrace, now()); err != nil && ctx.Err() == nil {
				log.Error("collecting replaced book files in shared storage failed", "err", err)
			} else if n > 0 {
				log.Debug("collected replaced book files", "count", n)
			}
			if n, err := r.editions.CollectEditions(ctx, blobGrace, now()); err != nil && ctx.Err() == nil {
				log.Error("collecting replaced editions in shared storage failed", "err", err)
			} else if n > 0 {
				log.Debug("collected replaced editions", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pruneCopies removes, on this node, the copies of books deleted through
// another node (bookfs.Shared.Prune) and of run outputs that shared
// storage no longer holds (pipeline.Engine.PruneCopies): at once for a
// book another node says it deleted (deleted; nil with one process), and
// every sweepInterval for what such a message missed. Every node runs it
// for its own folder.
func pruneCopies(ctx context.Context, shared *bookfs.Shared, engine *pipeline.Engine, store bindery.BookStore, deleted <-chan int64, log *slog.Logger) {
	exists := bookExists(store)
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-deleted:
			// The deletions told so far (an account's books come
			// together), then one pass over this node's run folders.
			for more := true; more; {
				if _, err := shared.RemoveCopy(ctx, id, exists); err != nil && ctx.Err() == nil {
					log.Error("removing this node's copy of a book deleted elsewhere failed", "book_id", id, "err", err)
				}
				select {
				case id = <-deleted:
				default:
					more = false
				}
			}
			if _, err := engine.PruneCopies(ctx, time.Now().Add(-sweepInterval)); err != nil && ctx.Err() == nil {
				log.Error("removing this node's copies of deleted books' runs failed", "err", err)
			}
			continue
		case <-t.C:
		}
		if n, err := shared.Prune(ctx, exists, time.Now().Add(-sweepInterval)); err != nil && ctx.Err() == nil {
			log.Error("removing this node's copies of deleted books failed", "err", err)
		} else if n > 0 {
			log.Info("removed this node's copies of books deleted elsewhere", "count", n)
		}
		if n, err := engine.PruneCopies(ctx, time.Now().Add(-sweepInterval)); err != nil && ctx.Err() == nil {
			log.Error("removing this node's copies of deleted or pruned runs' files failed", "err", err)
		} else if n > 0 {
			log.Info("removed this node's copies of runs' files deleted elsewhere", "count", n)
		}
	}
}

// bookExists reports whether a book has a row.
func bookExists(store bindery.BookStore) func(context.Context, int64) (bool, error) {
	return func(ctx context.Context, id int64) (bool, error) {
		_, err := store.BookByID(ctx, id)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND {
			return false, nil
		}
		return err == nil, err
	}
}
