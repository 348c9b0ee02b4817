package auth

import (
	"context"
	"log/slog"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/clientaddr"
)

// GuardConfig configures a Guard.
type GuardConfig struct {
	MaxFailures   int           // failures tolerated inside Window; one more blocks
	Window        time.Duration // sliding window for counting failures
	BlockDuration time.Duration // how long a block lasts
	Capacity      int           // entries per table (addresses, accounts, blocks); default 65536
	Now           func() time.Time
	// Shared, when set, keeps the failures and blocks in the database
	// instead of this process's memory, so that every node of a cluster
	// counts the same failures and honours the same blocks and lifts. The
	// database then holds accounts as AccountKey(account) (a pseudonym,
	// never the address someone tried) and addresses as Blocks names them.
	Shared     bindery.GuardStore
	AccountKey func(account string) string
	Logger     *slog.Logger
}

// sharedTimeout bounds each database call of a shared Guard.
const sharedTimeout = 2 * time.Second

// Block is an address that may not attempt to sign in until Until.
type Block struct {
	Addr  string    `json:"addr"` // an IPv4 address or an IPv6 /64
	Until time.Time `json:"until"`
}

// Guard is the brute-force defence.
//
// Per client address: more than MaxFailures failures inside Window block
// the address for BlockDuration; while blocked every attempt is refused,
// even with the right password, so a guesser learns nothing.
//
// Per account: failures slow further attempts on that account down
// (AccountDelay), whatever address they come from, to blunt distributed
// guessing. It is a slow-down, never a lock-out: the real owner always gets
// in, at worst a couple of seconds later, so an attacker cannot deny
// someone their account by failing on purpose.
//
// Memory is bounded: each table is an LRU of Capacity entries. With
// GuardConfig.Shared the tables are in the database instead, pruned to the
// window as failures arrive.
type Guard struct {
	cfg GuardConfig

	mu       sync.Mutex
	addrs    *lru[netip.Prefix, []time.Time] // recent failure times per address
	accounts *lru[string, accountState]
	blocks   *lru[netip.Prefix, time.Time] // address → blocked until
}

type accountState struct {
	failures int
	last     time.Time
}

// Account slow-down: no delay for the first few failures (typos), then
// doubling from 250 ms to at most 2 s.
const (
	accountFreeFailures = 3
	accountBaseDelay    = 250 * time.Millisecond
	accountMaxDelay     = 2 * time.Second
)

