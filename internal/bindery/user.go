package bindery

import (
	"context"
	"time"
)

// User is an account. Email is stored lower-cased and trimmed
// (NormalizeEmail) so that look-ups and the brute-force limiter agree on
// who an address is.
//
// Email and Name are personal data: stores keep them encrypted at rest
// (the e-mail with a keyed blind index for look-ups), so that a copy of
// the database alone reveals nobody.
type User struct {
	ID           int64     `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"-"`          // PHC-format argon2id hash; never serialised
	TwoFactor    bool      `json:"two_factor"` // TOTP sign-in is on
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// MaxNameLength bounds a display name, in bytes.
const MaxNameLength = 200

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
	UpdateUserName(ctx context.Context, id int64, name string, at time.Time) error
	// DeleteUser removes the user together with its sessions and API
	// tokens (the store cascades).
	DeleteUser(ctx context.Context, id int64) error
}

// TwoFactor is the TOTP state of an account. Secret is set from enrolment
// on; the factor is required at sign-in only once EnabledAt is set.
// LastStep is the last accepted time step: a code is never accepted twice.
type TwoFactor struct {
	Secret        string
	EnabledAt     *time.Time
	LastStep      int64
	RecoveryCodes int // unused recovery codes left
}

// TwoFactorStore persists second factors. Secrets are encrypted at rest;
// recovery codes are stored only as hashes.
type TwoFactorStore interface {
	TwoFactorOf(ctx context.Context, userID int64) (*TwoFactor, error)
	// SetTwoFactorSecret starts an enrolment; ECONFLICT if already on.
	SetTwoFactorSecret(ctx context.Context, userID int64, secret string, at time.Time) error
	// EnableTwoFactor finishes it: step is the time step of the code that
	// proved the authenticator, recoveryHashes replace all recovery codes.
	EnableTwoFactor(ctx context.Context, userID int64, step int64, recoveryHashes []string, at time.Time) error
	DisableTwoFactor(ctx context.Context, userID int64, at time.Time) error
	ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string) error
	// UseTwoFactorStep and UseRecoveryCode are atomic check-and-consume:
	// true for exactly one caller.
	UseTwoFactorStep(ctx context.Context, userID int64, step int64) (bool, error)
	UseRecoveryCode(ctx context.Context, userID int64, hash string) (bool, error)
	// UseChallenge records the sign-in challenge whose id hashes to
	// idHash as used until expiresAt: true for exactly one caller, false
	// for every later one (until expiresAt). Records expired at now are
	// dropped on the way, so the store holds only unexpired ones.
	UseChallenge(ctx context.Context, idHash []byte, expiresAt, now time.Time) (bool, error)
}

// CredentialStore keeps third-party credentials entered through the API
// (the Ideogram key), encrypted at rest.
type CredentialStore interface {
	PutCredential(ctx context.Context, name, value string, at time.Time) error
	// Credential returns the value and when it was set, or ENOTFOUND.
	Credential(ctx context.Context, name string) (string, time.Time, error)
	DeleteCredential(ctx context.Context, name string) error
}
