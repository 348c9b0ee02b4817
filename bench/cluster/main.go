// Command cluster measures Bindery on several nodes (issue 16): real
// `bindery serve` processes on loopback sharing one PostgreSQL and one
// S3-compatible store (versitygw), as deployed.
//
//	bench/cluster.sh [flags]     # starts PostgreSQL and versitygw, then this
//	go run ./bench/cluster [-bindery PATH] [-nodes 3] [-samples 100] [-gap 100ms]
//	    [-clients 1000] [-rounds 2] [-runs 5] [-cpu-runs 5] [-idle 5s]
//	    [-only latency,fanout,cpu] [-csv FILE] [-db-params pool_max_conns=16]
//
// It needs $BINDERY_TEST_POSTGRES_URL (scripts/postgres.sh start) and,
// for the three nodes, $BINDERY_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY and
// _SECRET_KEY (scripts/versitygw.sh start); with
// $BINDERY_TEST_POSTGRES_DIR it also reads PostgreSQL's own CPU time, and
// with pg_stat_statements loaded (bench/cluster.sh loads it) it counts
// statements. It makes the databases bindery_cluster and bindery_cpu on
// that server (dropped first if they exist).
//
// # What is measured
//
// Three nodes A, B and C (-nodes: 1 to 8; the last is "C"), one admin
// account and its API token, a book of one short chapter imported through
// A; runs build it as epub (-formats).
//
//   - Start latency: from just before POST /books/{id}/runs is sent to A
//     until a dashboard socket on C has read that run's run_started (the
//     event a worker emits when it takes the run; whichever node's worker
//     does). One run at a time, -gap between the end of one and the next,
//     -samples of them, after two unmeasured (startLatency says why the
//     gap matters).
//   - Fan-out: -clients dashboard sockets (DASHBOARD_TOKEN), either spread
//     over A, B and C (client i on node i mod 3) or all on A; -runs runs
//     per round started on A, one at a time, each waiting until every
//     client has every event. An event's latency at a client is the time
//     the client read it minus the event's own timestamp, set by the node
//     that stored it (one clock: one machine). Per event: p50, p99 and
//     max over the clients (max: when the last client had it); the table
//     gives the median of those over all events, and the range. Rows
//     "run_queued" are the events stored by A itself in the POST handler;
//     the others come from whichever node executes the run. The layouts
//     alternate round by round (-rounds of each).
//   - CPU and statements per run, on ONE node (the others stopped): a
//     node on SQLite and a node on PostgreSQL (no S3: book files in its
//     data folder), each with Frankenstein imported (-book), one
//     unmeasured run each, then -cpu-runs runs of each, alternating, with
//     the default formats (epub,html,pdf). Per run: the node's user +
//     system CPU time (and its waited-for children's) from /proc/PID/stat;
//     PostgreSQL's (postmaster and its live backends); wall time; and the
//     statements pg_stat_statements counted in that database (every
//     top-level statement, BEGIN/COMMIT/NOTIFY included, from every
//     connection: background work during the run counts too — the idle
//     rate, measured first over -idle, says how much that is).
//
// Everything — three nodes, PostgreSQL, versitygw, the clients — shares
// this machine's cores: on 2 cores the figures measure contention, not
// what more machines would give. Linux only (/proc, epoll).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

type options struct {
	bin              string
	nodes            int
	gap              time.Duration
	samples          int
	clients          int
	rounds           int
	runs             int
	cpuRuns          int
	idle             time.Duration
	formats, cpuFmts []string
	book             string
	only             map[string]bool // empty: everything
	dbParams         string          // added to the nodes' database URL
	csv              string          // file for the start latency samples
}

