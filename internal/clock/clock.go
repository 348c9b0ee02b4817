// Package clock provides a controllable clock for tests of expiry logic:
// code under test takes a func() time.Time, tests pass Fake.Now and move
// time with Advance instead of sleeping.
package clock

import (
	"sync"
	"time"
)

// Fake is a clock that only moves when told. Safe for concurrent use.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a Fake set to t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}
