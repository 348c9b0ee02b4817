package cluster_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/cluster"
	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/testkit"
)

// prefix is a channel of its own for one test: notifications are
// database-wide, and tests run in parallel on one server.
func prefix(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b)
}

// listen starts a Listener on url for the test's life.
func listen(t *testing.T, url string, l *cluster.Listener) {
	t.Helper()
	l.Connect = func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, url) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); l.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func receive(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s within 20 s", what)
		return ""
	}
}

// Notifications reach the handler of their channel, in order; another
// deployment's (another prefix) never do. A connection killed under the
// listener is replaced, OnConnect runs again (to catch up), and
// notifications flow again.
func TestListener(t *testing.T) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p, other := prefix(t), prefix(t)
	got := make(chan string, 100)
	connected := make(chan string, 10)
	listen(t, url, &cluster.Listener{
		Handlers:  map[string]func(string){p: func(s string) { got <- s }},
		OnConnect: func() { connected <- "connected" },
	})
	receive(t, connected, "connection")
	for _, msg := range []string{"1", "2", "3"} {
		if err := cluster.Notify(ctx, pool, other, "other deployment"); err != nil {
			t.Fatal(err)
		}
		if err := cluster.Notify(ctx, pool, p, msg); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	for range 3 {
		seen = append(seen, receive(t, got, "notification"))
	}
	if !slices.Equal(seen, []string{"1", "2", "3"}) {
		t.Fatalf("received %q, want 1 2 3 and nothing of the other deployment", seen)
	}

	// Kill the listener's backend: it reconnects and catches up.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%' AND query LIKE '%`+p+`%'`); err != nil {
		t.Fatal(err)
	}
	receive(t, connected, "reconnection")
	if err := cluster.Notify(ctx, pool, p, "after"); err != nil {
		t.Fatal(err)
	}
	if v := receive(t, got, "notification after the reconnection"); v != "after" {
		t.Fatalf("after reconnecting received %q", v)
	}
}