// NewGuard returns a Guard.
func NewGuard(cfg GuardConfig) *Guard {
	if cfg.Capacity <= 0 {
		cfg.Capacity = 65536
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AccountKey == nil {
		cfg.AccountKey = func(a string) string { return a }
	}
	return &Guard{
		cfg:      cfg,
		addrs:    newLRU[netip.Prefix, []time.Time](cfg.Capacity),
		accounts: newLRU[string, accountState](cfg.Capacity),
		blocks:   newLRU[netip.Prefix, time.Time](cfg.Capacity),
	}
}

// Blocked reports whether addr is blocked and for how much longer.
func (g *Guard) Blocked(addr netip.Addr) (time.Duration, bool) {
	if g.cfg.Shared != nil {
		return g.sharedBlocked(clientaddr.Key(addr))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.blockedLocked(clientaddr.Key(addr))
}

func (g *Guard) blockedLocked(k netip.Prefix) (time.Duration, bool) {
	until, ok := g.blocks.get(k)
	if !ok {
		return 0, false
	}
	left := until.Sub(g.cfg.Now())
	if left <= 0 {
		g.blocks.remove(k)
		return 0, false
	}
	return left, true
}

// Failure records a failed attempt from addr on account (normalised
// e-mail, possibly of no existing user). It returns the block's length
// when this failure blocked the address.
func (g *Guard) Failure(addr netip.Addr, account string) (blockedFor time.Duration, blockedNow bool) {
	now := g.cfg.Now()
	k := clientaddr.Key(addr)
	if g.cfg.Shared != nil {
		return g.sharedFailure(k, account, now)
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	if account != "" {
		st, _ := g.accounts.get(account)
		if now.Sub(st.last) > g.cfg.Window {
			st.failures = 0
		}
		st.failures++
		st.last = now
		g.accounts.put(account, st)
	}

	if _, ok := g.blockedLocked(k); ok {
		return 0, false
	}
	times, _ := g.addrs.get(k)
	kept := times[:0]
	for _, t := range times {
		if now.Sub(t) < g.cfg.Window {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	if len(kept) > g.cfg.MaxFailures {
		g.addrs.remove(k)
		g.blocks.put(k, now.Add(g.cfg.BlockDuration))
		return g.cfg.BlockDuration, true
	}
	g.addrs.put(k, kept) // at most MaxFailures timestamps
	return 0, false
}

// Success clears the failure history of addr and account.
func (g *Guard) Success(addr netip.Addr, account string) {
	if g.cfg.Shared != nil {
		g.sharedSuccess(clientaddr.Key(addr), account)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addrs.remove(clientaddr.Key(addr))
	if account != "" {
		g.accounts.remove(account)
	}
}

// AccountDelay is how long to wait before checking a password for
// account: zero until accountFreeFailures recent failures, then doubling,
// capped at accountMaxDelay.
func (g *Guard) AccountDelay(account string) time.Duration {
	if g.cfg.Shared != nil {
		return g.sharedAccountDelay(account)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.accounts.get(account)
	if !ok || g.cfg.Now().Sub(st.last) > g.cfg.Window {
		return 0
	}
	return accountDelay(st.failures)
}

// accountDelay is the slow-down after failures recent failures.
func accountDelay(failures int) time.Duration {
	if failures < accountFreeFailures {
		return 0
	}
	d := accountBaseDelay
	for i := accountFreeFailures; i < failures && d < accountMaxDelay; i++ {
		d *= 2
	}
	return min(d, accountMaxDelay)
}

// Blocks lists the active blocks, soonest to expire first.
func (g *Guard) Blocks() []Block {
	if g.cfg.Shared != nil {
		return g.sharedBlocks()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.cfg.Now()
	var out []Block
	g.blocks.each(func(k netip.Prefix, until time.Time) {
		if until.After(now) {
			out = append(out, Block{Addr: blockName(k), Until: until})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Until.Before(out[j].Until) })
	return out
}

// Lift removes the block on addr (an address or an IPv6 /64 as listed by
// Blocks) and its failure history, and reports whether there was a block.
func (g *Guard) Lift(addr string) bool {
	k, ok := parseBlockName(addr)
	if !ok {
		return false
	}
	if g.cfg.Shared != nil {
		return g.sharedLift(k)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.addrs.remove(k)
	_, active := g.blockedLocked(k)
	g.blocks.remove(k)
	return active
}

func blockName(k netip.Prefix) string {
	if k.Addr().Is4() {
		return k.Addr().String()
	}
	return k.String()
}

func parseBlockName(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return clientaddr.Key(p.Addr()), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return clientaddr.Key(a.Unmap()), true
	}
	return netip.Prefix{}, false
}

// ---- the shared (database) tables -----------------------------------------
//
// A database error never lets an attempt through that memory would have
// refused: Blocked fails closed (reported as a one-minute block), and
// AccountDelay as the longest slow-down. The error is logged; sign-ins
// need the database anyway, so these cases coincide with an outage.

func (g *Guard) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), sharedTimeout)
}

func accountKey(g *Guard, account string) string { return "account:" + g.cfg.AccountKey(account) }

func (g *Guard) sharedBlocked(k netip.Prefix) (time.Duration, bool) {
	ctx, cancel := g.ctx()
	defer cancel()
	now := g.cfg.Now()
	until, ok, err := g.cfg.Shared.GuardBlocked(ctx, blockName(k), now)
	if err != nil {
		g.cfg.Logger.Error("reading the shared sign-in guard; refusing the attempt", "err", err)
		return time.Minute, true
	}
	if !ok {
		return 0, false
	}
	return until.Sub(now), true
}

func (g *Guard) sharedFailure(k netip.Prefix, account string, now time.Time) (time.Duration, bool) {
	ctx, cancel := g.ctx()
	defer cancel()
	since := now.Add(-g.cfg.Window)
	if account != "" {
		if _, err := g.cfg.Shared.GuardFailure(ctx, accountKey(g, account), now, since); err != nil {
			g.cfg.Logger.Error("recording a failed sign-in in the shared guard", "err", err)
		}
	}
	name := blockName(k)
	if _, blocked, err := g.cfg.Shared.GuardBlocked(ctx, name, now); err != nil || blocked {
		return 0, false
	}
	n, err := g.cfg.Shared.GuardFailure(ctx, name, now, since)
	if err != nil {
		g.cfg.Logger.Error("recording a failed sign-in in the shared guard", "err", err)
		return 0, false
	}
	if n > g.cfg.MaxFailures {
		if err := g.cfg.Shared.GuardBlock(ctx, name, now.Add(g.cfg.BlockDuration)); err != nil {
			g.cfg.Logger.Error("blocking an address in the shared guard", "err", err)
			return 0, false
		}
		return g.cfg.BlockDuration, true
	}
	return 0, false
}

func (g *Guard) sharedSuccess(k netip.Prefix, account string) {
	ctx, cancel := g.ctx()
	defer cancel()
	err := g.cfg.Shared.GuardClear(ctx, blockName(k))
	if err == nil && account != "" {
		err = g.cfg.Shared.GuardClear(ctx, accountKey(g, account))
	}
	if err != nil {
		g.cfg.Logger.Warn("clearing the shared guard after a sign-in", "err", err)
	}
}

func (g *Guard) sharedAccountDelay(account string) time.Duration {
	ctx, cancel := g.ctx()
	defer cancel()
	n, _, err := g.cfg.Shared.GuardFailures(ctx, accountKey(g, account), g.cfg.Now().Add(-g.cfg.Window))
	if err != nil {
		g.cfg.Logger.Error("reading the shared sign-in guard", "err", err)
		return accountMaxDelay
	}
	return accountDelay(n)
}

func (g *Guard) sharedBlocks() []Block {
	ctx, cancel := g.ctx()
	defer cancel()
	rows, err := g.cfg.Shared.GuardBlocks(ctx, g.cfg.Now())
	if err != nil {
		g.cfg.Logger.Error("listing the shared guard's blocks", "err", err)
		return nil
	}
	out := make([]Block, 0, len(rows))
	for _, r := range rows {
		if _, ok := parseBlockName(r.Key); ok { // accounts are never blocked, only slowed
			out = append(out, Block{Addr: r.Key, Until: r.Until})
		}
	}
	return out
}

func (g *Guard) sharedLift(k netip.Prefix) bool {
	ctx, cancel := g.ctx()
	defer cancel()
	ok, err := g.cfg.Shared.GuardLift(ctx, blockName(k), g.cfg.Now())
	if err != nil {
		g.cfg.Logger.Error("lifting a block in the shared guard", "err", err)
		return false
	}
	return ok
}
