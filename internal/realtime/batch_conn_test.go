package realtime

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestEventFrameAsTheLibraryWritesIt: the fan-out writes newEventFrame's
// bytes where the library would have written the message itself; they
// must be the same bytes, at every length encoding of RFC 6455 §5.2.
func TestEventFrameAsTheLibraryWritesIt(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 1000, 65535, 65536, 70000}
	got := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := &batchWriter{ResponseWriter: w}
		c, err := websocket.Accept(bw, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.CloseNow()
		for _, n := range sizes {
			bw.conn.hold() // gather the library's bytes instead of sending them
			if err := c.Write(context.Background(), websocket.MessageText, payload(n)); err != nil {
				t.Error(err)
				return
			}
			got <- bytes.Clone(*bw.conn.buf)
			bw.conn.discard()
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+srv.URL[len("http"):], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, n := range sizes {
		var lib []byte
		select {
		case lib = <-got:
		case <-ctx.Done():
			t.Fatal("no frame from the library")
		}
		f := newEventFrame(1, 1, payload(n))
		if !bytes.Equal(f.framed, lib) {
			t.Errorf("%d bytes: newEventFrame % x…, library % x…", n, f.framed[:min(len(f.framed), 12)], lib[:min(len(lib), 12)])
		}
		if !bytes.Equal(f.data, payload(n)) {
			t.Errorf("%d bytes: data is not the message", n)
		}
	}
}

func payload(n int) []byte { return []byte(strings.Repeat("x", n)) }

// TestTryWriteKeepsTheStreamWhole: when the socket takes only part of the
// frames, tryWrite reports what it took, keeps the tail of the frame it
// cut, refuses to write more until that tail is out, and every later
// write — the library's included — comes after it: the peer reads the
// frames whole and in order.
func TestTryWriteKeepsTheStreamWhole(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peer.(*net.TCPConn).SetReadBuffer(4 << 10)
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	nc.(*net.TCPConn).SetWriteBuffer(4 << 10)
	b := newBatchConn(nc)
	defer b.Close()

	// Frames big enough that the small buffers cannot take them all.
	var frames []*frame
	for i := range 8 {
		frames = append(frames, newEventFrame(int64(i+1), 1, bytes.Repeat([]byte{byte('a' + i)}, 48<<10)))
	}
	var want bytes.Buffer
	scratch := new([]byte)
	queue := frames
	for len(queue) > 0 {
		taken, partial := b.tryWrite(queue, scratch)
		for _, f := range queue[:taken] {
			want.Write(f.framed)
		}
		queue = queue[taken:]
		if partial {
			break
		}
		if taken == 0 {
			t.Fatal("the socket took nothing, yet no frame was cut")
		}
	}
	if len(queue) == 0 {
		t.Fatal("the socket took every frame at once; the test needs smaller buffers")
	}
	if taken, _ := b.tryWrite(queue, scratch); taken != 0 {
		t.Fatalf("tryWrite took %d frames while a frame's tail was pending", taken)
	}

	// The library writes (a control frame, say) while the tail is pending;
	// the peer starts reading only now.
	control := []byte{0x89, 0x00} // ping, no payload
	want.Write(control)
	read := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(want.Len())))
		read <- b
	}()
	if _, err := b.Write(control); err != nil {
		t.Fatal(err)
	}
	if got := <-read; !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("the peer read %d bytes out of order or incomplete, want %d", len(got), want.Len())
	}
	if taken, _ := b.tryWrite(queue[:1], scratch); taken != 1 {
		t.Errorf("after the tail: tryWrite took %d frames, want the next one (whole or in part)", taken)
	}
}

// TestEventsOverTLS: behind TLS the connection has no descriptor for the
// fan-out's writes, so every frame goes by the slow path; events still
// arrive, in order.
func TestEventsOverTLS(t *testing.T) {
	hub := NewHub(HubOptions{PingInterval: -1, Now: fixedNow})
	var handler *Handler
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	public, _ := url.Parse(srv.URL)
	var err error
	handler, err = NewHandler(HandlerOptions{Hub: hub, Auth: AuthenticatorFunc(fakeAuth), Backend: &fakeBackend{},
		PublicURL: public, DashboardToken: dashboardToken})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		hub.Shutdown(ctx)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "wss"+srv.URL[len("https"):]+"/ws", &websocket.DialOptions{HTTPClient: srv.Client(),
		HTTPHeader: http.Header{"Authorization": {"Bearer " + dashboardToken}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if f := mustRead(t, c); f.Type != FrameStateSync {
		t.Fatalf("first frame %q, want state_sync", f.Type)
	}
	for id := int64(1); id <= 50; id++ {
		if err := hub.Publish(event(id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if got := readIDs(t, c, 50); !slices.Equal(got, span(1, 50)) {
		t.Fatalf("got %v", got)
	}
}