// wants reports whether part (latency, fanout or cpu) is to be measured.
func (o options) wants(part string) bool { return len(o.only) == 0 || o.only[part] }

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.bin, "bindery", "", "the bindery binary (default: built into a temporary folder)")
	fs.IntVar(&o.nodes, "nodes", 3, "nodes sharing the database and storage (1–8); the last one is \"C\"")
	fs.DurationVar(&o.gap, "gap", 100*time.Millisecond, "pause between the end of one timed run and the next POST (see startLatency)")
	fs.IntVar(&o.samples, "samples", 100, "runs timed from POST on A to run_started on C")
	fs.IntVar(&o.clients, "clients", 1000, "WebSocket clients in the fan-out")
	fs.IntVar(&o.rounds, "rounds", 2, "fan-out rounds of each layout, alternating")
	fs.IntVar(&o.runs, "runs", 5, "runs per fan-out round")
	fs.IntVar(&o.cpuRuns, "cpu-runs", 5, "measured runs per backend for CPU and statements")
	fs.DurationVar(&o.idle, "idle", 5*time.Second, "idle window before the CPU runs (background rates)")
	formats := fs.String("formats", "epub", "formats of the latency and fan-out runs")
	cpuFormats := fs.String("cpu-formats", "epub,html,pdf", "formats of the CPU runs (the default formats)")
	fs.StringVar(&o.book, "book", "", "the book of the CPU runs (default $BINDERY_CORPUS, else ../shared/corpus/frankenstein)")
	only := fs.String("only", "", "comma-separated parts to measure: latency, fanout, cpu (default all)")
	fs.StringVar(&o.dbParams, "db-params", "", "query parameters added to the nodes' BINDERY_DATABASE_URL, e.g. pool_max_conns=16")
	fs.StringVar(&o.csv, "csv", "", "write the start latency samples to this file (run, seconds since the first, ms)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.formats, o.cpuFmts = strings.Split(*formats, ","), strings.Split(*cpuFormats, ",")
	if o.nodes < 1 || o.nodes > 8 {
		return fmt.Errorf("-nodes %d: want 1 to 8", o.nodes)
	}
	o.only = map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		switch p {
		case "latency", "fanout", "cpu":
			o.only[p] = true
		case "":
		default:
			return fmt.Errorf("-only %q: want latency, fanout or cpu", p)
		}
	}
	if o.book == "" {
		o.book = getenv("BINDERY_CORPUS")
	}
	if o.book == "" {
		o.book = filepath.Join("..", "shared", "corpus", "frankenstein")
	}
	pgURL := getenv("BINDERY_TEST_POSTGRES_URL")
	if pgURL == "" {
		return errors.New("$BINDERY_TEST_POSTGRES_URL is unset: eval \"$(scripts/postgres.sh start)\" first, or use bench/cluster.sh")
	}
	tmp, err := os.MkdirTemp("", "bindery-cluster-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.bin == "" {
		o.bin = filepath.Join(tmp, "bindery")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", o.bin, "./cmd/bindery")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stderr = stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building bindery: %w", err)
		}
	}
	admin, err := connectDB(ctx, pgURL, "postgres")
	if err != nil {
		return err
	}
	defer admin.Close(context.WithoutCancel(ctx))
	fmt.Fprintf(stdout, "load average before: %s", loadavg())

	if o.wants("latency") || o.wants("fanout") {
		s3 := map[string]string{}
		for _, k := range []string{"ENDPOINT", "BUCKET", "ACCESS_KEY", "SECRET_KEY"} {
			v := getenv("BINDERY_TEST_S3_" + k)
			if v == "" {
				return fmt.Errorf("$BINDERY_TEST_S3_%s is unset: eval \"$(scripts/versitygw.sh start)\" first, or use bench/cluster.sh", k)
			}
			s3["BINDERY_S3_"+k] = v
		}
		u, err := freshDB(ctx, admin, pgURL, "bindery_cluster")
		if err != nil {
			return err
		}
		if o.dbParams != "" {
			u += "&" + o.dbParams
		}
		s3["BINDERY_DATABASE_URL"] = u
		if err := clusterPhase(ctx, o, filepath.Join(tmp, "cluster"), s3, stdout, stderr); err != nil {
			return err
		}
	}
	if o.wants("cpu") {
		u, err := freshDB(ctx, admin, pgURL, "bindery_cpu")
		if err != nil {
			return err
		}
		var st *statements
		if _, err := admin.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err == nil {
			st = &statements{conn: admin, db: "bindery_cpu"}
			if _, err := st.read(ctx); err != nil {
				fmt.Fprintf(stderr, "statements not counted (pg_stat_statements is not loaded: bench/cluster.sh loads it): %v\n", err)
				st = nil
			}
		}
		pgPid := 0
		if dir := getenv("BINDERY_TEST_POSTGRES_DIR"); dir != "" {
			pgPid = postmaster(dir)
		}
		if err := cpuPhase(ctx, o, filepath.Join(tmp, "cpu"), u, pgPid, st, stdout, stderr); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nload average after: %s", loadavg())
	return nil
}

