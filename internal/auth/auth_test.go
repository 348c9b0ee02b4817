package auth_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/clock"
)

// TestCheckPassword is the table of the password rules: each refused
// password names the rule that refused it (a piece of its message).
func TestCheckPassword(t *testing.T) {
	const (
		ok       = ""
		short    = "at least 12"
		long     = "at most 1024"
		leaked   = "leaked in data breaches"
		mail     = "your e-mail address"
		service  = `name of this service ("bindery")`
		oneChar  = "one character repeated"
		repeats  = "short sequence repeated"
		variety  = "too few different characters"
		sequence = "neighbouring keys"
		affixes  = "common password with digits or symbols added"
		encoding = "UTF-8"
	)
	// phrase returns a passphrase of n characters that repeats nothing.
	phrase := func(n int) string {
		var b strings.Builder
		for i := 1; b.Len() < n; i++ {
			fmt.Fprintf(&b, "%d ", i*7919)
		}
		return b.String()[:n]
	}
	cases := []struct {
		pw, email, rule string
	}{
		// Accepted: long enough, not known, no pattern.
		{"correct horse battery staple", "a@example.com", ok},
		{"twelve chars", "", ok},
		{"ÄÖÜäöüßéèêëà", "", ok}, // 12 characters, more bytes
		{"mañana-día-7", "", ok}, // counts characters, not bytes
		{phrase(1024), "", ok},   // long passphrases allowed
		{"no composition rules at all", "", ok},
		{"Tr0ub4dor&3 xylophone", "", ok},
		{"my cat is named bindery and likes tuna", "", ok}, // a context word in a long phrase
		{"jessica loves tea at four", "jessica.smith@example.com", ok},

		// Length and encoding.
		{"short", "", short},
		{"elevenchars", "", short},
		{phrase(1025), "", long},
		{"\xff\xfe invalid utf8 bytes", "", encoding},

		// The breached-password corpus, 12 characters and more.
		{"password1234", "", leaked},
		{"123456789012", "", leaked},
		{"passwordpassword", "", leaked},
		{"qwertyuiopasdfgh", "", leaked},
		{"baseball1234", "", leaked},
		{"Password 1234", "", leaked}, // separators left out
		{"abcdefghijkl", "", leaked},

		// Context words: the e-mail address, its words, the service.
		{"jessica.smith@example.com", "jessica.smith@example.com", mail},
		{"JESSICA.SMITH", "jessica.smith@example.com", mail},
		{"jessica2024!!", "jessica.smith@example.com", mail},
		{"bindery12345678", "", service},
		{"binderybindery", "", service},

		// Repetition and variety.
		{"ééééééééééééé", "", oneChar},
		{"tigertigertiger", "", repeats},
		{"xkcdxkcdxkcd", "", repeats},
		{"abcabcabcab1", "", variety},
		{"aabbaabbaabbc", "", variety},

		// Sequences: alphabet, digits, keyboard rows and columns.
		{"123456789013", "", sequence},
		{"poiuytrewq98", "", sequence},
		{"zaq1xsw2cde3vfr4", "", sequence},
		{"lmnopqrstuvw", "", sequence},

		// A common password with digits or symbols around it.
		{"password98765", "", affixes},
		{"P@ssw0rd2024!", "", affixes},
		{"!!monkey2024!!", "", affixes},
		{"Dragon_19871987", "", affixes},
	}
	for _, tc := range cases {
		err := auth.CheckPassword(tc.pw, tc.email)
		switch {
		case tc.rule == ok && err != nil:
			t.Errorf("CheckPassword(%q) = %v, want accepted", tc.pw, err)
		case tc.rule != ok && (err == nil || !strings.Contains(err.Error(), tc.rule)):
			t.Errorf("CheckPassword(%q) = %v, want refused by %q", tc.pw, err, tc.rule)
		}
		if err != nil && (bindery.ErrorCode(err) != bindery.EINVALID || strings.Contains(err.Error(), tc.pw)) {
			t.Errorf("CheckPassword(%q): error %q is not EINVALID or echoes the password", tc.pw, err)
		}
	}
}

