package bindery

// Role is a user's role. The set is closed: a value outside it is refused
// at every boundary (ParseRole) and grants nothing (Role.Can).
type Role string

// The roles of CONTRACT.md §4.
const (
	RoleAdmin  Role = "admin"
	RoleAuthor Role = "author"
	RoleEditor Role = "editor"
	RoleViewer Role = "viewer"
)

// Roles lists every role, most privileged first.
var Roles = []Role{RoleAdmin, RoleAuthor, RoleEditor, RoleViewer}

// Permission is an action on books.
type Permission string

// The permissions of CONTRACT.md §4.
const (
	PermRead    Permission = "read"
	PermWrite   Permission = "write"
	PermDelete  Permission = "delete"
	PermPublish Permission = "publish"
)

// Permissions lists every permission.
var Permissions = []Permission{PermRead, PermWrite, PermDelete, PermPublish}

// rolePermissions is the role × permission table of CONTRACT.md §4, the
// single source of truth for what a role may do. Anything not listed is
// denied.
var rolePermissions = map[Role]map[Permission]bool{
	RoleAdmin:  {PermRead: true, PermWrite: true, PermDelete: true, PermPublish: true},
	RoleAuthor: {PermRead: true, PermWrite: true, PermPublish: true},
	RoleEditor: {PermRead: true, PermWrite: true},
	RoleViewer: {PermRead: true},
}

// Can reports whether role r holds permission p. Unknown roles and unknown
// permissions hold nothing (deny by default).
func (r Role) Can(p Permission) bool { return rolePermissions[r][p] }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { _, ok := rolePermissions[r]; return ok }

// ParseRole returns the Role named s, or an EINVALID error listing the roles.
func ParseRole(s string) (Role, error) {
	if r := Role(s); r.Valid() {
		return r, nil
	}
	return "", Errorf(EINVALID, "Unknown role %q: use admin, author, editor or viewer.", s)
}
