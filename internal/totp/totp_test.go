package totp

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// The RFC test secret: the ASCII digits "12345678901234567890".
var (
	rfcKey    = []byte("12345678901234567890")
	rfcSecret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(rfcKey)
)

// RFC 4226 Appendix D.
func TestHOTPRFC4226(t *testing.T) {
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for counter, w := range want {
		if got := HOTP(rfcKey, uint64(counter)); got != w {
			t.Errorf("HOTP(counter %d) = %s, want %s", counter, got, w)
		}
	}
}

// RFC 6238 Appendix B, the SHA-1 rows (8 digits); a 6-digit code is the
// last six of them.
func TestTOTPRFC6238(t *testing.T) {
	tests := []struct {
		unix int64
		step int64
		want string
	}{
		{59, 0x1, "94287082"},
		{1111111109, 0x23523EC, "07081804"},
		{1111111111, 0x23523ED, "14050471"},
		{1234567890, 0x273EF07, "89005924"},
		{2000000000, 0x3F940AA, "69279037"},
		{20000000000, 0x27BC86AA, "65353130"},
	}
	for _, tt := range tests {
		now := time.Unix(tt.unix, 0)
		if got := Step(now); got != tt.step {
			t.Errorf("Step(%d) = %#x, want %#x", tt.unix, got, tt.step)
		}
		if got := hotp(rfcKey, uint64(Step(now)), 8); got != tt.want {
			t.Errorf("8-digit TOTP at %d = %s, want %s", tt.unix, got, tt.want)
		}
		code, err := Code(rfcSecret, now)
		if err != nil || code != tt.want[2:] {
			t.Errorf("Code at %d = %s, %v; want %s", tt.unix, code, err, tt.want[2:])
		}
		if step, ok := Verify(rfcSecret, tt.want[2:], now, 0); !ok || step != tt.step {
			t.Errorf("Verify at %d = %#x, %v; want %#x, true", tt.unix, step, ok, tt.step)
		}
	}
}

func TestStepBeforeEpoch(t *testing.T) {
	for unix, want := range map[int64]int64{-1: -1, -30: -1, -31: -2, 0: 0, 29: 0, 30: 1} {
		if got := Step(time.Unix(unix, 0)); got != want {
			t.Errorf("Step(%d) = %d, want %d", unix, got, want)
		}
	}
}

var now = time.Date(2026, 5, 4, 10, 20, 15, 0, time.UTC)

func mustCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := Code(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifySkewWindow(t *testing.T) {
	secret := NewSecret()
	for off := -3; off <= 3; off++ {
		code := mustCode(t, secret, now.Add(time.Duration(off)*Period))
		step, ok := Verify(secret, code, now, 0)
		if want := off >= -Skew && off <= Skew; ok != want {
			t.Errorf("code %d steps away: ok = %v, want %v", off, ok, want)
		} else if ok && step != Step(now)+int64(off) {
			t.Errorf("code %d steps away: step = %d, want %d", off, step, Step(now)+int64(off))
		}
	}
}

func TestVerifyRefusesReplay(t *testing.T) {
	secret := NewSecret()
	code := mustCode(t, secret, now)
	last, ok := Verify(secret, code, now, 0)
	if !ok || last != Step(now) {
		t.Fatalf("first use: %d, %v", last, ok)
	}
	// The same code again, within its validity: refused, lastStep kept.
	for _, at := range []time.Time{now, now.Add(Period)} {
		if got, ok := Verify(secret, code, at, last); ok || got != last {
			t.Errorf("replay at +%v: Verify = %d, %v; want %d, false", at.Sub(now), got, ok, last)
		}
	}
	// An older, still-in-window code: refused too.
	prev := mustCode(t, secret, now.Add(-Period))
	if _, ok := Verify(secret, prev, now, last); ok {
		t.Error("code of an earlier step accepted after a later one")
	}
	// The next step's code is fresh.
	next := mustCode(t, secret, now.Add(Period))
	if got, ok := Verify(secret, next, now.Add(Period), last); !ok || got != last+1 {
		t.Errorf("next code: Verify = %d, %v; want %d, true", got, ok, last+1)
	}
}

func TestVerifyRefusesBadInput(t *testing.T) {
	secret := NewSecret()
	code := mustCode(t, secret, now)
	tests := []struct {
		name, secret, code string
		ok                 bool
	}{
		{"good", secret, code, true},
		{"spaces", secret, code[:3] + " " + code[3:], true},
		{"lower-case secret", strings.ToLower(secret), code, true},
		{"wrong code", secret, wrongCode(code), false},
		{"empty", secret, "", false},
		{"five digits", secret, code[:5], false},
		{"seven digits", secret, code + "0", false},
		{"letter", secret, code[:5] + "a", false},
		{"dash", secret, code[:3] + "-" + code[3:], false},
		{"full-width digits", secret, "１２３４５６", false},
		{"bad secret", "not base32!", code, false},
		{"short secret", "GEZDGNBV", code, false},
	}
	for _, tt := range tests {
		step, ok := Verify(tt.secret, tt.code, now, 7)
		if ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
		}
		if !ok && step != 7 {
			t.Errorf("%s: step = %d after a failure, want lastStep 7", tt.name, step)
		}
	}
}

func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestNewSecret(t *testing.T) {
	s := NewSecret()
	if len(s) != 32 || strings.Contains(s, "=") {
		t.Errorf("NewSecret = %q, want 32 base32 characters without padding", s)
	}
	key, err := decodeSecret(s)
	if err != nil || len(key) != SecretBytes {
		t.Errorf("decodeSecret = %d bytes, %v", len(key), err)
	}
	if NewSecret() == s {
		t.Error("NewSecret returned the same secret twice")
	}
}

func TestDecodeSecretForms(t *testing.T) {
	for _, form := range []string{rfcSecret, strings.ToLower(rfcSecret), rfcSecret[:4] + " " + rfcSecret[4:], rfcSecret + "===="} {
		key, err := decodeSecret(form)
		if err != nil || string(key) != string(rfcKey) {
			t.Errorf("decodeSecret(%q) = %q, %v", form, key, err)
		}
	}
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]string{
		"123456":        "123456",
		" 123 456 ":     "123456",
		"1 2 3 4 5 6":   "123456",
		"12345":         "",
		"1234567":       "",
		"123456 7":      "",
		"12345x":        "",
		"             ": "",
	} {
		got, ok := parseCode(in)
		if ok != (want != "") || string(got) != want {
			t.Errorf("parseCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
