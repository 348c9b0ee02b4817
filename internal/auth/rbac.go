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

// SeesBook reports whether u may know that book b exists: admins see every
// book; everyone else the books they own or are a member of (CONTRACT.md
// §4). Whether u may then act on it is Can(u, perm): roles bound what
// anyone may do, and the object rule bounds where.
func SeesBook(u *bindery.User, b *bindery.Book, member bool) bool {
	return u != nil && b != nil && (IsAdmin(u) || b.OwnerID == u.ID || member)
}

// ManagesBook reports whether u may change the members of book b: its
// owner or an admin.
func ManagesBook(u *bindery.User, b *bindery.Book) bool {
	return u != nil && b != nil && (IsAdmin(u) || b.OwnerID == u.ID)
}