// clusterPhase starts three nodes and measures start latency and fan-out.
func clusterPhase(ctx context.Context, o options, tmp string, env map[string]string, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return err
	}
	d, err := newDeployment(ctx, o.bin, tmp, env)
	if err != nil {
		return err
	}
	var nodes []*node
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for _, name := range []string{"A", "B", "C", "D", "E", "F", "G", "H"}[:o.nodes] {
		n, err := d.start(ctx, name)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	a, c := nodes[0], nodes[len(nodes)-1] // c is a with -nodes 1
	api, err := client.New(a.base, d.token)
	if err != nil {
		return err
	}
	book, err := importBook(ctx, api, tmp, "")
	if err != nil {
		return err
	}

	if o.wants("latency") {
		if err := latencyPart(ctx, o, api, c, d.dashboard, book, stdout, stderr); err != nil {
			return err
		}
	}
	if !o.wants("fanout") {
		return nil
	}
	fmt.Fprintf(stderr, "fan-out: %d clients, %d rounds × %d runs per layout\n", o.clients, o.rounds, o.runs)
	wa, err := watch(ctx, a, d.dashboard)
	if err != nil {
		return err
	}
	defer wa.close()
	layouts := []struct {
		label string
		nodes []*node
	}{{fmt.Sprintf("spread over %d nodes", len(nodes)), nodes}, {"all on A", nodes[:1]}}
	results := make([][][]fanoutEvent, len(layouts))
	disorder := make([]int64, len(layouts))
	for r := range o.rounds {
		for k := range layouts {
			k := (k + r) % len(layouts) // alternate the order round by round
			evs, dis, err := fanoutRound(ctx, layouts[k].nodes, d.dashboard, o.clients, api, wa, book, o.formats, o.runs)
			if err != nil {
				return fmt.Errorf("fan-out %s: %w", layouts[k].label, err)
			}
			results[k] = append(results[k], evs)
			disorder[k] += dis
			s := summarise([][]fanoutEvent{evs}, dis)
			fmt.Fprintf(stderr, "  round %d %s: %d events, median p99 %s, median max %s, missing %d; load %s", r+1, layouts[k].label,
				s.events, ms(median(s.p99)), ms(median(s.max)), s.missing, loadavg())
		}
	}

	fmt.Fprintf(stdout, "\nFan-out to %d dashboard sockets, %d rounds × %d runs per layout; per event p50/p99/max over the clients, median over the events (range over the events):\n\n", o.clients, o.rounds, o.runs)
	fmt.Fprintln(stdout, "| layout, events | p50 | p99 | max (last client) | missing | disorder |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|")
	sums := make([]fanoutSummary, len(layouts))
	for k, l := range layouts {
		sums[k] = summarise(results[k], disorder[k])
		sums[k].print(stdout, l.label)
	}
	if m := median(sums[1].max); m > 0 {
		fmt.Fprintf(stdout, "\nRatio spread / one node, median of the per-event max: %.2f; of p99: %.2f\n",
			float64(median(sums[0].max))/float64(m), float64(median(sums[0].p99))/float64(median(sums[1].p99)))
	}
	return nil
}

// latencyPart measures start latency: POST on A (api), run_started on c.
func latencyPart(ctx context.Context, o options, api *client.Client, c *node, dashboard string, book int64, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "start latency: %d runs, POST on A, run_started read on %s\n", o.samples, c.name)
	wc, err := watch(ctx, c, dashboard)
	if err != nil {
		return err
	}
	defer wc.close()
	if _, _, err := startLatency(ctx, api, wc, book, o.formats, 2, o.gap, io.Discard); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	samples, ends, err := startLatency(ctx, api, wc, book, o.formats, o.samples, o.gap, stderr)
	if err != nil {
		return err
	}
	lat := make([]time.Duration, len(samples))
	for i, s := range samples {
		lat[i] = s.lat
	}

	if o.csv != "" {
		if err := writeCSV(o.csv, samples); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nStart latency, POST /runs on node A → run_started read on node %s, %d runs (one at a time, %s apart; ended: %v):\n\n", c.name, len(lat), o.gap, ends)
	fmt.Fprintln(stdout, "| p50 | p90 | p99 | max | min |")
	fmt.Fprintln(stdout, "|---:|---:|---:|---:|---:|")
	fmt.Fprintf(stdout, "| %s | %s | %s | %s | %s |\n", ms(quantile(lat, 0.5)), ms(quantile(lat, 0.9)), ms(quantile(lat, 0.99)), ms(quantile(lat, 1)), ms(quantile(lat, 0)))

	return nil
}

