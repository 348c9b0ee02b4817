package totp

import (
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary codes to Verify: it must not panic, must
// return lastStep on failure, and may accept only six digits (spaces
// aside) equal to the code of a step in the window after lastStep.
// Seeds: testdata/fuzz/FuzzVerify and below.
func FuzzVerify(f *testing.F) {
	at := time.Unix(1111111111, 0)
	for _, s := range []string{"050471", "050 471", "", "0504711", "05047a", "\x00", "999999", "１２３４５６"} {
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, code string, last int64) {
		step, ok := Verify(rfcSecret, code, at, last)
		if !ok {
			if step != last {
				t.Fatalf("failure returned step %d, want lastStep %d", step, last)
			}
			return
		}
		digits, valid := parseCode(code)
		if !valid {
			t.Fatalf("accepted %q, which parseCode refuses", code)
		}
		cur := Step(at)
		if step <= last || step < cur-Skew || step > cur+Skew {
			t.Fatalf("accepted step %d with lastStep %d at step %d", step, last, cur)
		}
		if hotp(rfcKey, uint64(step), Digits) != string(digits) {
			t.Fatalf("accepted %q for step %d, whose code differs", code, step)
		}
	})
}

// FuzzRecoveryCode feeds arbitrary input to MatchRecoveryCode: no panic,
// and a match only for input that normalises to the stored code.
func FuzzRecoveryCode(f *testing.F) {
	const code = "abcd-ef23-lmno-bb77"
	h, _ := HashRecoveryCode(code)
	for _, s := range []string{code, "ABCDEF23LMNOBB77", "", "----", "abcd-ef23-lmno-bb7\u212a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		i, ok := MatchRecoveryCode([]string{"", h}, input)
		if ok != (i == 1) {
			t.Fatalf("MatchRecoveryCode = %d, %v", i, ok)
		}
		if raw, valid := normaliseRecoveryCode(input); ok && (!valid || raw != "abcdef23lmnobb77") {
			t.Fatalf("%q matched but normalises to %q", input, raw)
		}
	})
}
