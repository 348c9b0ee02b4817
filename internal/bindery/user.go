package bindery

import (
	"context"
	"time"
)

// User is an account. Email is stored lower-cased and trimmed
// (NormalizeEmail) so that look-ups and the brute-force limiter agree on
// who an address is.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"` // PHC-format argon2id hash; never serialised
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// UserStore persists users.
//
// Every method returns an *Error with ENOTFOUND when the user does not
// exist and ECONFLICT when an e-mail address is taken; never (nil, nil).
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error
	UserByID(ctx context.Context, id int64) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)
	UpdateUserRole(ctx context.Context, id int64, role Role, at time.Time) error
	UpdateUserPassword(ctx context.Context, id int64, hash string, at time.Time) error
	// DeleteUser removes the user together with its sessions and API
	// tokens (the store cascades).
	DeleteUser(ctx context.Context, id int64) error
}
