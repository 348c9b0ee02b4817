// Command ws measures Bindery's /ws side by side with Centrifugo v6 on
// loopback: delivery latency of events broadcast at a steady rate to many
// authenticated clients, and server memory per idle connection.
//
//	go run ./bench/ws [-n 1000,5000] [-rate 20] [-duration 10s] [-rounds 3]
//	                  [-centrifugo /work/tools/centrifugo] [-cpuprofile prefix]
//
// Centrifugo is not part of this module. Build it outside the repository,
//
//	GOBIN=/work/tools GOFLAGS= go install github.com/centrifugal/centrifugo/v6@v6.9.1
//
// and pass -centrifugo, set $CENTRIFUGO, or put it on $PATH; without it
// only Bindery is measured.
//
// # What runs
//
// Every run starts one server process, then one client process, and this
// process publishes. Servers run one at a time, each with the identical
// workload; with -rounds N the order alternates from round to round, so
// that drift in the machine's load falls on both alike.
//
//   - Bindery: this binary with -serve: realtime.Hub and realtime.Handler
//     (a fake backend, no database) on a real loopback socket. Clients
//     authenticate with Authorization: Bearer and the DASHBOARD_TOKEN and
//     get state_sync; POST /publish hands an event to Hub.Publish.
//   - Centrifugo: the centrifugo binary with a generated configuration
//     (JSON protocol, an HMAC token secret, an HTTP API key). Clients
//     connect with an HS256 JWT and subscribe to one channel; events are
//     published with its HTTP API (POST /api/publish).
//   - Clients: this binary with -client: n WebSocket connections, read by
//     the same code for both servers — a minimal client
//     (bench/internal/wsclient) that parses frames out of a reused buffer,
//     read by one epoll loop per core, because whatever the clients spend
//     is taken from the server under test. Linux only.
//
// The load generator (clients and publisher) shares the machine's cores
// with the server: on a 2-core machine the clients take about as much CPU
// as the server, and other work on the machine moves the figures. The
// first line shows the load average before the bench; each run line the
// load average at its end (the bench's own processes add about 2) and the
// CPU time the server and the clients spent per delivery.
//
// # What is measured
//
// Each event is a Bindery stage_progress event, the same JSON for both
// servers, carrying its publish time in "timestamp" (RFC 3339 with
// nanoseconds), taken just before the publish request. A client subtracts
// it from the time it has read the WebSocket message: latency. Events are
// published at -rate for -duration; afterwards the clients wait up to
// -drain for the last ones. "delivered" counts event messages received;
// "disorder" counts those received twice or out of order.
//
// Both servers thus get each event through an HTTP request from this
// process, and the latency includes it.
//
// Memory per idle connection: the server's Go heap in use plus goroutine
// stacks, after a garbage collection (both servers are Go programs and
// serve /debug/pprof/heap?debug=1&gc=1), with n idle authenticated
// connections minus without, divided by n. Run lines also show the
// difference in resident set size, which includes what the collector has
// not returned to the system yet.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ws:", err)
		os.Exit(1)
	}
}

