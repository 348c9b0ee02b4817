package totp

import (
	"regexp"
	"strings"
	"testing"
)

var codeForm = regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)

func TestNewRecoveryCodes(t *testing.T) {
	codes, hashes := NewRecoveryCodes()
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("got %d codes, %d hashes; want %d", len(codes), len(hashes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !codeForm.MatchString(c) {
			t.Errorf("code %q is not xxxx-xxxx-xxxx-xxxx base32", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		if strings.Contains(hashes[i], strings.ReplaceAll(c, "-", "")) {
			t.Errorf("hash %q contains its code", hashes[i])
		}
		if h, ok := HashRecoveryCode(c); !ok || h != hashes[i] {
			t.Errorf("HashRecoveryCode(codes[%d]) != hashes[%d]", i, i)
		}
		if got, ok := MatchRecoveryCode(hashes, c); !ok || got != i {
			t.Errorf("MatchRecoveryCode(codes[%d]) = %d, %v", i, got, ok)
		}
	}
}

func TestMatchRecoveryCodeInputForms(t *testing.T) {
	const code = "abcd-ef23-lmno-bb77"
	h, _ := HashRecoveryCode(code)
	hashes := []string{"", "not-a-hash", h}
	for _, in := range []string{
		code,
		"ABCD-EF23-LMNO-BB77",
		"abcdef23lmnobb77",
		" abcd ef23 lmno bb77 ",
		"abcd-ef23-1mn0-8b77", // 1, 0, 8 read as l, o, b
	} {
		if i, ok := MatchRecoveryCode(hashes, in); !ok || i != 2 {
			t.Errorf("MatchRecoveryCode(%q) = %d, %v; want 2, true", in, i, ok)
		}
	}
	for _, in := range []string{"", "abcd-ef23-lmno-bb7", "abcd-ef23-lmno-bb777", "abcd-ef23-lmno-bb76", "abcd_ef23_lmno_bb77", "abcd-ef23-lmno-bb99", strings.Repeat("a", 1000)} {
		if i, ok := MatchRecoveryCode(hashes, in); ok || i != -1 {
			t.Errorf("MatchRecoveryCode(%q) = %d, %v; want -1, false", in, i, ok)
		}
	}
	if _, ok := MatchRecoveryCode(nil, code); ok {
		t.Error("matched against no hashes")
	}
}

func TestRedeemRecoveryCodeIsSingleUse(t *testing.T) {
	codes, hashes := NewRecoveryCodes()
	remaining, ok := RedeemRecoveryCode(hashes, codes[3])
	if !ok || len(remaining) != RecoveryCodeCount-1 {
		t.Fatalf("first use: %d remaining, %v", len(remaining), ok)
	}
	if &remaining[0] == &hashes[0] {
		t.Error("RedeemRecoveryCode reused the caller's slice")
	}
	if _, ok := RedeemRecoveryCode(remaining, codes[3]); ok {
		t.Error("a used code was accepted again")
	}
	for i, c := range codes {
		if i == 3 {
			continue
		}
		if _, ok := MatchRecoveryCode(remaining, c); !ok {
			t.Errorf("code %d lost by redeeming code 3", i)
		}
	}
	if got, ok := RedeemRecoveryCode(hashes, "wrong"); ok || len(got) != len(hashes) {
		t.Errorf("wrong code: %d remaining, %v", len(got), ok)
	}
}
