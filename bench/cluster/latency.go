package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/client"
)

// sample is one start latency: when the POST was sent, and how long until
// run_started was read.
type sample struct {
	at  time.Time
	lat time.Duration
}

// startLatency measures, samples times, the time from just before POST
// /books/{id}/runs is sent to node A (api) until node C's dashboard
// socket (w) has read that run's run_started. Runs go one at a time: the
// next is started when the watcher has seen the previous one end, so
// each run_started measures an idle cluster taking a new run, not a
// queue; and gap passes between the end of one and the start of the next.
// A tiny run that fails at once (its files are on another node) ends
// within about 10 ms, so without a gap the POSTs may follow each other
// within River's FetchCooldown (20 ms), inside which River sends no
// second insert notification: such a run waits for a node's fetch poll
// (every second). -gap 0 shows that case. It returns the samples and how
// the runs ended.
func startLatency(ctx context.Context, api *client.Client, w *watcher, book int64, formats []string, samples int, gap time.Duration, log io.Writer) ([]sample, map[string]int, error) {
	var lat []sample
	ends := map[string]int{}
	for i := range samples {
		if i > 0 && gap > 0 {
			select {
			case <-time.After(gap):
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		t0 := time.Now()
		run, err := api.StartRun(ctx, book, formats, false)
		if err != nil {
			return nil, nil, err
		}
		f, err := w.until(ctx, run.ID, bindery.EventRunStarted, 30*time.Second, nil)
		if err != nil {
			return nil, nil, err
		}
		lat = append(lat, sample{at: t0, lat: f.at.Sub(t0)})
		end, err := w.until(ctx, run.ID, "", 5*time.Minute, nil)
		if err != nil {
			return nil, nil, err
		}
		ends[end.Type]++
		if (i+1)%10 == 0 {
			fmt.Fprintf(log, "  %d/%d samples, last %s\n", i+1, samples, ms(lat[i].lat))
		}
	}
	return lat, ends, nil
}
