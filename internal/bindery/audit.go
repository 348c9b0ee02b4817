package bindery

import (
	"context"
	"strconv"
	"time"
)

// Audit actions. The audit log is append-only and tamper-evident: the
// store refuses updates and deletes other than retention's oldest-first
// purge (database triggers), and every entry carries a keyed hash chained
// to the previous one (AuditChain), so that an edit or a deletion made
// behind the application's back is detected by VerifyAudit.
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
	// Invitations: made and withdrawn by a book's manager (target the
	// book: the address is not logged), declined by the invitee (target
	// the invitee). Accepting is AuditMemberAdded.
	AuditMemberInvited      = "book.member_invited"
	AuditInvitationRevoked  = "book.invitation_withdrawn"
	AuditInvitationDeclined = "book.invitation_declined"
	AuditFileWritten        = "book.file_written"
	AuditFileDeleted        = "book.file_deleted"
	AuditRunControl         = "run.control"
	AuditWSRefused          = "websocket.refused"
	AuditBookPublished      = "book.published"
	AuditPurged             = "audit.purged"   // retention removed the oldest entries
	AuditExported           = "audit.exported" // someone took a copy of the log
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

// AuditEvent is one entry of the audit log.
//
// It holds no personal data: a person is referred to by account id
// (ActorID, or a Target of UserTarget(id)), never by e-mail address or
// name, so that deleting an account leaves the log intact and anonymous.
// ActorID is nil for anonymous actors (failed sign-ins, the set-up flow);
// Subject then holds a pseudonym of the account they claimed ("acct:" and
// 16 hex digits of a keyed hash of the address): failures against one
// account can be correlated, and matched to a person by whoever holds the
// key and the address, but the address cannot be read back. Detail is free
// text and must hold no secret and no address.
//
// PrevHash and Hash are set by the store: the chain (see AuditChain).
// PrevHash is "" for the first entry ever written; both are always
// serialised, so that every line of an export can be checked.
type AuditEvent struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Action     string    `json:"action"`
	ActorID    *int64    `json:"actor_id,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	ClientAddr string    `json:"client_addr,omitempty"`
	Target     string    `json:"target,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// UserTarget is how the audit log names account id as a Target:
// "user:<id>".
func UserTarget(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// AuditFilter narrows ListAudit and EachAudit. Zero fields do not filter;
// set fields combine with AND. Limit is capped by the store (at most 1000,
// default 100) and BeforeID pages backwards; EachAudit ignores both.
type AuditFilter struct {
	Action   string
	ActorID  int64
	Since    time.Time
	BeforeID int64
	Limit    int

	// About, when set, keeps only the entries about one person (for a
	// data-subject export).
	About *AuditPerson
}

// AuditPerson selects the entries about one person: those they made
// (actor_id = UserID), those whose target is their account (target =
// UserTarget(UserID)), and those whose subject is one of Subjects — the
// pseudonyms of their address under the current and previous keys, which
// tag failed sign-ins that claimed their account. UserID 0 matches no
// actor or target (only Subjects).
type AuditPerson struct {
	UserID   int64
	Subjects []string
}

// AuditStore persists the audit log.
type AuditStore interface {
	// AppendAudit appends e to the chain and sets its ID, PrevHash and
	// Hash. At is stored as given.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns matching entries, newest first, at most f.Limit.
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
	// EachAudit calls fn with every matching entry, oldest first (Limit
	// and BeforeID ignored), for exports. It stops at fn's first error
	// and returns it. No database connection is held while fn runs, so fn
	// may be slow (a network client) or use the store.
	EachAudit(ctx context.Context, f AuditFilter, fn func(*AuditEvent) error) error
}

// AuditChain is the tamper evidence of the audit log, and its retention.
type AuditChain interface {
	// VerifyAudit recomputes the whole chain, oldest first, from the
	// retention anchor to the recorded head. A broken chain is not an
	// error: it is reported in the result's Broken. Errors are for what
	// prevents checking (the database, an undecryptable chain key).
	VerifyAudit(ctx context.Context) (AuditVerification, error)
	// PurgeAudit deletes the entries older than before, oldest first and
	// only as a prefix of the chain (it stops at the first entry not older
	// than before), moves the anchor past them, and appends an
	// AuditPurged entry stamped at: all in one transaction. It returns how
	// many entries it deleted; with none, nothing is appended.
	PurgeAudit(ctx context.Context, before, at time.Time) (int, error)
}

// AuditVerification is the result of VerifyAudit.
type AuditVerification struct {
	// Entries is how many entries were checked (up to the first break).
	Entries int `json:"entries"`
	// AnchorID is the id the chain starts from: 1, or the first entry
	// retention kept.
	AnchorID int64 `json:"anchor_id"`
	// HeadID and Head are the last entry's id and hash: the value to copy
	// somewhere the database's writers cannot reach, so that a later
	// rewrite by someone holding the key too is still detected.
	HeadID int64  `json:"head_id"`
	Head   string `json:"head"`
	// Broken is the first break, nil when the whole chain verifies.
	Broken *AuditBreak `json:"broken,omitempty"`
}

// OK reports whether the chain verified.
func (v AuditVerification) OK() bool { return v.Broken == nil }

// AuditBreak is where and why a chain failed to verify.
type AuditBreak struct {
	// ID is the first entry that does not verify; for a truncated tail,
	// the first missing id.
	ID     int64  `json:"id"`
	Reason string `json:"reason"` // one of the AuditBreak… reasons
	Detail string `json:"detail"` // for people
}

// Reasons of an AuditBreak.
const (
	// The entry's content (any field, or its link) was changed.
	AuditBreakEdited = "edited"
	// Entries before this one are missing: deleted from the middle, or
	// from the start past the retention anchor.
	AuditBreakMissing = "missing entries before it"
	// Entries after the last one are missing.
	AuditBreakTruncated = "truncated tail"
	// The anchor and head record itself was changed or removed.
	AuditBreakAnchor = "anchor altered"
)
