package bindery

import (
	"context"
	"time"
)

// GuardStore keeps the brute-force guard's state in the database, so that
// every node of a cluster counts the same failures and honours the same
// blocks (auth.Guard with GuardConfig.Shared). Keys are opaque strings: an
// address ("203.0.113.7", "2001:db8::/64") or an account's pseudonym,
// never an e-mail address.
type GuardStore interface {
	// GuardFailure records a failure of key at now, forgets failures
	// (of every key) before since, and returns how many failures key has
	// from since on, this one included.
	GuardFailure(ctx context.Context, key string, now, since time.Time) (int, error)
	// GuardFailures returns key's failures from since on and the time of
	// the latest.
	GuardFailures(ctx context.Context, key string, since time.Time) (n int, last time.Time, err error)
	// GuardClear forgets key's failures.
	GuardClear(ctx context.Context, key string) error
	// GuardBlock blocks key until until and forgets its failures.
	GuardBlock(ctx context.Context, key string, until time.Time) error
	// GuardBlocked returns when key's block ends, if it is blocked at now.
	GuardBlocked(ctx context.Context, key string, now time.Time) (time.Time, bool, error)
	// GuardBlocks lists the blocks active at now, soonest to end first.
	GuardBlocks(ctx context.Context, now time.Time) ([]GuardBlock, error)
	// GuardLift removes key's block and failures, and reports whether a
	// block was active at now.
	GuardLift(ctx context.Context, key string, now time.Time) (bool, error)
}

// GuardBlock is a blocked key and the end of its block.
type GuardBlock struct {
	Key   string
	Until time.Time
}
