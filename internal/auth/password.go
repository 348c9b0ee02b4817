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
	"unicode"
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

//go:embed data/breached-passwords-12plus.txt
var breachedPasswordsFile []byte

// breachedPasswords is the blocklist, lower-cased: the 10,000 most common
// passwords and the breached passwords of 12 characters or more (the
// first list holds only ten of those; see data/README.md).
var breachedPasswords = func() map[string]struct{} {
	m := make(map[string]struct{}, 23000)
	for _, f := range [][]byte{commonPasswordsFile, breachedPasswordsFile} {
		sc := bufio.NewScanner(bytes.NewReader(f))
		for sc.Scan() {
			// In the form CheckPassword compares: NFKC, lower case.
			if w := strings.TrimSpace(sc.Text()); w != "" {
				m[strings.ToLower(norm.NFKC.String(w))] = struct{}{}
			}
		}
	}
	return m
}()

// ServiceName is the context word every password is checked against
// (NIST SP 800-63B: "context-specific words, such as the name of the
// service").
const ServiceName = "bindery"

// CheckPassword applies the NIST SP 800-63B rules to a new password and
// returns EINVALID with a message saying which rule refused it (never the
// password):
//
//   - length in characters: at least MinPasswordLength, at most
//     MaxPasswordLength;
//   - not a known breached or common password (data/, ~22,000 entries,
//     12,000 of them 12 characters or longer), also with spaces and
//     separators left out;
//   - not a common password with digits or symbols around it
//     ("password1234", "P@ssw0rd2024!": the letters, read back from
//     look-alike digits and symbols, are on the list);
//   - not a short unit repeated ("passwordpassword", "abcabcabcabc") nor
//     made of fewer than five different characters;
//   - not a sequence: consecutive letters or digits or a walk on the
//     keyboard, forward or back, in runs that leave fewer than four other
//     characters ("123456789012", "abcdefghijkl", "1qaz2wsx3edc");
//   - not built on a context word — the e-mail address, the words of its
//     local part, "bindery" — which leaves fewer than MinPasswordLength
//     characters once taken out.
//
// There are deliberately no composition rules ("one digit, one symbol"):
// they push people to predictable patterns. A long passphrase of words
// passes.
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
	if breached(lower) || breached(compact(lower)) {
		return bindery.Errorf(bindery.EINVALID, "That password is on a list of passwords leaked in data breaches or commonly used; choose another.")
	}
	if word, ok := contextWord(lower, email); ok {
		if word == ServiceName {
			return bindery.Errorf(bindery.EINVALID, "The password must not be built on the name of this service (%q): without it, it is too short.", ServiceName)
		}
		return bindery.Errorf(bindery.EINVALID, "The password must not be built on your e-mail address: without it, it is too short.")
	}
	if first, _ := utf8.DecodeRuneInString(pw); strings.Trim(pw, string(first)) == "" {
		return bindery.Errorf(bindery.EINVALID, "The password must not be one character repeated.")
	}
	if repeated(lower) {
		return bindery.Errorf(bindery.EINVALID, "The password must not be a short sequence repeated (like \"abcabcabcabc\" or \"passwordpassword\").")
	}
	if distinct(lower) < 5 {
		return bindery.Errorf(bindery.EINVALID, "The password uses too few different characters (at least 5 are needed).")
	}
	if sequential(lower) {
		return bindery.Errorf(bindery.EINVALID, "The password must not be a sequence of consecutive characters or neighbouring keys (like \"123456789012\", \"abcdefghijkl\" or \"qwertyuiop\").")
	}
	if commonWithAffixes(lower) {
		return bindery.Errorf(bindery.EINVALID, "The password is a common password with digits or symbols added (like \"password1234\"); choose another.")
	}
	return nil
}

func breached(s string) bool {
	_, ok := breachedPasswords[s]
	return ok
}

// compact drops spaces and the usual separators: "pass word 1234" is
// "password1234".
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_', '.', '\t':
			return -1
		}
		return r
	}, s)
}

// contextWord reports the context word the password is built on: the
// whole e-mail address, a word of at least four characters of its local
// part (split at . _ - +), or ServiceName, such that removing every
// occurrence of it leaves fewer than MinPasswordLength characters.
func contextWord(lower, email string) (string, bool) {
	words := []string{ServiceName}
	if email = strings.ToLower(email); email != "" {
		words = append(words, email)
		local, _, _ := strings.Cut(email, "@")
		words = append(words, local)
		words = append(words, strings.FieldsFunc(local, func(r rune) bool { return strings.ContainsRune("._-+", r) })...)
	}
	for _, w := range words {
		if utf8.RuneCountInString(w) < 4 || !strings.Contains(lower, w) {
			continue
		}
		if utf8.RuneCountInString(strings.ReplaceAll(lower, w, "")) < MinPasswordLength {
			return w, true
		}
	}
	return "", false
}

// repeated reports whether s is a unit of at most half its length
// repeated, the last repetition possibly cut short ("abcabcabcab").
func repeated(s string) bool {
	r := []rune(s)
	for p := 1; p <= len(r)/2; p++ {
		same := true
		for i := p; i < len(r) && same; i++ {
			same = r[i] == r[i-p]
		}
		if same {
			return true
		}
	}
	return false
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// sequences are the orders in which neighbouring characters make a
// predictable run: the alphabet, the digits (cyclic: 9 is followed by 0
// and 1 again), and the rows and columns of a QWERTY keyboard.
var sequences = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"01234567890",
	"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
	"1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik,", "9ol.", "0p;/",
}

// neighbours holds every ordered pair of characters that are next to each
// other, either way, in one of the sequences.
var neighbours = func() map[[2]rune]bool {
	m := map[[2]rune]bool{}
	for _, seq := range sequences {
		r := []rune(seq)
		for i := 1; i < len(r); i++ {
			m[[2]rune{r[i-1], r[i]}] = true
			m[[2]rune{r[i], r[i-1]}] = true
		}
	}
	return m
}()

// sequential reports whether s is mostly runs of neighbours: its
// characters outside runs of three or more are fewer than four.
func sequential(s string) bool {
	r := []rune(s)
	outside, run := 0, 1
	for i := 1; i <= len(r); i++ {
		if i < len(r) && neighbours[[2]rune{r[i-1], r[i]}] {
			run++
			continue
		}
		if run < 3 {
			outside += run
		}
		run = 1
	}
	return outside < 4
}

// leet reads look-alike digits and symbols back as letters.
var leet = strings.NewReplacer("@", "a", "4", "a", "8", "b", "(", "c", "3", "e", "6", "g", "1", "i", "!", "i", "|", "l", "0", "o", "$", "s", "5", "s", "7", "t", "+", "t", "2", "z")

// commonWithAffixes reports whether s is a common password made of
// letters with only digits and symbols before and after it
// ("password1234", "!!monkey2024", "p@ssw0rd99"): the stem from the first
// to the last letter, its look-alikes read back, is on the list.
func commonWithAffixes(s string) bool {
	first := strings.IndexFunc(s, unicode.IsLetter)
	last := strings.LastIndexFunc(s, unicode.IsLetter)
	if first < 0 {
		return false
	}
	_, size := utf8.DecodeRuneInString(s[last:])
	stem := leet.Replace(s[first : last+size])
	if strings.IndexFunc(stem, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return false // spaces or other words inside: not one word with affixes
	}
	return utf8.RuneCountInString(stem) >= 4 && breached(stem)
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
