package wsclient

import (
	"testing"
	"time"
)

func TestTimestampAndEventID(t *testing.T) {
	line := []byte(`{"id":42,"type":"run_queued","timestamp":"2026-12-06T23:00:00.123456789Z","run_id":7}`)
	ts, ok := Timestamp(line)
	if !ok || !ts.Equal(time.Date(2026, 12, 6, 23, 0, 0, 123456789, time.UTC)) {
		t.Fatalf("Timestamp = %v, %v", ts, ok)
	}
	if id := EventID(line); id != 42 {
		t.Fatalf("EventID = %d, want 42", id)
	}
	if _, ok := Timestamp([]byte(`{"id":1}`)); ok {
		t.Fatal("Timestamp found one in an object without it")
	}
}

// frame returns an unmasked server text frame holding payload.
func frame(payload string) []byte {
	return append([]byte{0x80 | OpText, byte(len(payload))}, payload...)
}

func TestParseAndConsume(t *testing.T) {
	now := time.Date(2026, 12, 6, 23, 0, 1, 0, time.UTC)
	var buf []byte
	for _, ev := range []string{
		`{"id":2,"type":"run_queued","timestamp":"2026-12-06T23:00:00.5Z"}`,
		`{"id":1,"type":"run_started","timestamp":"2026-12-06T23:00:00.75Z"}`,
	} {
		buf = append(buf, frame(ev)...)
	}
	half := frame(`{"id":3,"type":"log","timestamp":"2026-12-06T23:00:00Z"}`)
	buf = append(buf, half[:10]...)
	c := &Conn{fd: -1, buf: buf, end: len(buf), KeepIDs: true}
	for {
		msg, ok, err := c.parse()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if _, err := c.consume(msg, now); err != nil {
			t.Fatal(err)
		}
	}
	want := []int64{int64(500 * time.Millisecond), int64(250 * time.Millisecond)}
	if len(c.Lat) != 2 || c.Lat[0] != want[0] || c.Lat[1] != want[1] {
		t.Fatalf("Lat = %v, want %v (the incomplete third frame waits)", c.Lat, want)
	}
	if len(c.IDs) != 2 || c.IDs[0] != 2 || c.IDs[1] != 1 {
		t.Fatalf("IDs = %v, want [2 1]", c.IDs)
	}
	if c.Disorder != 1 || c.Last != 2 {
		t.Fatalf("Disorder %d Last %d, want 1 and 2", c.Disorder, c.Last)
	}
}
