package bindery

import (
	"context"
	"time"
)

// Audit actions. The audit log is append-only: the store refuses updates
// and deletes of existing rows (a database trigger), so an intruder with
// the application's credentials cannot quietly rewrite history.
const (
	AuditLoginSucceeded = "login.succeeded"
	AuditLoginFailed    = "login.failed"
	AuditLogout         = "logout"
	AuditAddressBlocked = "address.blocked"
	AuditAddressLifted  = "address.unblocked"
	AuditUserCreated    = "user.created"
	AuditRoleChanged    = "user.role_changed"
	AuditUserDeleted    = "user.deleted"
	AuditPasswordChange = "user.password_changed"
	AuditSessionRevoked = "session.revoked"
	AuditTokenCreated   = "token.created"
	AuditTokenRevoked   = "token.revoked"
	AuditSetupCompleted = "setup.completed"
	AuditBookCreated    = "book.created"
	AuditBookUpdated    = "book.updated"
	AuditBookDeleted    = "book.deleted"
	AuditMemberAdded    = "book.member_added"
	AuditMemberRemoved  = "book.member_removed"
	AuditFileWritten    = "book.file_written"
	AuditFileDeleted    = "book.file_deleted"
	AuditRunControl     = "run.control"
	AuditWSRefused      = "websocket.refused"
	AuditBookPublished  = "book.published"
)

// Audit actions of two-factor sign-in and of privacy rights.
const (
	AuditTwoFactorEnabled  = "2fa.enabled"
	AuditTwoFactorDisabled = "2fa.disabled"
	AuditTwoFactorReset    = "2fa.reset" // by an admin or the command line, for a lost device
	AuditRecoveryCodeUsed  = "2fa.recovery_code_used"
	AuditRecoveryCodesNew  = "2fa.recovery_codes_renewed"
	AuditUserExported      = "user.exported"
	AuditUserUpdated       = "user.updated"
	AuditCredentialSet     = "credential.set"
	AuditCredentialDeleted = "credential.deleted"
	AuditKeysRotated       = "keys.rotated"
)

// AuditEvent is one entry of the audit log. ActorID is nil for anonymous
// actors (failed logins, the set-up flow); ActorEmail keeps the address an
// anonymous actor claimed. Detail is free text and must hold no secret.
type AuditEvent struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Action     string    `json:"action"`
	ActorID    *int64    `json:"actor_id,omitempty"`
	ActorEmail string    `json:"actor_email,omitempty"`
	ClientAddr string    `json:"client_addr,omitempty"`
	Target     string    `json:"target,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

// AuditFilter narrows ListAudit. Zero fields do not filter. Limit is capped
// by the store (at most 1000, default 100); BeforeID pages backwards.
type AuditFilter struct {
	Action   string
	ActorID  int64
	Since    time.Time
	BeforeID int64
	Limit    int
}

// AuditStore persists the audit log, newest first on reads.
type AuditStore interface {
	AppendAudit(ctx context.Context, e *AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
}

// Store is everything the server needs from a database. Adapters
// (store/sqlite, later store/postgres) implement it and pass storetest.
type Store interface {
	UserStore
	TwoFactorStore
	CredentialStore
	SessionStore
	AuditStore
	BookStore
	RunStore
	EventStore
	PublicationStore
	Ping(ctx context.Context) error
	Close() error
}
