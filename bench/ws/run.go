package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
)

// result is one run of one server.
type result struct {
	server    string
	n, round  int
	sent      int   // events published
	delivered int64 // event messages the clients read
	disorder  int64 // of which duplicates or out of order
	p50, p99  time.Duration
	max       time.Duration
	idle      float64 // server bytes per idle connection: Go heap and stacks
	idleRSS   float64 // the same by resident set size, GC's leftovers included
	load      string  // load average when the run ended, the bench's own processes included

	// CPU time used while publishing and draining (Linux only).
	serverCPU, clientCPU time.Duration
}

func (r result) expected() int64 { return int64(r.sent) * int64(r.n) }

func (r result) line() string {
	perDelivery := func(d time.Duration) float64 {
		return float64(d) / float64(time.Microsecond) / float64(max(r.delivered, 1))
	}
	round := "round " + strconv.Itoa(r.round)
	if r.round == 0 {
		round = "warm-up"
	}
	return fmt.Sprintf("%s  %-10s n=%-5d sent %d  delivered %d/%d  disorder %d  p50 %v  p99 %v  max %v  idle %.1f KiB/conn (RSS %.1f)  "+
		"CPU µs/delivery: server %.1f, clients %.1f  load %s",
		round, r.server, r.n, r.sent, r.delivered, r.expected(), r.disorder,
		ms(r.p50), ms(r.p99), ms(r.max), r.idle/1024, r.idleRSS/1024, perDelivery(r.serverCPU), perDelivery(r.clientCPU), r.load)
}

// clientReport is what the client process prints when it is done.
type clientReport struct {
	Delivered int64 `json:"delivered"`
	Disorder  int64 `json:"disorder"`
	P50       int64 `json:"p50_ns"`
	P99       int64 `json:"p99_ns"`
	Max       int64 `json:"max_ns"`
}

// runOnce starts the server, connects n clients, measures the idle
// memory, publishes, and collects the clients' report.
func runOnce(ctx context.Context, self, name string, n, round int, o options, stderr io.Writer) (result, error) {
	res := result{server: name, n: n, round: round}
	var srv *server
	var err error
	switch name {
	case serverBindery:
		srv, err = startBindery(ctx, self, stderr)
	case serverCentrifugo:
		srv, err = startCentrifugo(ctx, o.centrifugo, stderr)
	}
	if err != nil {
		return res, err
	}
	defer srv.stop()
	before, err := srv.memory(ctx)
	if err != nil {
		return res, err
	}
	rssBefore := processRSS(srv.cmd.Process.Pid)

	tag := fmt.Sprintf("-%s-n%d-r%d.prof", strings.ToLower(name), n, round)
	args := []string{"-client", name, "-url", srv.ws, "-n", strconv.Itoa(n), "-drain", o.drain.String()}
	if o.cpuprofile != "" {
		args = append(args, "-cpuprofile", o.cpuprofile+"-clients"+tag)
	}
	cmd, in, out, err := startChild(ctx, self, []string{tokenEnv + "=" + srv.token}, stderr, args...)
	if err != nil {
		return res, err
	}
	defer cmd.Wait()
	defer in.Close()
	if !out.Scan() || out.Text() != "ready" {
		return res, fmt.Errorf("the clients did not connect: %q", out.Text())
	}
	after, err := srv.memory(ctx)
	if err != nil {
		return res, err
	}
	res.idle = (float64(after) - float64(before)) / float64(n)
	res.idleRSS = (float64(processRSS(srv.cmd.Process.Pid)) - float64(rssBefore)) / float64(n)
	if o.memprofile != "" {
		if err := srv.saveProfile(ctx, "/debug/pprof/heap", o.memprofile+tag); err != nil {
			return res, err
		}
	}
	profiled := make(chan error, 1)
	if o.cpuprofile != "" {
		secs := strconv.Itoa(int((o.duration + time.Second).Seconds()))
		go func() { profiled <- srv.saveProfile(ctx, "/debug/pprof/profile?seconds="+secs, o.cpuprofile+tag) }()
	} else {
		profiled <- nil
	}

	serverCPU, clientCPU := processCPU(srv.cmd.Process.Pid), processCPU(cmd.Process.Pid)
	if res.sent, err = publishAll(ctx, srv, o.rate, o.duration); err != nil {
		return res, err
	}
	fmt.Fprintln(in, res.sent)
	if !out.Scan() {
		return res, errors.New("the clients did not report")
	}
	res.serverCPU = processCPU(srv.cmd.Process.Pid) - serverCPU
	res.clientCPU = processCPU(cmd.Process.Pid) - clientCPU
	var rep clientReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return res, fmt.Errorf("client report %q: %w", out.Text(), err)
	}
	res.delivered, res.disorder = rep.Delivered, rep.Disorder
	res.p50, res.p99, res.max = time.Duration(rep.P50), time.Duration(rep.P99), time.Duration(rep.Max)
	res.load = loadAverage()
	return res, <-profiled
}

