package auth

import "github.com/bindery/bindery/internal/bindery"

// Can reports whether u may exercise permission p at all (the role check).
// Handlers that touch a book must additionally check the object (ownership
// or membership): roles alone do not say whose book it is (NOTES.md #10).
// A nil user can do nothing.
func Can(u *bindery.User, p bindery.Permission) bool {
	return u != nil && u.Role.Can(p)
}

// IsAdmin reports whether u is an administrator.
func IsAdmin(u *bindery.User) bool { return u != nil && u.Role == bindery.RoleAdmin }
