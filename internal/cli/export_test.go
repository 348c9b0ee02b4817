package cli

import (
	"context"
	"time"
)

// PurgeExpired runs the server's retention purge as of now, for tests.
func PurgeExpired(ctx context.Context, store interface {
	PurgeAudit(ctx context.Context, before, at time.Time) (int, error)
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)
}, now time.Time, audit, events time.Duration) (int, int, error) {
	return retention{audit: audit, events: events}.purge(ctx, store, now)
}

// BookLimits are the limits serve gives the book store (uploads,
// previews and, through it, runs).
var BookLimits = bookLimits

// Scrub is migrate's last guard on printed errors: every secret replaced.
var Scrub = scrub