// TestCommonPasswordsRefused: every entry of the list that is long enough
// to pass the length rule is refused for being common.
func TestCommonPasswordsRefused(t *testing.T) {
	refused := 0
	for _, pw := range auth.CommonPasswordsForTest() {
		if len([]rune(pw)) < auth.MinPasswordLength {
			continue
		}
		err := auth.CheckPassword(pw, "")
		if err == nil || !strings.Contains(err.Error(), "leaked in data breaches") {
			t.Errorf("common password %q: %v", pw, err)
		}
		refused++
	}
	if refused == 0 {
		t.Fatal("no common password of 12+ characters in the list; the check is untested")
	}
}

func TestHasher(t *testing.T) {
	h := auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1})
	ctx := context.Background()
	hash, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", hash)
	}
	other, _ := h.Hash(ctx, "correct horse battery staple")
	if other == hash {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery staple": true, "correct horse battery stapl": false, "": false} {
		if ok, err := h.Verify(ctx, pw, hash); ok != want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "plain"} {
		if ok, err := h.Verify(ctx, "x", bad); ok || err == nil {
			t.Errorf("Verify against %q = %v, %v; want an error", bad, ok, err)
		}
	}
}

// TestDefaultParamsMeetOWASP: at least OWASP's minimum for argon2id.
func TestDefaultParamsMeetOWASP(t *testing.T) {
	p := auth.DefaultParams
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads < 1 {
		t.Fatalf("DefaultParams %+v are below OWASP's m=19MiB, t=2, p=1", p)
	}
}

func newGuard(c *clock.Fake, capacity int) *auth.Guard {
	return auth.NewGuard(auth.GuardConfig{MaxFailures: 3, Window: 10 * time.Minute, BlockDuration: 5 * time.Minute, Capacity: capacity, Now: c.Now})
}

func TestGuardWindowSlides(t *testing.T) {
	for kind, newGuard := range guardKinds(t) {
		t.Run(kind, func(t *testing.T) {
			c := clock.NewFake(time.Unix(0, 0))
			g := newGuard(c)
			a := netip.MustParseAddr("192.0.2.1")
			for i := 0; i < 3; i++ {
				g.Failure(a, "x@example.com")
				c.Advance(4 * time.Minute)
			}
			// The first failure is now 12 minutes old: outside the window.
			if _, blocked := g.Failure(a, "x@example.com"); blocked {
				t.Fatal("failures outside the window counted")
			}
			if _, blocked := g.Failure(a, "x@example.com"); !blocked {
				t.Fatal("4 failures inside the window did not block")
			}
			if left, ok := g.Blocked(a); !ok || left != 5*time.Minute {
				t.Fatalf("Blocked = %v, %v", left, ok)
			}
			c.Advance(5 * time.Minute)
			if _, ok := g.Blocked(a); ok {
				t.Fatal("block did not expire")
			}
		})
	}
}

// TestGuardMemoryIsBounded: a million attacking addresses leave at most
// Capacity entries behind, and the most recent attacker is still tracked.
func TestGuardMemoryIsBounded(t *testing.T) {
	c := clock.NewFake(time.Unix(0, 0))
	g := newGuard(c, 1000)
	for i := 0; i < 200_000; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		for j := 0; j < 4; j++ {
			g.Failure(a, fmt.Sprintf("user%d@example.com", i))
		}
	}
	if n := g.Sizes(); n.Addrs > 1000 || n.Accounts > 1000 || n.Blocks > 1000 {
		t.Fatalf("sizes %+v exceed capacity 1000", n)
	}
	n := 199_999
	last := netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)})
	if _, ok := g.Blocked(last); !ok {
		t.Fatal("the most recent attacker is not blocked")
	}
}

