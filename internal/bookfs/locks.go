package bookfs

import "sync"

// bookLocks hands out one mutex per book, made on first use and kept (a
// few dozen bytes per book the process touched). The zero value is ready.
type bookLocks struct {
	mu sync.Mutex
	m  map[int64]*sync.Mutex
}

// lock locks book id's mutex and returns its unlock.
func (b *bookLocks) lock(id int64) func() {
	b.mu.Lock()
	if b.m == nil {
		b.m = map[int64]*sync.Mutex{}
	}
	l, ok := b.m[id]
	if !ok {
		l = &sync.Mutex{}
		b.m[id] = l
	}
	b.mu.Unlock()
	l.Lock()
	return l.Unlock
}
