// Package riverjobs is the job queue runs execute from (jobs.Queue):
// River, on SQLite (one process per data folder) or on PostgreSQL (any
// node's worker may take a run). The server builds the Opener here and
// passes it to the pipeline, which knows neither River nor a driver.
package riverjobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/bindery/bindery/internal/jobs"
)

// runJobKind names the job of a run in River's tables; it must not
// change (queued jobs of an older server carry it).
const runJobKind = "bindery.run"

// RunArgs is the River job of one run.
type RunArgs struct {
	RunID int64 `json:"run_id"`
}

// Kind implements river.JobArgs.
func (RunArgs) Kind() string { return runJobKind }

// SQLiteOptions tune the SQLite queue.
type SQLiteOptions struct {
	// FetchPollInterval is how often a running worker looks for jobs it
	// was not told about; default 10 s. Jobs this process inserts wake it
	// at once (localDriver), so this is only a backstop.
	FetchPollInterval time.Duration
	// IdleStop is how long the queue stays empty before River's client is
	// stopped, to be started again by the next job (sleeper); default 5 s.
	IdleStop time.Duration
	Logger   *slog.Logger
}

// SQLite is the queue in the SQLite database db (one connection, as
// River's SQLite driver asks). One process serves a SQLite data folder
// (its lock), so the client runs only while jobs wait or run (sleeper).
func SQLite(db *sql.DB, o SQLiteOptions) jobs.Opener {
	return func(ctx context.Context, work jobs.Work, workers int) (jobs.Queue, error) {
		if o.FetchPollInterval <= 0 {
			o.FetchPollInterval = 10 * time.Second
		}
		if o.IdleStop <= 0 {
			o.IdleStop = 5 * time.Second
		}
		log := logger(o.Logger)
		m, err := rivermigrate.New(riversqlite.New(db), nil)
		if err != nil {
			return nil, err
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return nil, fmt.Errorf("job queue migrations: %w", err)
		}
		client, err := river.NewClient[*sql.Tx](localDriver{riversqlite.New(db)}, clientConfig(work, workers, o.FetchPollInterval, log))
		if err != nil {
			return nil, err
		}
		return &sqliteQueue{db: db, sleep: &sleeper{client: client, db: db, idle: o.IdleStop, log: log}}, nil
	}
}

// localDriver is River's SQLite driver without its emulated LISTEN/NOTIFY,
// which polls a notification table every 50 ms and kept an idle server
// busy (3.6 % of a core). Without a listener River wakes its own worker
// in-process whenever this process inserts a job (a run starts within
// milliseconds), and polls only every FetchPollInterval otherwise. One
// process serves a SQLite data folder (the folder lock), so no other
// process inserts jobs that a notification would have announced.
type localDriver struct{ *riversqlite.Driver }

// SupportsListener reports false: see localDriver.
func (localDriver) SupportsListener() bool { return false }

// SupportsListenNotify reports false: see localDriver.
func (localDriver) SupportsListenNotify() bool { return false }

type sqliteQueue struct {
	db    *sql.DB
	sleep *sleeper
}

func (q *sqliteQueue) Insert(ctx context.Context, runID int64) error {
	return q.sleep.insert(ctx, RunArgs{RunID: runID})
}
func (q *sqliteQueue) Start(ctx context.Context) error { return q.sleep.start(ctx) }
func (q *sqliteQueue) Stop(ctx context.Context) error  { return q.sleep.shutdown(ctx) }

// Awake reports whether River's client runs (it sleeps while no job waits
// or runs).
func (q *sqliteQueue) Awake() bool { return q.sleep.awake() }

func (q *sqliteQueue) Unqueued(ctx context.Context, runIDs []int64) ([]int64, error) {
	var out []int64
	for _, id := range runIDs {
		var n int
		if err := q.db.QueryRowContext(ctx, `SELECT count(*) FROM river_job
			WHERE kind = ? AND finalized_at IS NULL AND json_extract(args, '$.run_id') = ?`, runJobKind, id).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			out = append(out, id)
		}
	}
	return out, nil
}

func (q *sqliteQueue) CancelUnfinished(ctx context.Context) error {
	_, err := q.db.ExecContext(ctx, `UPDATE river_job SET state = 'cancelled', finalized_at = datetime('now', 'subsec')
		WHERE kind = ? AND finalized_at IS NULL`, runJobKind)
	return err
}

// PostgresOptions tune the PostgreSQL queue.
type PostgresOptions struct {
	// FetchPollInterval is how often workers look for jobs when no
	// notification came (River's LISTEN/NOTIFY announces every insert, on
	// any node); default 1 s.
	FetchPollInterval time.Duration
	Logger            *slog.Logger
}

