package wsclient

import (
	"context"
	"sync"
	"time"
)

// Dialers bounds the handshakes DialMany has in flight.
const Dialers = 64

// DialMany opens n connections with dial (given each connection's
// index), at most Dialers handshakes at a time, each within a minute.
// On the first error it closes what it opened and returns that error.
func DialMany(ctx context.Context, n int, dial func(ctx context.Context, i int) (*Conn, error)) ([]*Conn, error) {
	conns := make([]*Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, Dialers)
	var first error
	var once sync.Once
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			c, err := dial(dctx, i)
			if err != nil {
				once.Do(func() { first = err })
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if first != nil {
		CloseAll(conns)
		return nil, first
	}
	return conns, nil
}

// CloseAll closes every connection of conns that is not nil.
func CloseAll(conns []*Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}
