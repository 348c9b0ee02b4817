// Command ws measures the /ws hub on loopback: memory per idle connection
// and delivery latency of events published at a steady rate.
//
//	go run ./bench/ws [-n 1000] [-rate 20] [-duration 10s] [-memprofile heap.prof] [-cpuprofile cpu.prof]
//
// The server (realtime.Hub and realtime.Handler with a fake backend) runs in
// this process; the clients run in a child process (this binary with
// -client), so that the memory measured is the server's alone: Go heap in
// use plus goroutine stacks, after a GC, with n idle authenticated
// connections minus without. Latency is from Publish (the event's
// timestamp) to the client having read the frame.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/realtime"
)

const token = "bench-token-0123456789abcdef0123456789abcdef"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ws:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("ws", flag.ContinueOnError)
	n := fs.Int("n", 1000, "connections")
	rate := fs.Int("rate", 20, "events per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to publish")
	client := fs.Bool("client", false, "internal: run the clients")
	addr := fs.String("addr", "", "internal: server address")
	memprofile := fs.String("memprofile", "", "write a heap profile with the idle connections open")
	cpuprofile := fs.String("cpuprofile", "", "write the server's CPU profile of the publishing phase")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *client {
		return runClients(ctx, *addr, *n, stdin, stdout)
	}
	return runServer(ctx, *n, *rate, *duration, *memprofile, *cpuprofile, stdout)
}

type benchBackend struct{}

func (benchBackend) ActiveRuns(context.Context, realtime.Viewer) ([]bindery.Run, error) {
	return []bindery.Run{}, nil
}
func (benchBackend) RunBook(context.Context, int64) (int64, error) { return 1, nil }
func (benchBackend) Control(context.Context, realtime.Viewer, string, int64, int64) error {
	return nil
}
func (benchBackend) RunLogs(context.Context, realtime.Viewer, int64) ([]*bindery.Event, error) {
	return nil, nil
}

func runServer(ctx context.Context, n, rate int, duration time.Duration, memprofile, cpuprofile string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	public, _ := url.Parse("http://" + ln.Addr().String())
	hub := realtime.NewHub(realtime.HubOptions{})
	h, err := realtime.NewHandler(realtime.HandlerOptions{
		Hub: hub, Backend: benchBackend{}, PublicURL: public, DashboardToken: token,
		Auth: realtime.AuthenticatorFunc(func(context.Context, string) (realtime.Viewer, error) {
			return nil, bindery.Errorf(bindery.EUNAUTHORIZED, "no")
		}),
	})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	before := memory()
	cmd := exec.CommandContext(ctx, os.Args[0], "-client", "-addr", ln.Addr().String(), "-n", strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		return fmt.Errorf("clients did not get ready: %q", lines.Text())
	}
	for hub.Stats().Live < n {
		time.Sleep(10 * time.Millisecond)
	}
	after := memory()
	if memprofile != "" {
		f, err := os.Create(memprofile)
		if err != nil {
			return err
		}
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	fmt.Fprintf(stdout, "idle connections: %d\n", n)
	fmt.Fprintf(stdout, "server memory per idle connection: %.1f KiB (heap %.1f KiB, stacks %.1f KiB), %.2f goroutines\n",
		float64(after.total()-before.total())/float64(n)/1024,
		float64(after.heap-before.heap)/float64(n)/1024,
		float64(after.stack-before.stack)/float64(n)/1024,
		float64(after.goroutines-before.goroutines)/float64(n))

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	total := int(duration.Seconds() * float64(rate))
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for id := int64(1); id <= int64(total); id++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		p := int(id % 100)
		e := &bindery.Event{ID: id, Type: bindery.EventStageProgress, Timestamp: time.Now(), RunID: 1, BookID: 1,
			Stage: bindery.StageFormat, Progress: &p, Message: "rendering chapter " + strconv.FormatInt(id, 10)}
		if err := hub.Publish(e); err != nil {
			return err
		}
	}
	fmt.Fprintf(in, "%d\n", total)
	in.Close()
	for lines.Scan() {
		fmt.Fprintln(stdout, lines.Text())
	}
	fmt.Fprintf(stdout, "slow clients closed: %d\n", hub.Stats().Slow)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hub.Shutdown(sctx)
	return cmd.Wait()
}

type mem struct{ heap, stack, goroutines uint64 }

func (m mem) total() uint64 { return m.heap + m.stack }

func memory() mem {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return mem{heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: uint64(runtime.NumGoroutine())}
}

// runClients opens n connections, says "ready", reads events until the
// server says on stdin how many it published and every connection has
// them (or 10 s pass), then prints the latency quantiles.
func runClients(ctx context.Context, addr string, n int, stdin io.Reader, stdout io.Writer) error {
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{
				HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
			if err != nil {
				errs <- err
				return
			}
			c.SetReadLimit(-1)
			if _, _, err := c.Read(ctx); err != nil { // state_sync
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Fprintln(stdout, "ready")

	var (
		mu        sync.Mutex
		latencies []time.Duration
		readers   sync.WaitGroup
		received  atomic.Int64
	)
	for _, c := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var mine []time.Duration
			for {
				_, b, err := c.Read(ctx)
				if err != nil {
					break
				}
				var e struct {
					Timestamp time.Time `json:"timestamp"`
				}
				if json.Unmarshal(b, &e) == nil {
					mine = append(mine, time.Since(e.Timestamp))
					received.Add(1)
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	var total int
	if _, err := fmt.Fscan(stdin, &total); err != nil {
		return err
	}
	want := int64(total * n)
	for deadline := time.Now().Add(10 * time.Second); received.Load() < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range conns {
		c.CloseNow()
	}
	readers.Wait()
	slices.Sort(latencies)
	q := func(p float64) time.Duration {
		if len(latencies) == 0 {
			return 0
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	fmt.Fprintf(stdout, "deliveries: %d of %d\n", len(latencies), want)
	fmt.Fprintf(stdout, "latency p50 %v, p99 %v, max %v\n", q(0.50), q(0.99), q(1))
	return nil
}