// publishAll publishes rate events per second for d, on a fixed schedule
// (event i is due at start + i/rate; a late one goes out at once, so a
// slow publish API does not lower the count). Each event's timestamp is
// the moment its publish request starts.
func publishAll(ctx context.Context, srv *server, rate int, d time.Duration) (int, error) {
	total := int(d.Seconds() * float64(rate))
	period := time.Second / time.Duration(rate)
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for i := range total {
		if wait := time.Until(start.Add(time.Duration(i) * period)); wait > 0 {
			t.Reset(wait)
			select {
			case <-ctx.Done():
				return i, ctx.Err()
			case <-t.C:
			}
		}
		if err := srv.publish(ctx, eventJSON(int64(i+1), time.Now())); err != nil {
			return i, err
		}
	}
	return total, nil
}

// eventJSON is the event both servers carry: a Bindery stage_progress
// event as Hub.Publish encodes it.
func eventJSON(id int64, ts time.Time) []byte {
	p := int(id % 100)
	b, _ := json.Marshal(&bindery.Event{ID: id, Type: bindery.EventStageProgress, Timestamp: ts.UTC(),
		RunID: 1, BookID: 1, Stage: bindery.StageFormat, Progress: &p,
		Message: "rendering chapter " + strconv.FormatInt(id, 10)})
	return b
}

func numCPU() int { return runtime.NumCPU() }

// processCPU is the user plus system time a process has used so far,
// from /proc (0 elsewhere). The kernel counts in ticks of 1/100 s.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(b), ") ") // after the command name
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// processRSS is a process's resident set size in bytes, from /proc (0
// elsewhere).
func processRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// ms formats a duration in milliseconds with three significant digits.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

// printSummary prints, per n, a Markdown table of each server's medians
// over the rounds (with min–max) and the ratios Bindery/Centrifugo.
func printSummary(w io.Writer, results []result, o options) {
	for _, n := range o.ns {
		by := map[string][]result{}
		var names []string
		for _, r := range results {
			if r.n != n {
				continue
			}
			if by[r.server] == nil {
				names = append(names, r.server)
			}
			by[r.server] = append(by[r.server], r)
		}
		slices.Sort(names) // Bindery first
		fmt.Fprintf(w, "%s clients, %d events/s for %v, median of %d round(s) (min–max):\n\n",
			thousands(int64(n)), o.rate, o.duration, o.rounds)
		fmt.Fprintln(w, "| server | clients | events sent | delivered | p50 | p99 | max | memory per idle connection |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
		for _, name := range names {
			rs := by[name]
			var delivered, expected int64
			for _, r := range rs {
				delivered += r.delivered
				expected += r.expected()
			}
			dl := thousands(delivered) + " / " + thousands(expected)
			if delivered == expected {
				dl = "all " + thousands(expected)
			}
			if dis := sum(rs, func(r result) int64 { return r.disorder }); dis > 0 {
				dl += fmt.Sprintf(" (%d duplicated or out of order)", dis)
			}
			sent := median(rs, func(r result) float64 { return float64(r.sent) })
			fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %s | %s | %s |\n", name, thousands(int64(n)), sent, dl,
				durationCell(rs, func(r result) time.Duration { return r.p50 }),
				durationCell(rs, func(r result) time.Duration { return r.p99 }),
				durationCell(rs, func(r result) time.Duration { return r.max }),
				kibCell(rs))
		}
		b, c := by[serverBindery], by[serverCentrifugo]
		if len(b) > 0 && len(c) > 0 {
			ratio := func(f func(result) float64) string {
				return fmt.Sprintf("%.2f", median(b, f)/median(c, f))
			}
			fmt.Fprintf(w, "| Bindery / Centrifugo | | | | %s | %s | %s | %s |\n",
				ratio(func(r result) float64 { return float64(r.p50) }),
				ratio(func(r result) float64 { return float64(r.p99) }),
				ratio(func(r result) float64 { return float64(r.max) }),
				ratio(func(r result) float64 { return r.idle }))
			fmt.Fprintf(w, "\np99 ratio Bindery/Centrifugo round by round: %s\n", roundRatios(b, c))
		}
		fmt.Fprintln(w)
	}
}

// roundRatios pairs the rounds of both servers.
func roundRatios(b, c []result) string {
	var parts []string
	for i := range min(len(b), len(c)) {
		parts = append(parts, fmt.Sprintf("%.2f", float64(b[i].p99)/float64(c[i].p99)))
	}
	return strings.Join(parts, ", ")
}

func durationCell(rs []result, f func(result) time.Duration) string {
	m := median(rs, func(r result) float64 { return float64(f(r)) })
	if len(rs) == 1 {
		return ms(time.Duration(m))
	}
	lo, hi := extent(rs, func(r result) float64 { return float64(f(r)) })
	return fmt.Sprintf("%s (%s–%s)", ms(time.Duration(m)), strings.TrimSuffix(ms(time.Duration(lo)), " ms"), ms(time.Duration(hi)))
}

func kibCell(rs []result) string {
	f := func(r result) float64 { return r.idle / 1024 }
	if len(rs) == 1 {
		return fmt.Sprintf("%.1f KiB", f(rs[0]))
	}
	lo, hi := extent(rs, f)
	return fmt.Sprintf("%.1f KiB (%.1f–%.1f)", median(rs, f), lo, hi)
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func extent(rs []result, f func(result) float64) (lo, hi float64) {
	for i, r := range rs {
		v := f(r)
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}

func sum(rs []result, f func(result) int64) int64 {
	var s int64
	for _, r := range rs {
		s += f(r)
	}
	return s
}

// thousands formats 1234567 as 1,234,567.
func thousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