// cpuPhase measures CPU and statements per run on one SQLite node and one
// PostgreSQL node, alternating runs.
func cpuPhase(ctx context.Context, o options, tmp, pgURL string, pgPid int, st *statements, stdout, stderr io.Writer) error {
	type backend struct {
		res  cpuResult
		n    *node
		api  *client.Client
		w    *watcher
		book int64
	}
	var bs []*backend
	defer func() {
		for _, b := range bs {
			if b.w != nil {
				b.w.close()
			}
			b.n.stop()
		}
	}()
	for _, spec := range []struct{ name, url string }{{"SQLite", ""}, {"PostgreSQL", pgURL}} {
		env := map[string]string{}
		if spec.url != "" {
			env["BINDERY_DATABASE_URL"] = spec.url
		}
		dir := filepath.Join(tmp, spec.name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		d, err := newDeployment(ctx, o.bin, dir, env)
		if err != nil {
			return err
		}
		n, err := d.start(ctx, "node")
		if err != nil {
			return err
		}
		b := &backend{res: cpuResult{backend: spec.name}, n: n}
		bs = append(bs, b)
		if b.api, err = client.New(n.base, d.token); err != nil {
			return err
		}
		if b.book, err = importBook(ctx, b.api, dir, o.book); err != nil {
			return err
		}
		if b.w, err = watch(ctx, n, d.dashboard); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "CPU per run: %s with %s, one unmeasured run each, then %d each, alternating\n", o.book, strings.Join(o.cpuFmts, ","), o.cpuRuns)
	for _, b := range bs {
		warm := cpuResult{backend: b.res.backend + " (warm-up)"}
		if err := cpuRuns(ctx, b.n, b.api, b.w, b.book, o.cpuFmts, 1, 0, 0, nil, &warm, stderr); err != nil {
			return err
		}
	}
	// One idle window each, then the runs alternate one by one.
	parts := make([]cpuResult, len(bs))
	for i, b := range bs {
		pid, stm := 0, (*statements)(nil)
		if b.res.backend == "PostgreSQL" {
			pid, stm = pgPid, st
		}
		parts[i] = cpuResult{backend: b.res.backend}
		if err := cpuRuns(ctx, b.n, b.api, b.w, b.book, o.cpuFmts, 0, o.idle, pid, stm, &parts[i], stderr); err != nil {
			return err
		}
		b.res.idleCPU, b.res.idleQueries = parts[i].idleCPU, parts[i].idleQueries
		b.res.top, b.res.ends = map[string]int64{}, map[string]int{}
	}
	for range o.cpuRuns {
		for _, b := range bs {
			pid, stm := 0, (*statements)(nil)
			if b.res.backend == "PostgreSQL" {
				pid, stm = pgPid, st
			}
			one := cpuResult{backend: b.res.backend}
			if err := cpuRuns(ctx, b.n, b.api, b.w, b.book, o.cpuFmts, 1, 0, pid, stm, &one, stderr); err != nil {
				return err
			}
			b.res.server = append(b.res.server, one.server...)
			b.res.database = append(b.res.database, one.database...)
			b.res.wall = append(b.res.wall, one.wall...)
			b.res.queries = append(b.res.queries, one.queries...)
			for q, n := range one.top {
				b.res.top[q] += n
			}
			for e, n := range one.ends {
				b.res.ends[e] += n
			}
			b.res.measuredRuns++
		}
	}
	fmt.Fprintf(stdout, "\nPer run of %s (%s) on one node, median of %d (min–max):\n\n", filepath.Base(o.book), strings.Join(o.cpuFmts, ","), o.cpuRuns)
	fmt.Fprintln(stdout, "| backend | node CPU | PostgreSQL CPU | wall | statements | node CPU | ended |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|---|")
	for _, b := range bs {
		b.res.print(stdout)
	}
	if s, p := median(bs[0].res.server), median(bs[1].res.server); s > 0 {
		fmt.Fprintf(stdout, "\nRatio PostgreSQL / SQLite, node CPU per run: %.2f; node + PostgreSQL CPU per run: %.2f\n",
			float64(p)/float64(s), float64(p+median(bs[1].res.database))/float64(s))
	}
	bs[1].res.printTop(stdout, 8)
	return nil
}

// importBook imports the book folder dir (a tiny generated book when
// dir is "") through api and returns its id.
func importBook(ctx context.Context, api *client.Client, tmp, dir string) (int64, error) {
	if dir == "" {
		var err error
		if dir, err = tinyBook(tmp); err != nil {
			return 0, err
		}
	}
	z, err := zipBook(dir)
	if err != nil {
		return 0, err
	}
	id, _, err := api.Import(ctx, strings.NewReader(string(z)))
	if err != nil {
		return 0, fmt.Errorf("importing %s: %w", dir, err)
	}
	return id, nil
}

// connectDB connects to database name on the server of rawURL.
func connectDB(ctx context.Context, rawURL, name string) (*pgx.Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	return pgx.Connect(ctx, u.String())
}

// freshDB drops and creates database name and returns its URL.
func freshDB(ctx context.Context, admin *pgx.Conn, rawURL, name string) (string, error) {
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// postmaster returns the pid of the PostgreSQL server of scripts/postgres.sh's
// folder dir (0 when unknown).
func postmaster(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	return pid
}

// writeCSV writes the latency samples, one a line: index, seconds since
// the first sample started, latency in ms.
func writeCSV(name string, lat []sample) error {
	var b strings.Builder
	b.WriteString("run,at_s,latency_ms\n")
	for i, s := range lat {
		fmt.Fprintf(&b, "%d,%.3f,%.2f\n", i+1, s.at.Sub(lat[0].at).Seconds(), float64(s.lat)/float64(time.Millisecond))
	}
	return os.WriteFile(name, []byte(b.String()), 0o600)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?\n"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?\n"
	}
	return strings.Join(f[:3], " ") + "\n"
}
