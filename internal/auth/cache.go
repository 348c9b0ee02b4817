package auth

import (
	"sync"
	"time"
)

// principalCache remembers recently authenticated credentials for a short
// time, so that a busy client does not cost a database look-up per
// request. It is a pure optimisation with a bounded staleness:
//
//   - every change this process makes to sessions, tokens or users clears
//     the whole cache (Service calls invalidate), so revocations, role and
//     password changes made through the server apply to the very next
//     request;
//   - a change made by another process (the `bindery user` and `bindery
//     sessions` commands, another node) applies within cacheTTL.
//
// Expiry (absolute and idle) is re-checked on every hit against the clock.
type principalCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry // key: SHA-256 of the credential, as a string
}

type cacheEntry struct {
	p      *Principal
	loaded time.Time
}

// cacheTTL bounds how stale a cached principal may be; cacheMax bounds the
// memory (the map is simply emptied when full).
const (
	cacheTTL = time.Second
	cacheMax = 10000
)

func newPrincipalCache() *principalCache {
	return &principalCache{entries: make(map[string]cacheEntry)}
}

func (c *principalCache) get(key []byte, now time.Time) *Principal {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(key)]
	if !ok || now.Sub(e.loaded) >= cacheTTL || now.Before(e.loaded) {
		return nil
	}
	return e.p
}

func (c *principalCache) put(key []byte, p *Principal, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= cacheMax {
		clear(c.entries)
	}
	c.entries[string(key)] = cacheEntry{p: p, loaded: now}
}

func (c *principalCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
