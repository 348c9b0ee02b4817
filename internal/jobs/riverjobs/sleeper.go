package riverjobs

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
)

// sleeper runs River's client only while there is work, so that an idle
// server sits still (issue 13: at most 0.3 % of a core). A running River
// client wakes up some forty times a second whatever the load — its job
// completer ticks every 50 ms, its producer polls queue settings and
// cancellations every 2 s and reports every few seconds, and none of it
// can be configured away — which cost an idle server 0.33–0.43 % of a
// core on its own.
//
// So the client starts when a job is inserted (Insert starts it after
// writing the job; starting fetches at once, so a queued run still
// starts within milliseconds) or when Start finds unfinished jobs, and a
// watcher, running only while the client does, stops it once no job has
// been unfinished for a whole idle period. One process serves a SQLite
// data folder (its lock), so jobs only appear through this process's
// Insert and the watcher cannot miss one: Insert and the decision to
// sleep hold the same lock.
type sleeper struct {
	client *river.Client[*sql.Tx]
	db     *sql.DB       // the jobs table
	idle   time.Duration // how long the queue stays empty before the client stops
	log    *slog.Logger

	mu      sync.Mutex
	base    context.Context // Start's: the client runs under it; nil before Start
	running bool
	stopW   chan struct{} // closed to end the watcher of the running client
	closed  bool          // after shutdown, nothing starts the client again
}

// start records ctx, under which the client will run, and starts the
// client when jobs are waiting (runs recovered after a restart).
func (s *sleeper) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.base = ctx
	n, err := s.unfinished(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return s.wakeLocked()
	}
	return nil
}

// insert adds the job of a run, and starts the client if it sleeps.
// Before Start (recovery) it only inserts; Start then wakes the client.
func (s *sleeper) insert(ctx context.Context, args RunArgs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.client.Insert(ctx, args, nil); err != nil {
		return err
	}
	if s.running || s.base == nil || s.closed {
		return nil // a running client was woken in-process by Insert
	}
	return s.wakeLocked()
}

func (s *sleeper) wakeLocked() error {
	if err := s.client.Start(s.base); err != nil {
		return err
	}
	s.running = true
	s.stopW = make(chan struct{})
	go s.watch(s.stopW)
	return nil
}

// watch stops the client once the queue has been empty for a whole idle
// period: at two consecutive looks.
func (s *sleeper) watch(done chan struct{}) {
	t := time.NewTicker(s.idle)
	defer t.Stop()
	emptyBefore := false
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		empty, slept := s.sleepIf(emptyBefore)
		if slept {
			return
		}
		emptyBefore = empty
	}
}

// sleepIf looks at the queue; when it is empty and was at the last look
// (emptyBefore), it stops the client.
func (s *sleeper) sleepIf(emptyBefore bool) (empty, slept bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running || s.closed {
		return true, true
	}
	n, err := s.unfinished(s.base)
	if err != nil {
		s.log.Warn("job queue: cannot count waiting jobs", "err", err)
		return false, false
	}
	if n > 0 || !emptyBefore {
		return n == 0, false
	}
	// Nothing is running or waiting: Stop returns once River's services
	// have wound down (milliseconds).
	if err := s.client.Stop(s.base); err != nil {
		s.log.Warn("job queue: stopping the idle worker failed", "err", err)
		return true, false
	}
	s.running = false
	close(s.stopW)
	return true, true
}

// unfinished counts the jobs not yet finalized: waiting, running, or
// finished but not yet recorded by River's completer.
func (s *sleeper) unfinished(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE finalized_at IS NULL`).Scan(&n)
	return n, err
}

// awake reports whether the client runs (for tests).
func (s *sleeper) awake() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// shutdown stops the client if it runs (running stages see their context
// cancelled, see Engine.Shutdown), and keeps it stopped.
func (s *sleeper) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	running := s.running
	if running {
		s.running = false
		close(s.stopW)
	}
	s.mu.Unlock()
	if !running {
		return nil
	}
	return s.client.Stop(ctx)
}