// A revocation sent by one node reaches the others' disconnect, whole.
func TestRevocationsCrossNodes(t *testing.T) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p := prefix(t)
	got := make(chan auth.Revocation, 10)
	connected := make(chan string, 10)
	listen(t, url, &cluster.Listener{
		Handlers:  map[string]func(string){p: cluster.Revocations(func(r auth.Revocation) { got <- r }, nil)},
		OnConnect: func() { connected <- "connected" },
	})
	receive(t, connected, "connection")
	want := auth.Revocation{UserID: 7, SessionID: "s-42"}
	if err := cluster.Notify(ctx, pool, p, cluster.RevocationPayload(want)); err != nil {
		t.Fatal(err)
	}
	// Garbage on the channel is ignored, not a crash or a disconnect-all.
	if err := cluster.Notify(ctx, pool, p, `{"user_id":0,"all":true}`); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Notify(ctx, pool, p, cluster.RevocationPayload(auth.Revocation{UserID: 8, All: true})); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r != want {
			t.Fatalf("received %+v, want %+v", r, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no revocation")
	}
	select {
	case r := <-got:
		if r.UserID != 8 || !r.All {
			t.Fatalf("second revocation %+v: the malformed one was not skipped", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no second revocation")
	}
}

// memEvents is an events table in memory, appended to while the feed
// reads it.
type memEvents struct {
	mu     sync.Mutex
	events []*bindery.Event
	reads  int
}

func (m *memEvents) append(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range n {
		m.events = append(m.events, &bindery.Event{ID: int64(len(m.events) + 1), Type: bindery.EventLog})
	}
}

func (m *memEvents) EventsAfter(_ context.Context, after int64, limit int) ([]*bindery.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	var out []*bindery.Event
	for _, e := range m.events {
		if e.ID > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// The feed publishes every event once, in id order, from where the hub's
// preload ended, however wakes and appends interleave, and more than a
// batch at a time.
func TestFeedPublishesEachEventOnceInOrder(t *testing.T) {
	store := &memEvents{}
	store.append(10) // preloaded: the feed starts after 10
	var mu sync.Mutex
	var published []int64
	f := cluster.NewFeed(store, 10, func(e *bindery.Event) error {
		mu.Lock()
		defer mu.Unlock()
		published = append(published, e.ID)
		return nil
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				store.append(1 + w*7) // one batch of 22 at most; 1,200 + ... in all
				f.Wake()
			}
		}()
	}
	wg.Wait()
	store.append(1200) // more than a batch at once
	f.Wake()
	store.mu.Lock()
	total := int64(len(store.events))
	store.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for f.Last() != total && time.Now().Before(deadline) {
		f.Wake()
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if int64(len(published)) != total-10 {
		t.Fatalf("published %d events, want %d", len(published), total-10)
	}
	for i, id := range published {
		if id != int64(i)+11 {
			t.Fatalf("published[%d] = %d, want %d: out of order, twice or a gap", i, id, i+11)
		}
	}
}

// TestEventsReachEveryNode: two nodes on one PostgreSQL. Events node B
// stores — alone, or with a run's state change — reach node A's feed
// through the store's notification, in id order, each once, without A
// polling; a revocation B sends reaches A's sockets.
func TestEventsReachEveryNode(t *testing.T) {
	url := testkit.PostgresURL(t)
	ctx := context.Background()
	keys := testkit.Keyring(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, url, keys)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	events, err := a.Channel(ctx, cluster.EventsChannel)
	if err != nil {
		t.Fatal(err)
	}
	revocations, err := a.Channel(ctx, cluster.RevocationsChannel)
	if err != nil {
		t.Fatal(err)
	}
	published := make(chan int64, 100)
	feed := cluster.NewFeed(a, 0, func(e *bindery.Event) error { published <- e.ID; return nil }, nil)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go feed.Run(fctx)
	revoked := make(chan auth.Revocation, 1)
	connected := make(chan struct{}, 10)
	listen(t, url, &cluster.Listener{
		Handlers: map[string]func(string){
			events:      func(string) { feed.Wake() },
			revocations: cluster.Revocations(func(r auth.Revocation) { revoked <- r }, nil),
		},
		OnConnect: func() { feed.Wake(); connected <- struct{}{} },
	})
	<-connected

	u := &bindery.User{Email: "n@example.com", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := b.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	book := &bindery.Book{OwnerID: u.ID, Title: "T", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := b.CreateBook(ctx, book); err != nil {
		t.Fatal(err)
	}
	var want []int64
	for range 20 {
		e := &bindery.Event{Type: bindery.EventLog, BookID: book.ID, Timestamp: time.Now()}
		if err := b.AppendEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e.ID)
	}
	for i, id := range want {
		select {
		case got := <-published:
			if got != id {
				t.Fatalf("event %d on node A is %d, want %d", i, got, id)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("node A saw %d of %d events", i, len(want))
		}
	}
	select {
	case extra := <-published:
		t.Fatalf("node A published event %d twice or unasked", extra)
	default:
	}
	if err := b.Notify(ctx, cluster.RevocationsChannel, cluster.RevocationPayload(auth.Revocation{UserID: u.ID, All: true})); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-revoked:
		if r.UserID != u.ID || !r.All {
			t.Fatalf("revocation %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the revocation did not reach node A")
	}
}

// WaitFor, without anything else waking the feed, returns once the feed
// has read an event stored before the call (a client saw it on another
// node), true; for an id no node stored, it returns false after one read
// instead of waiting for ctx.
func TestFeedWaitFor(t *testing.T) {
	store := &memEvents{}
	f := cluster.NewFeed(store, 0, func(*bindery.Event) error { return nil }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	defer func() { cancel(); <-done }()

	store.append(3) // stored, not yet read: no wake
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if !f.WaitFor(wctx, 3) || f.Last() != 3 {
		t.Fatalf("WaitFor(3) after 3 stored: last %d", f.Last())
	}
	if !f.WaitFor(wctx, 2) {
		t.Fatal("WaitFor(2) after 3 read: false")
	}
	if f.WaitFor(wctx, 500) || wctx.Err() != nil {
		t.Fatalf("WaitFor(500), never stored: true or waited for the deadline (%v)", wctx.Err())
	}
}

// TestBooksDeletedPayloads: the book channel's handler passes on positive
// decimal ids only; anything else on the channel is ignored, never taken
// for a book to remove.
func TestBooksDeletedPayloads(t *testing.T) {
	var got []int64
	h := cluster.BooksDeleted(func(id int64) { got = append(got, id) }, nil)
	for _, p := range []string{cluster.BookPayload(42), "0", "-3", "012", "+5", "1e3", "", " 7", "7 ", "9223372036854775808", `{"book_id":1}`} {
		h(p)
	}
	if !slices.Equal(got, []int64{42}) {
		t.Fatalf("handled %v, want [42]", got)
	}
}
