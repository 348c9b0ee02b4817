// Package auth holds Bindery's authentication and authorisation logic:
// password hashing and policy, sessions, API tokens, the first-admin set-up
// token, the brute-force guard, and the permission checks. It talks to the
// database only through the bindery store interfaces.
package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/bindery"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Password length limits (NIST SP 800-63B §5.1.1.2: at least 8, we ask 12;
// at least 64 must be allowed, we allow 1024 characters). The upper bound
// only keeps hashing cost and request sizes sane.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 1024
)

//go:embed data/common-passwords-10k.txt
var commonPasswordsFile []byte

// commonPasswords is the blocklist, lower-cased.
var commonPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsFile))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			m[strings.ToLower(w)] = struct{}{}
		}
	}
	return m
}()

// CheckPassword applies the NIST SP 800-63B rules to a new password: length
// in characters, not on the common-password list, not the account's own
// e-mail address, not one character repeated. There are deliberately no
// composition rules (no "one digit, one symbol"): they push people to
// predictable patterns. The error is EINVALID with a message the user can
// act on, and never contains the password.
func CheckPassword(password, email string) error {
	if !utf8.ValidString(password) {
		return bindery.Errorf(bindery.EINVALID, "The password must be valid UTF-8 text.")
	}
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return bindery.Errorf(bindery.EINVALID, "The password must be at least %d characters long.", MinPasswordLength)
	}
	if n > MaxPasswordLength {
		return bindery.Errorf(bindery.EINVALID, "The password must be at most %d characters long.", MaxPasswordLength)
	}
	lower := strings.ToLower(pw)
	if _, common := commonPasswords[lower]; common {
		return bindery.Errorf(bindery.EINVALID, "That password is on a list of commonly used passwords; choose another.")
	}
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	if email != "" && (lower == strings.ToLower(email) || (len(local) >= 4 && lower == local)) {
		return bindery.Errorf(bindery.EINVALID, "The password must not be your e-mail address.")
	}
	if first, _ := utf8.DecodeRuneInString(pw); strings.Trim(pw, string(first)) == "" {
		return bindery.Errorf(bindery.EINVALID, "The password must not be one character repeated.")
	}
	return nil
}

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams exceed OWASP's first argon2id recommendation (m=19 MiB,
// t=2, p=1) by one pass: about 50 ms on a 2-core server, slow enough to
// make offline guessing expensive, fast enough for interactive sign-in,
// and small enough in memory that concurrent logins cannot exhaust RAM.
var DefaultParams = Params{Memory: 19 * 1024, Time: 3, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// Hasher hashes and verifies passwords with argon2id. At most
// runtime.NumCPU() hashes run at once: argon2 is deliberately expensive,
// and without the bound a burst of logins is a memory and CPU exhaustion
// attack.
type Hasher struct {
	Params   Params
	sem      chan struct{}
	inFlight atomic.Int32
	verifies atomic.Int64 // count of Verify calls, observed by tests
}

// NewHasher returns a Hasher using p.
func NewHasher(p Params) *Hasher {
	return &Hasher{Params: p, sem: make(chan struct{}, runtime.NumCPU())}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		h.inFlight.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release ends a hash. Each argon2id run allocates Params.Memory (19 MiB by
// default) that is garbage right after; when the last running hash ends,
// the memory is handed back to the operating system in the background, so
// a burst of sign-ins does not leave the server's resident size inflated
// until the next natural collection.
func (h *Hasher) release() {
	<-h.sem
	if h.inFlight.Add(-1) == 0 && h.Params.Memory >= 4096 {
		go debug.FreeOSMemory()
	}
}

// Hash returns the PHC string of password under a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.Params
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC string encoded, with
// the parameters recorded in it, comparing in constant time. A malformed
// hash is an error, never a match.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	h.verifies.Add(1)
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, uint32(len(want))) // #nosec G115 -- decodeHash accepts keys of 16 to 128 bytes only
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Verifications returns how many times Verify ran. Tests use it to prove
// that unknown accounts cost a verification too.
func (h *Hasher) Verifications() int64 { return h.verifies.Load() }

// maxHashMemory refuses absurd parameters in a stored hash (a corrupted or
// planted row must not make one verification allocate gigabytes).
const maxHashMemory = 1 << 20 // KiB = 1 GiB

func decodeHash(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Memory > maxHashMemory || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
		return Params{}, nil, nil, fmt.Errorf("bad argon2 parameters")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, fmt.Errorf("bad argon2 salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return Params{}, nil, nil, fmt.Errorf("bad argon2 key")
	}
	return p, salt, key, nil
}