// Postgres is the queue in PostgreSQL (River's tables in the schema the
// pool's search_path names). Every node runs a client: any node's worker
// may take a run, and River's leader (one per database) runs its
// maintenance once per cluster.
func Postgres(pool *pgxpool.Pool, o PostgresOptions) jobs.Opener {
	return func(ctx context.Context, work jobs.Work, workers int) (jobs.Queue, error) {
		if o.FetchPollInterval <= 0 {
			o.FetchPollInterval = time.Second
		}
		log := logger(o.Logger)
		if err := migratePostgres(ctx, pool); err != nil {
			return nil, fmt.Errorf("job queue migrations: %w", err)
		}
		cfg := clientConfig(work, workers, o.FetchPollInterval, log)
		// River announces an insert to the other nodes at most once per
		// queue per FetchCooldown from one node: a second run queued
		// within it is announced to nobody and waits for a node's fetch
		// poll (1 s). At River's least, 1 ms, two POSTs can hardly fall
		// in one window (bench/cluster -gap 0: p99 785 ms at 20 ms). The
		// cost is one fetch per announced insert, which a run's build
		// dwarfs.
		cfg.FetchCooldown = river.FetchCooldownMin
		client, err := river.NewClient[pgx.Tx](riverpgxv5.New(pool), cfg)
		if err != nil {
			return nil, err
		}
		return &pgQueue{client: client, pool: pool}, nil
	}
}

// migratePostgres applies River's migrations while holding a
// session-level advisory lock of Bindery's in this schema, so that nodes
// starting together apply them once, one after the other (River's
// migrator alone does not serialise: two at once fail on a duplicate
// function). Not one transaction: River's migrations add an enum value
// and use it, which PostgreSQL allows only across transactions.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	const key = `hashtext('bindery:' || current_schema()), $1`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`, lockRiverMigrate); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`, lockRiverMigrate) //nolint:errcheck // the session ends with the pool anyway
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// lockRiverMigrate is the advisory lock key of River's migrations, beside
// the store's own keys (store/postgres: 1 to 7).
const lockRiverMigrate = 8

type pgQueue struct {
	client *river.Client[pgx.Tx]
	pool   *pgxpool.Pool
}

func (q *pgQueue) Insert(ctx context.Context, runID int64) error {
	_, err := q.client.Insert(ctx, RunArgs{RunID: runID}, nil)
	return err
}
func (q *pgQueue) Start(ctx context.Context) error { return q.client.Start(ctx) }
func (q *pgQueue) Stop(ctx context.Context) error  { return q.client.Stop(ctx) }

// CancelUnfinished cancels the unfinished run jobs of the database. It is
// right only while one server uses the database (postgres.DB.LockServe
// guarantees it today): every unfinished job is then a previous
// incarnation's. Several nodes will instead hand over the runs of a dead
// node by their leases.
func (q *pgQueue) Unqueued(ctx context.Context, runIDs []int64) ([]int64, error) {
	rows, err := q.pool.Query(ctx, `SELECT r.run_id FROM unnest($1::bigint[]) AS r (run_id) WHERE NOT EXISTS (
		SELECT 1 FROM river_job j WHERE j.kind = $2 AND j.finalized_at IS NULL AND (j.args->>'run_id')::bigint = r.run_id)
		ORDER BY r.run_id`, runIDs, runJobKind)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func (q *pgQueue) CancelUnfinished(ctx context.Context) error {
	_, err := q.pool.Exec(ctx, `UPDATE river_job SET state = 'cancelled', finalized_at = now()
		WHERE kind = $1 AND finalized_at IS NULL`, runJobKind)
	return err
}

// runWorker is River's worker of run jobs.
type runWorker struct {
	river.WorkerDefaults[RunArgs]
	work jobs.Work
}

func (w *runWorker) Work(ctx context.Context, job *river.Job[RunArgs]) error {
	err := w.work(ctx, job.Args.RunID)
	if jobs.IsCancel(err) {
		return river.JobCancel(err)
	}
	return err
}

func clientConfig(work jobs.Work, workers int, poll time.Duration, log *slog.Logger) *river.Config {
	if workers <= 0 {
		workers = 2
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, &runWorker{work: work})
	return &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: workers}},
		Workers:           ws,
		FetchPollInterval: poll,
		FetchCooldown:     20 * time.Millisecond,
		JobTimeout:        -1, // runs end by themselves; pause/stop cancel them
		MaxAttempts:       1,  // a failed run is reported, not silently retried
		Logger:            log.With("component", "river"),
	}
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