// options are the coordinator's flags.
type options struct {
	ns         []int
	rate       int
	duration   time.Duration
	drain      time.Duration
	rounds     int
	warmup     time.Duration // an unmeasured run of each server before the rounds
	centrifugo string        // path of the binary, "" to skip
	cpuprofile string        // file name prefix, "" for none
	memprofile string
	gomaxprocs string // $GOMAXPROCS, which every process inherits
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ns := fs.String("n", "1000", "connections; a comma-separated list runs each")
	rate := fs.Int("rate", 20, "events per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to publish")
	drain := fs.Duration("drain", 30*time.Second, "how long clients wait for the last events after publishing ends")
	rounds := fs.Int("rounds", 1, "runs per server and n, alternating the order of the servers")
	warmup := fs.Duration("warmup", 2*time.Second, "publish for this long to each server once before the rounds, unmeasured; 0 skips")
	cf := fs.String("centrifugo", "", "Centrifugo binary (default $CENTRIFUGO, else centrifugo on $PATH); \"none\" measures Bindery alone")
	cpuprofile := fs.String("cpuprofile", "", "write each server's CPU profile of the publishing phase to `prefix`-SERVER-nN-rR.prof, and the clients' to prefix-clients-SERVER-nN-rR.prof")
	memprofile := fs.String("memprofile", "", "write each server's heap profile with the idle connections open to `prefix`-SERVER-nN-rR.prof")
	// Internal modes: this binary is also the Bindery server and the clients.
	serveMode := fs.Bool("serve", false, "internal: run the Bindery server")
	clientMode := fs.String("client", "", "internal: run the clients against `server` (Bindery or Centrifugo)")
	url := fs.String("url", "", "internal: WebSocket URL for -client")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	switch {
	case *serveMode:
		return serveBindery(ctx, getenv(tokenEnv), stdout)
	case *clientMode != "":
		n, err := strconv.Atoi(*ns)
		if err != nil {
			return fmt.Errorf("-n: %w", err)
		}
		if *cpuprofile != "" { // the clients' own, connecting included
			f, err := os.Create(*cpuprofile)
			if err != nil {
				return err
			}
			defer f.Close()
			defer pprof.StopCPUProfile()
			pprof.StartCPUProfile(f)
		}
		return runClients(ctx, *clientMode, *url, getenv(tokenEnv), n, *drain, stdin, stdout)
	}

	o := options{rate: *rate, duration: *duration, drain: *drain, rounds: *rounds, warmup: *warmup,
		cpuprofile: *cpuprofile, memprofile: *memprofile}
	for f := range strings.SplitSeq(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("-n: %q is not a positive number", f)
		}
		o.ns = append(o.ns, n)
	}
	if o.rate <= 0 || o.duration <= 0 || o.rounds <= 0 {
		return errors.New("-rate, -duration and -rounds must be positive")
	}
	var err error
	if o.centrifugo, err = findCentrifugo(*cf, getenv); err != nil {
		fmt.Fprintf(stderr, "ws: %v\nws: measuring Bindery alone. Install Centrifugo outside the repository with\n"+
			"ws:   GOBIN=/work/tools GOFLAGS= go install github.com/centrifugal/centrifugo/v6@v6.9.1\n"+
			"ws: and pass -centrifugo /work/tools/centrifugo (or set $CENTRIFUGO).\n", err)
	}
	o.gomaxprocs = getenv("GOMAXPROCS")
	return compare(ctx, o, stdout, stderr)
}

// findCentrifugo resolves -centrifugo, $CENTRIFUGO or $PATH. It returns ""
// with an error saying why when there is none; "none" skips it silently.
func findCentrifugo(flagValue string, getenv func(string) string) (string, error) {
	p := flagValue
	if p == "" {
		p = getenv("CENTRIFUGO")
	}
	switch p {
	case "none":
		return "", nil
	case "":
		found, err := exec.LookPath("centrifugo")
		if err != nil {
			return "", errors.New("centrifugo not found: neither -centrifugo nor $CENTRIFUGO is set, and there is no centrifugo on $PATH")
		}
		return found, nil
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("centrifugo not found: %s is not an executable file", p)
	}
	return p, nil
}

// compare runs every server for every n, rounds times, and prints a line
// per run and then the summary tables.
func compare(ctx context.Context, o options, stdout, stderr io.Writer) error {
	servers := []string{serverBindery}
	if o.centrifugo != "" {
		servers = append(servers, serverCentrifugo)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d events/s for %v; rounds %d; GOMAXPROCS of every process: %s; load %s\n",
		o.rate, o.duration, o.rounds, gomaxprocs(o.gomaxprocs), loadAverage())
	var results []result
	for _, n := range o.ns {
		if o.warmup > 0 { // the first process of a series runs on colder caches
			w := o
			w.duration, w.cpuprofile, w.memprofile = o.warmup, "", ""
			for _, name := range servers {
				res, err := runOnce(ctx, self, name, n, 0, w, stderr)
				if err != nil {
					return fmt.Errorf("%s, n=%d, warm-up: %w", name, n, err)
				}
				fmt.Fprintln(stdout, res.line(), " (not counted)")
			}
		}
		for r := range o.rounds {
			order := slices.Clone(servers)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, name := range order {
				res, err := runOnce(ctx, self, name, n, r+1, o, stderr)
				if err != nil {
					return fmt.Errorf("%s, n=%d, round %d: %w", name, n, r+1, err)
				}
				fmt.Fprintln(stdout, res.line())
				results = append(results, res)
			}
		}
	}
	fmt.Fprintln(stdout)
	printSummary(stdout, results, o)
	return nil
}

// gomaxprocs describes the parallelism every process of the run gets.
func gomaxprocs(env string) string {
	if env != "" {
		return env
	}
	return "default (" + strconv.Itoa(numCPU()) + ")"
}

// loadAverage is the first three fields of /proc/loadavg, or "?" elsewhere.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// startChild starts this binary in an internal mode, with env added, and
// returns its stdin and a scanner of its stdout. Its stderr is ours.
func startChild(ctx context.Context, self string, env []string, stderr io.Writer, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, in, bufio.NewScanner(out), nil
}