// TestAccountSlowDownNotLockOut: failures on one account, from many
// addresses, slow that account down to at most 2 s — never more.
func TestAccountSlowDownNotLockOut(t *testing.T) {
	for kind, newGuard := range guardKinds(t) {
		t.Run(kind, func(t *testing.T) {
			c := clock.NewFake(time.Unix(0, 0))
			g := newGuard(c)
			acct := "victim@example.com"
			if d := g.AccountDelay(acct); d != 0 {
				t.Fatalf("fresh account delay %v", d)
			}
			var prev time.Duration
			for i := 0; i < 50; i++ {
				g.Failure(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), acct)
				d := g.AccountDelay(acct)
				if d < prev || d > 2*time.Second {
					t.Fatalf("after %d failures delay %v (previous %v)", i+1, d, prev)
				}
				prev = d
			}
			if prev != 2*time.Second {
				t.Fatalf("delay after 50 failures %v, want the 2 s cap", prev)
			}
			if g.AccountDelay("other@example.com") != 0 {
				t.Fatal("another account is slowed down")
			}
			c.Advance(11 * time.Minute)
			if d := g.AccountDelay(acct); d != 0 {
				t.Fatalf("delay after the window: %v", d)
			}
		})
	}
}

// TestLoginSlowsDownButAdmitsOwner: with the account under attack, the
// owner's correct password still signs in (after the delay).
func TestLoginSlowsDownButAdmitsOwner(t *testing.T) {
	st := newStore(t)
	c := clock.NewFake(time.Unix(1e9, 0))
	var slept []time.Duration
	svc, err := auth.NewService(context.Background(), auth.Config{
		Store: st, Hasher: auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1}), Now: c.Now,
		Guard: auth.NewGuard(auth.GuardConfig{MaxFailures: 5, Window: time.Hour, BlockDuration: time.Hour, Now: c.Now}),
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, nil, "owner@example.com", bindery.RoleAuthor, "correct horse battery staple", auth.Client{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		_, _, err := svc.Login(ctx, "owner@example.com", "guess number one", "", auth.Client{Addr: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})}, "")
		if bindery.ErrorCode(err) != bindery.EUNAUTHORIZED {
			t.Fatalf("attack %d: %v", i, err)
		}
	}
	u, _, err := svc.Login(ctx, "owner@example.com", "correct horse battery staple", "", auth.Client{Addr: netip.MustParseAddr("192.0.2.50")}, "")
	if err != nil || u.Email != "owner@example.com" {
		t.Fatalf("owner locked out: %v", err)
	}
	if last := slept[len(slept)-1]; last != 2*time.Second {
		t.Fatalf("owner waited %v, want the 2 s cap", last)
	}
}

func ExampleCheckPassword() {
	fmt.Println(auth.CheckPassword("Tr0ub4dor&3", ""))
	fmt.Println(auth.CheckPassword("correct horse battery staple", ""))
	// Output:
	// bindery error: code=invalid message=The password must be at least 12 characters long.
	// <nil>
}

func ExampleNewToken() {
	tok, hash := auth.NewToken(auth.APITokenPrefix)
	fmt.Println(strings.HasPrefix(tok, "bindery_pat_"), len(tok), len(hash))
	// Output: true 55 32
}

// TestCacheStalenessIsBounded: a revocation made behind the service's back
// (another process, such as `bindery sessions revoke --all`) applies
// within one second; one made through the service applies at once.
func TestCacheStalenessIsBounded(t *testing.T) {
	st := newStore(t)
	c := clock.NewFake(time.Unix(1e9, 0))
	svc, err := auth.NewService(context.Background(), auth.Config{Store: st, Hasher: auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1}), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, nil, "a@example.com", bindery.RoleAuthor, "correct horse battery staple", auth.Client{}); err != nil {
		t.Fatal(err)
	}
	login := func() string {
		_, tok, err := svc.Login(ctx, "a@example.com", "correct horse battery staple", "", auth.Client{}, "")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok := login()
	if _, err := svc.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteAllSessions(ctx); err != nil { // behind the service's back
		t.Fatal(err)
	}
	c.Advance(time.Second)
	if _, err := svc.Authenticate(ctx, tok); bindery.ErrorCode(err) != bindery.EUNAUTHORIZED {
		t.Fatalf("revoked elsewhere, 1 s later: %v, want unauthorized", err)
	}

	tok = login()
	p, err := svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.RevokeSession(ctx, p, p.Session.ID, auth.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok); bindery.ErrorCode(err) != bindery.EUNAUTHORIZED {
		t.Fatalf("revoked through the service: %v, want unauthorized at once", err)
	}
}
