// Package totp implements two-factor sign-in with the time-based one-time
// passwords of authenticator apps (RFC 6238 over RFC 4226 HOTP), the
// single-use recovery codes that stand in for a lost phone, and the QR code
// that enrols an app.
//
// Parameters are fixed to what every authenticator app supports and most
// support only: HMAC-SHA-1, 6 digits, 30-second steps. SHA-1's collision
// weakness does not matter to HMAC.
//
// The package stores nothing. The caller keeps, per user, the secret
// (encrypted at rest with secretbox: whoever reads it can make codes), the
// last accepted step (see Verify), and the recovery-code hashes.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"strings"
	"time"
)

// Parameters of the codes; the otpauth URI leaves them at these defaults.
const (
	Digits = 6
	Period = 30 * time.Second
	// Skew is how many steps before and after now Verify accepts, for
	// clocks that drift and users who type slowly: ±30 s.
	Skew = 1
	// SecretBytes is the secret's length: 160 bits, the HMAC-SHA-1 block
	// output size RFC 4226 recommends.
	SecretBytes = 20
)

// b32 is the secret's encoding: RFC 4648 base32 without padding, what
// authenticator apps expect in the otpauth URI.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// ErrSecret is returned for a secret that is not base32 of at least 80 bits.
var ErrSecret = errors.New("totp: secret is not base32 of at least 10 bytes")

// NewSecret returns a new random secret of SecretBytes, base32-encoded
// without padding (32 characters).
func NewSecret() string {
	b := make([]byte, SecretBytes)
	rand.Read(b) // never fails: crypto/rand crashes the program rather than return weak bytes
	return b32.EncodeToString(b)
}

// decodeSecret accepts the secret as NewSecret makes it, and also lower
// case, with spaces, or padded, as people copy it. Secrets under 80 bits,
// the minimum of RFC 4226, are refused.
func decodeSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, secret))
	key, err := b32.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(key) < 10 {
		return nil, ErrSecret
	}
	return key, nil
}

// HOTP returns the 6-digit RFC 4226 one-time password of key for counter.
func HOTP(key []byte, counter uint64) string { return hotp(key, counter, Digits) }

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// hotp is RFC 4226 section 5.3 with any number of digits up to 8.
func hotp(key []byte, counter uint64, digits int) string {
	m := hmac.New(sha1.New, key)
	m.Write(binary.BigEndian.AppendUint64(nil, counter))
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	v := bin % pow10[digits]
	code := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		code[i] = byte('0' + v%10)
		v /= 10
	}
	return string(code)
}

// Step returns the RFC 6238 time step of t: whole periods since the Unix
// epoch.
func Step(t time.Time) int64 {
	s := t.Unix()
	p := int64(Period / time.Second)
	if s < 0 {
		return (s - p + 1) / p // floor
	}
	return s / p
}

// Code returns the code an authenticator app shows at t: for tests, and
// for nothing else on a server.
func Code(secret string, t time.Time) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	step := Step(t)
	if step < 0 {
		return "", errors.New("totp: no code before 1970")
	}
	return hotp(key, uint64(step), Digits), nil
}

// Verify checks a code typed by the user against secret at now, and
// returns the step to store as the user's new lastStep.
//
// A code is accepted when it matches a step within Skew of now that is
// greater than lastStep; Verify then returns that step and true. Otherwise
// it returns lastStep unchanged and false, so the caller may store the
// returned step in either case. Store 0 as lastStep at enrolment.
//
// Why lastStep is a parameter: a code stays valid for up to 90 seconds,
// and someone who sees it (over a shoulder, from a phishing page relaying
// it, in a log) could sign in with it again. Refusing every step not after
// the last accepted one makes each code single-use and the codes strictly
// increasing; taking it as an argument makes it impossible to call Verify
// without deciding what it is. Two concurrent sign-ins with one code can
// both pass Verify: store the step with a compare-and-swap
// (`UPDATE … SET totp_step = new WHERE id = ? AND totp_step = old`) and
// let only the one that changed the row in.
//
// The code may contain spaces (apps show "123 456"); anything but six
// digits is refused. Candidates are compared in constant time, and all of
// them are computed whatever matches. Verify does not limit attempts: a
// guess succeeds with probability 3 in a million, so the caller must rate
// limit (the sign-in guard) and count failures per account.
func Verify(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	c, valid := parseCode(code)
	key, err := decodeSecret(secret)
	if !valid || err != nil {
		return lastStep, false
	}
	cur := Step(now)
	match := 0
	for s := cur - Skew; s <= cur+Skew; s++ {
		// #nosec G115 -- s is negative only when now is before 1970 plus Skew steps; hotp then computes a code for a counter no authenticator reaches, and lastStep (≥ 0) refuses it anyway
		eq := subtle.ConstantTimeCompare([]byte(hotp(key, uint64(s), Digits)), c)
		fresh := 0
		if s > lastStep {
			fresh = 1
		}
		if eq&fresh == 1 {
			step, match = s, 1 // the highest matching step wins
		}
	}
	if match == 0 {
		return lastStep, false
	}
	return step, true
}

// parseCode returns the Digits digits of s, ignoring spaces, or false.
func parseCode(s string) ([]byte, bool) {
	if len(s) > 2*Digits {
		return nil, false
	}
	c := make([]byte, 0, Digits)
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == ' ':
		case b >= '0' && b <= '9' && len(c) < Digits:
			c = append(c, b)
		default:
			return nil, false
		}
	}
	if len(c) != Digits {
		return nil, false
	}
	return c, true
}
