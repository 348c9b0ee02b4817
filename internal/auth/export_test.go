package auth

// CommonPasswordsForTest returns the blocklist.
func CommonPasswordsForTest() []string {
	out := make([]string, 0, len(breachedPasswords))
	for p := range breachedPasswords {
		out = append(out, p)
	}
	return out
}

// GuardSizes are the entry counts of a Guard's tables.
type GuardSizes struct{ Addrs, Accounts, Blocks int }

// Sizes returns the table sizes, for the bounded-memory test.
func (g *Guard) Sizes() GuardSizes {
	g.mu.Lock()
	defer g.mu.Unlock()
	return GuardSizes{g.addrs.len(), g.accounts.len(), g.blocks.len()}
}
