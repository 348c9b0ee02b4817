package auth

import "container/list"

// lru is a fixed-capacity map that forgets its least recently used entry
// when full. It is what keeps the brute-force guard's memory bounded no
// matter how many addresses or accounts an attacker cycles through
// (NOTES.md #14: the original's dictionary grew without limit).
// Not safe for concurrent use; Guard holds the lock.
type lru[K comparable, V any] struct {
	cap   int
	order *list.List // front = most recent; values are *lruEntry
	items map[K]*list.Element
}

type lruEntry[K comparable, V any] struct {
	key K
	val V
}

func newLRU[K comparable, V any](capacity int) *lru[K, V] {
	return &lru[K, V]{cap: capacity, order: list.New(), items: make(map[K]*list.Element)}
}

// get returns the value for k and marks it recently used.
func (c *lru[K, V]) get(k K) (V, bool) {
	if e, ok := c.items[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// put stores v under k, evicting the least recently used entry if full.
func (c *lru[K, V]) put(k K, v V) {
	if e, ok := c.items[k]; ok {
		e.Value.(*lruEntry[K, V]).val = v
		c.order.MoveToFront(e)
		return
	}
	if c.order.Len() >= c.cap {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*lruEntry[K, V]).key)
	}
	c.items[k] = c.order.PushFront(&lruEntry[K, V]{key: k, val: v})
}

func (c *lru[K, V]) remove(k K) bool {
	if e, ok := c.items[k]; ok {
		c.order.Remove(e)
		delete(c.items, k)
		return true
	}
	return false
}

func (c *lru[K, V]) len() int { return c.order.Len() }

// each calls f for every entry, most recent first.
func (c *lru[K, V]) each(f func(K, V)) {
	for e := c.order.Front(); e != nil; e = e.Next() {
		en := e.Value.(*lruEntry[K, V])
		f(en.key, en.val)
	}
}
