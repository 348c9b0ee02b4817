package cluster

import (
	"context"
	"log/slog"
	"sync"

	"github.com/bindery/bindery/internal/bindery"
)

// feedBatch is how many events one read takes; a feed behind by more
// reads again at once.
const feedBatch = 500

// EventReader reads stored events (bindery.EventStore).
type EventReader interface {
	EventsAfter(ctx context.Context, after int64, limit int) ([]*bindery.Event, error)
}

// Feed publishes to this node's sockets every event stored by any node,
// once each and in id order: on every Wake it reads the events after the
// last one it published. Wake is cheap and may be called any number of
// times from any goroutine (notifications, this node's own inserts, a
// reconnection); wakes that arrive during a read merge into one more read.
type Feed struct {
	store   EventReader
	publish func(*bindery.Event) error
	log     *slog.Logger

	mu   sync.Mutex
	last int64 // the last event published
	// next is closed when a read that began after it was made has ended
	// (WaitFor).
	next chan struct{}
	wake chan struct{}
}

// NewFeed returns a Feed that starts after event id last (the last event
// the hub was preloaded with) and publishes with publish (realtime.Hub's
// Publish).
func NewFeed(store EventReader, last int64, publish func(*bindery.Event) error, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{store: store, publish: publish, log: log, last: last, next: make(chan struct{}), wake: make(chan struct{}, 1)}
}

// Wake asks the feed to read what is new.
func (f *Feed) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Last is the id of the last event published.
func (f *Feed) Last() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// WaitFor returns once the feed has published event id, or has read
// everything stored when it was called without reaching id (then id is
// no event this database holds, or not yet one), or ctx ends; it reports
// whether id was published. A client that saw event id on another node
// resumes here after it (realtime.HandlerOptions.CatchUp): event ids are
// committed in id order (the store serialises appends), so one read
// begun after the client saw id reaches it.
func (f *Feed) WaitFor(ctx context.Context, id int64) bool {
	f.mu.Lock()
	if f.last >= id {
		f.mu.Unlock()
		return true
	}
	read := f.next
	f.mu.Unlock()
	f.Wake()
	select {
	case <-read:
	case <-ctx.Done():
	}
	return f.Last() >= id
}

// Run reads on every wake until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
		f.mu.Lock()
		read := f.next // the waiters of this read, which begins now
		f.next = make(chan struct{})
		f.mu.Unlock()
		err := f.catchUp(ctx)
		close(read)
		if err != nil && ctx.Err() == nil {
			// The next wake (or the listener's reconnection) retries.
			f.log.Warn("reading new events for this node's sockets", "err", err)
		}
	}
}

// catchUp publishes every event after the last one, in batches.
func (f *Feed) catchUp(ctx context.Context) error {
	for {
		f.mu.Lock()
		after := f.last
		f.mu.Unlock()
		evs, err := f.store.EventsAfter(ctx, after, feedBatch)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := f.publish(e); err != nil {
				return err
			}
			f.mu.Lock()
			f.last = e.ID
			f.mu.Unlock()
		}
		if len(evs) < feedBatch {
			return nil
		}
	}
}
