package totp_test

import (
	"fmt"
	"time"

	"github.com/bindery/bindery/internal/totp"
)

func ExampleVerify() {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // stored encrypted, per user
	now := time.Unix(1111111111, 0)
	var lastStep int64 // 0 at enrolment; stored per user after each sign-in

	step, ok := totp.Verify(secret, "050 471", now, lastStep)
	fmt.Println(step, ok)
	lastStep = step

	// The same code a second time is a replay.
	step, ok = totp.Verify(secret, "050471", now.Add(10*time.Second), lastStep)
	fmt.Println(step, ok)
	// Output:
	// 37037037 true
	// 37037037 false
}

func ExampleURI() {
	fmt.Println(totp.URI("JBSWY3DPEHPK3PXP", "ada@example.org"))
	// Output:
	// otpauth://totp/Bindery:ada@example.org?secret=JBSWY3DPEHPK3PXP&issuer=Bindery
}

func ExampleHOTP() {
	fmt.Println(totp.HOTP([]byte("12345678901234567890"), 0))
	// Output:
	// 755224
}

func ExampleMatchRecoveryCode() {
	// At enrolment: show codes once, store hashes.
	hash, _ := totp.HashRecoveryCode("abcd-ef23-lmno-bb77")
	hashes := []string{hash}

	// At sign-in the user types it however they like.
	i, ok := totp.MatchRecoveryCode(hashes, "ABCD EF23 LMNO BB77")
	fmt.Println(i, ok)

	remaining, ok := totp.RedeemRecoveryCode(hashes, "abcdef23lmnobb77")
	fmt.Println(len(remaining), ok)
	_, ok = totp.RedeemRecoveryCode(remaining, "abcdef23lmnobb77")
	fmt.Println(ok)
	// Output:
	// 0 true
	// 0 true
	// false
}
