package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bindery/bindery/internal/client"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports (getconf CLK_TCK).
const clockTicks = 100

// cpuTime returns the user + system CPU time of process pid and of its
// children it has waited for (fields 14–17 of /proc/PID/stat, counted
// after the command name, which may hold spaces and parentheses).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return statCPU(string(b))
}

// statCPU parses a /proc/PID/stat line: utime + stime + cutime + cstime.
func statCPU(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("malformed stat line")
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state): utime is field 14, i.e. f[11].
	if len(f) < 15 {
		return 0, errors.New("short stat line")
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parentOf returns the parent pid of process pid (field 4).
func parentOf(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if i < 0 || len(f) < 2 {
		return 0, errors.New("malformed stat line")
	}
	return strconv.Atoi(f[1])
}

// treeCPU returns the CPU time of process root and of its children alive
// now (PostgreSQL's postmaster and its backends: a backend's time is lost
// from this sum when it exits, which the pool's connections do not do
// during a measurement).
func treeCPU(root int) (time.Duration, error) {
	total, err := cpuTime(root)
	if err != nil {
		return 0, err
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil || pid == root {
			continue
		}
		if pp, err := parentOf(pid); err == nil && pp == root {
			if t, err := cpuTime(pid); err == nil {
				total += t
			}
		}
	}
	return total, nil
}

// statements reads pg_stat_statements for one database: calls by query
// text. pg_stat_statements counts every statement a backend executes at
// top level — BEGIN and COMMIT, LISTEN and NOTIFY included — once per
// execution, whatever protocol; it misses nothing that reaches the server.
type statements struct {
	conn *pgx.Conn // to another database, so its own queries do not count
	db   string
}

func (s *statements) read(ctx context.Context) (map[string]int64, error) {
	rows, err := s.conn.Query(ctx, `SELECT query, sum(calls)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) GROUP BY query`, s.db)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for rows.Next() {
		var q string
		var n int64
		if err := rows.Scan(&q, &n); err != nil {
			return nil, err
		}
		out[q] = n
	}
	return out, rows.Err()
}

func total(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// cpuResult is one backend's figures over its runs.
type cpuResult struct {
	backend      string
	server       []time.Duration // the node's CPU per run
	database     []time.Duration // PostgreSQL's processes' CPU per run
	wall         []time.Duration
	queries      []float64        // statements per run, as counted
	idleCPU      time.Duration    // the node's CPU per second, idle
	idleQueries  float64          // statements per second, idle
	top          map[string]int64 // statements over all runs, by text
	ends         map[string]int
	measuredRuns int
}

// cpuRuns builds book runs times on one node (n, reached through api and
// watched by w) and measures each run: the node's CPU, and with pgPid and
// st the database's CPU and statements. Before the runs, an idle window
// of idle gives the background rates.
func cpuRuns(ctx context.Context, n *node, api *client.Client, w *watcher, book int64, formats []string, runs int, idle time.Duration, pgPid int, st *statements, res *cpuResult, log io.Writer) error {
	res.ends = map[string]int{}
	res.top = map[string]int64{}
	type snap struct {
		at         time.Time
		server, db time.Duration
		stmts      map[string]int64
	}
	take := func() (snap, error) {
		s := snap{at: time.Now()}
		var err error
		if s.server, err = cpuTime(n.pid()); err != nil {
			return s, err
		}
		if pgPid > 0 {
			if s.db, err = treeCPU(pgPid); err != nil {
				return s, err
			}
		}
		if st != nil {
			if s.stmts, err = st.read(ctx); err != nil {
				return s, err
			}
		}
		return s, nil
	}
	if idle > 0 {
		a, err := take()
		if err != nil {
			return err
		}
		select {
		case <-time.After(idle):
		case <-ctx.Done():
			return ctx.Err()
		}
		b, err := take()
		if err != nil {
			return err
		}
		secs := b.at.Sub(a.at).Seconds()
		res.idleCPU = time.Duration(float64(b.server-a.server) / secs)
		res.idleQueries = float64(total(b.stmts)-total(a.stmts)) / secs
	}
	for i := range runs {
		before, err := take()
		if err != nil {
			return err
		}
		run, err := api.StartRun(ctx, book, formats, false)
		if err != nil {
			return err
		}
		end, err := w.until(ctx, run.ID, "", 10*time.Minute, nil)
		if err != nil {
			return err
		}
		after, err := take()
		if err != nil {
			return err
		}
		res.ends[end.Type]++
		res.server = append(res.server, after.server-before.server)
		res.wall = append(res.wall, after.at.Sub(before.at))
		if pgPid > 0 {
			res.database = append(res.database, after.db-before.db)
		}
		if st != nil {
			res.queries = append(res.queries, float64(total(after.stmts)-total(before.stmts)))
			for q, c := range after.stmts {
				res.top[q] += c - before.stmts[q]
			}
		}
		fmt.Fprintf(log, "  %s run %d: %s, CPU %s in %s\n", res.backend, i+1, end.Type, ms(res.server[i]), ms(res.wall[i]))
	}
	res.measuredRuns = runs
	return nil
}

func (r cpuResult) print(w io.Writer) {
	sec := func(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
	secn := func(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }
	db, q := "–", "–"
	if len(r.database) > 0 {
		db = sec(median(r.database)) + " (" + spread(r.database, secn) + ")"
	}
	if len(r.queries) > 0 {
		q = fmt.Sprintf("%.0f (%s); idle %.1f/s", median(r.queries), spread(r.queries, func(f float64) string { return fmt.Sprintf("%.0f", f) }), r.idleQueries)
	}
	fmt.Fprintf(w, "| %s | %s (%s) | %s | %s (%s) | %s | %s idle/s | %v |\n", r.backend,
		sec(median(r.server)), spread(r.server, secn), db, sec(median(r.wall)), spread(r.wall, secn), q, ms(r.idleCPU), r.ends)
}

// printTop lists the statements that ran most per run.
func (r cpuResult) printTop(w io.Writer, k int) {
	if len(r.top) == 0 || r.measuredRuns == 0 {
		return
	}
	type qc struct {
		q string
		n int64
	}
	var all []qc
	for q, n := range r.top {
		if n > 0 {
			all = append(all, qc{q, n})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	fmt.Fprintf(w, "\nStatements per run on PostgreSQL, the %d most frequent (mean over %d runs):\n", k, r.measuredRuns)
	for _, e := range all[:min(k, len(all))] {
		q := strings.Join(strings.Fields(e.q), " ")
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Fprintf(w, "  %7.1f  %s\n", float64(e.n)/float64(r.measuredRuns), q)
	}
}
