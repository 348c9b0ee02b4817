package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bindery/bindery/bench/internal/wsclient"
)

// runClients is the -client mode: it opens n authenticated connections to
// a server of the given kind, prints "ready", reads events until stdin
// says how many were published and every connection has them all (or
// drain has passed since), then prints a clientReport as JSON.
//
// Both servers get the same code from the TCP connection on
// (bench/internal/wsclient); only the authentication differs, as each
// protocol has it.
func runClients(ctx context.Context, kind, url, token string, n int, drain time.Duration, stdin io.Reader, stdout io.Writer) error {
	// The clients allocate little; collecting less often leaves more of
	// the shared cores to the server.
	debug.SetGCPercent(400)
	var dial func(context.Context) (*wsclient.Conn, error)
	switch kind {
	case serverBindery:
		dial = func(ctx context.Context) (*wsclient.Conn, error) { return wsclient.DialDashboard(ctx, url, token) }
	case serverCentrifugo:
		dial = func(ctx context.Context) (*wsclient.Conn, error) { return dialCentrifugo(ctx, url, token) }
	default:
		return fmt.Errorf("-client %q: want %s or %s", kind, serverBindery, serverCentrifugo)
	}
	conns, err := wsclient.DialMany(ctx, n, func(ctx context.Context, _ int) (*wsclient.Conn, error) { return dial(ctx) })
	if err != nil {
		return err
	}
	defer wsclient.CloseAll(conns)

	var (
		received atomic.Int64
		want     atomic.Int64 // unknown (max) until the publisher has finished
		all      = make(chan struct{})
		allOnce  sync.Once
		stop     atomic.Bool
	)
	want.Store(1<<63 - 1)
	delivered := func(k int64) {
		if received.Add(k) >= want.Load() {
			allOnce.Do(func() { close(all) })
		}
	}
	// One poller per core, each with its share of the connections.
	pollers := make([]*wsclient.Poller, runtime.GOMAXPROCS(0))
	for i := range pollers {
		p, err := wsclient.NewPoller()
		if err != nil {
			return err
		}
		defer p.Close()
		pollers[i] = p
	}
	for i, c := range conns {
		if err := pollers[i%len(pollers)].Add(c); err != nil {
			return err
		}
	}
	var loops sync.WaitGroup
	for _, p := range pollers {
		loops.Go(func() { p.Loop(&stop, delivered) })
	}
	fmt.Fprintln(stdout, "ready")

	in := bufio.NewScanner(stdin)
	if !in.Scan() {
		return errors.New("no event count on stdin")
	}
	sent, err := strconv.ParseInt(in.Text(), 10, 64)
	if err != nil {
		return err
	}
	want.Store(sent * int64(n))
	delivered(0)
	select {
	case <-all:
	case <-time.After(drain):
	case <-ctx.Done():
	}
	stop.Store(true)
	loops.Wait()

	var rep clientReport
	var lat []int64
	for _, c := range conns {
		lat = append(lat, c.Lat...)
		rep.Disorder += c.Disorder
	}
	slices.Sort(lat)
	rep.Delivered = int64(len(lat))
	q := func(p float64) int64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	rep.P50, rep.P99, rep.Max = q(0.50), q(0.99), q(1)
	return json.NewEncoder(stdout).Encode(rep)
}

// dialCentrifugo connects, authenticates with the JWT (connect command)
// and subscribes to the channel, as Centrifugo's JSON protocol has it.
func dialCentrifugo(ctx context.Context, url, token string) (*wsclient.Conn, error) {
	c, err := wsclient.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	steps := []string{
		fmt.Sprintf(`{"id":1,"connect":{"token":%q,"name":"bench"}}`, token),
		fmt.Sprintf(`{"id":2,"subscribe":{"channel":%q}}`, channel),
	}
	for i, cmd := range steps {
		if err := c.Send(wsclient.OpText, []byte(cmd)); err != nil {
			c.Close()
			return nil, err
		}
		if err := awaitReply(c, i+1); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// awaitReply reads until the reply to command id, failing on an error
// reply.
func awaitReply(c *wsclient.Conn, id int) error {
	prefix := []byte(`{"id":` + strconv.Itoa(id) + `,`)
	for {
		b, err := c.Next()
		if err != nil {
			return err
		}
		for line := range bytes.Lines(b) {
			if !bytes.HasPrefix(line, prefix) {
				continue
			}
			if bytes.Contains(line, []byte(`"error"`)) {
				return fmt.Errorf("centrifugo: %s", bytes.TrimSpace(line))
			}
			return nil
		}
	}
}
