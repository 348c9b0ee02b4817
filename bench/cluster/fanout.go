package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bindery/bindery/bench/internal/wsclient"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/client"
)

// fanoutEvent is one event's delivery to every client: latencies from
// the event's own timestamp (set by the node that stored it) to each
// client's read of it, in ns.
type fanoutEvent struct {
	typ     string
	lat     []int64
	missing int // clients that never received it
}

// fanoutRound connects n dashboard clients, client i to
// nodes[i%len(nodes)], reads them with wsclient's pollers, and starts
// runs one at a time on node A (api); w, a watcher on node A, names each
// event and says when a run has ended. After each run it waits until
// every client has every event of the run (or 10 s). It returns each
// event's fan-out and the clients' count of events received twice or out
// of order.
func fanoutRound(ctx context.Context, nodes []*node, token string, n int, api *client.Client, w *watcher, book int64, formats []string, runs int) ([]fanoutEvent, int64, error) {
	conns, err := wsclient.DialMany(ctx, n, func(ctx context.Context, i int) (*wsclient.Conn, error) {
		c, err := wsclient.DialDashboard(ctx, nodes[i%len(nodes)].ws(), token)
		if c != nil {
			c.KeepIDs = true
		}
		return c, err
	})
	if err != nil {
		return nil, 0, err
	}
	defer wsclient.CloseAll(conns)

	var received atomic.Int64
	var stop atomic.Bool
	pollers := make([]*wsclient.Poller, runtime.GOMAXPROCS(0))
	for i := range pollers {
		p, err := wsclient.NewPoller()
		if err != nil {
			return nil, 0, err
		}
		defer p.Close()
		pollers[i] = p
	}
	for i, c := range conns {
		if err := pollers[i%len(pollers)].Add(c); err != nil {
			return nil, 0, err
		}
	}
	var loops sync.WaitGroup
	for _, p := range pollers {
		loops.Go(func() { p.Loop(&stop, func(k int64) { received.Add(k) }) })
	}
	defer func() { stop.Store(true); loops.Wait() }()

	types := map[int64]string{} // event id → type, for the events of our runs
	for range runs {
		run, err := api.StartRun(ctx, book, formats, false)
		if err != nil {
			return nil, 0, err
		}
		if _, err := w.until(ctx, run.ID, "", 5*time.Minute, func(f frame) {
			if f.RunID == run.ID && f.ID > 0 {
				types[f.ID] = f.Type
			}
		}); err != nil {
			return nil, 0, err
		}
		// Every client must get every event of this run (and any earlier).
		want := int64(len(types)) * int64(n)
		deadline := time.Now().Add(10 * time.Second)
		for received.Load() < want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	stop.Store(true)
	loops.Wait()

	byID := map[int64]*fanoutEvent{}
	var disorder int64
	for _, c := range conns {
		disorder += c.Disorder
		for j, id := range c.IDs {
			typ, ours := types[id]
			if !ours {
				continue
			}
			e := byID[id]
			if e == nil {
				e = &fanoutEvent{typ: typ}
				byID[id] = e
			}
			e.lat = append(e.lat, c.Lat[j])
		}
	}
	var out []fanoutEvent
	for id, typ := range types {
		e := byID[id]
		if e == nil {
			e = &fanoutEvent{typ: typ}
		}
		e.missing = n - len(e.lat)
		out = append(out, *e)
	}
	if len(out) == 0 {
		return nil, disorder, errors.New("no event of the runs reached the clients")
	}
	return out, disorder, nil
}

// fanoutSummary is a layout's figures over its rounds: per event, the
// median, 99th percentile and maximum across the clients (the maximum is
// when the last client had it); then the median of each over the events,
// with the range over the events.
type fanoutSummary struct {
	events            int
	queued            int // of which run_queued: stored by node A itself
	p50, p99, max     []time.Duration
	qP50, qP99, qMax  []time.Duration
	missing, disorder int64
}

func summarise(rounds [][]fanoutEvent, disorder int64) fanoutSummary {
	s := fanoutSummary{disorder: disorder}
	for _, r := range rounds {
		for _, e := range r {
			s.events++
			s.missing += int64(e.missing)
			if len(e.lat) == 0 {
				continue
			}
			p50 := time.Duration(quantile(e.lat, 0.5))
			p99 := time.Duration(quantile(e.lat, 0.99))
			mx := time.Duration(quantile(e.lat, 1))
			s.p50, s.p99, s.max = append(s.p50, p50), append(s.p99, p99), append(s.max, mx)
			if e.typ == bindery.EventRunQueued {
				s.queued++
				s.qP50, s.qP99, s.qMax = append(s.qP50, p50), append(s.qP99, p99), append(s.qMax, mx)
			}
		}
	}
	return s
}

func (s fanoutSummary) print(w io.Writer, label string) {
	fmt.Fprintf(w, "| %s, every event (%d) | %s (%s) | %s (%s) | %s (%s) | %d | %d |\n", label, s.events,
		ms(median(s.p50)), spread(s.p50, msn), ms(median(s.p99)), spread(s.p99, msn), ms(median(s.max)), spread(s.max, msn), s.missing, s.disorder)
	fmt.Fprintf(w, "| %s, run_queued (%d) | %s (%s) | %s (%s) | %s (%s) | | |\n", label, s.queued,
		ms(median(s.qP50)), spread(s.qP50, msn), ms(median(s.qP99)), spread(s.qP99, msn), ms(median(s.qMax)), spread(s.qMax, msn))
}
