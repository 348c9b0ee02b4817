package realtime

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// discardSink is a connection that takes every frame at once.
type discardSink struct{ frames, bytes *atomic.Int64 }

func (s discardSink) Write(_ context.Context, _ websocket.MessageType, p []byte) error {
	s.frames.Add(1)
	s.bytes.Add(int64(len(p)))
	return nil
}
func (discardSink) Ping(context.Context) error               { return nil }
func (discardSink) Close(websocket.StatusCode, string) error { return nil }
func (discardSink) CloseNow() error                          { return nil }

// BenchmarkPublish measures Publish fanning one event out to n in-process
// subscribers, until every subscriber's writer has taken it. Half of the
// subscribers may read the event's book, so the filter is exercised too.
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := NewHub(HubOptions{QueueLimit: 1 << 30, PingInterval: -1})
			var frames, bytes atomic.Int64
			readers := 0
			for i := range n {
				c := newClient(h, discardSink{&frames, &bytes})
				v := &fakeViewer{id: "bench", read: map[int64]bool{int64(1 + i%2): true}}
				h.conns[c] = struct{}{}
				c.viewer, c.live = v, true
				if v.read[1] {
					readers++
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := h.Publish(event(int64(i+1), 1)); err != nil {
					b.Fatal(err)
				}
			}
			want := int64(b.N * readers)
			for frames.Load() < want {
				runtime.Gosched() // the writers run on their own goroutines
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(want), "ns/delivery")
		})
	}
}
