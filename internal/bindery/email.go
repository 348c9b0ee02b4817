package bindery

import (
	"net/mail"
	"strings"
)

// MaxEmailLength bounds stored e-mail addresses (RFC 5321's path limit).
const MaxEmailLength = 254

// NormalizeEmail trims and lower-cases an address and checks that it is a
// single plain address (no display name) of sensible length. It returns an
// EINVALID error otherwise.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > MaxEmailLength {
		return "", Errorf(EINVALID, "A valid e-mail address is required.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", Errorf(EINVALID, "A valid e-mail address is required.")
	}
	return s, nil
}
