package bindery

import "context"

// Store is everything the server needs from a database. Adapters
// (store/sqlite, store/postgres) implement it and pass the same storetest
// suite. Each part is declared beside its domain types (UserStore in
// user.go, AuditStore and AuditChain in audit.go, …).
type Store interface {
	UserStore
	TwoFactorStore
	CredentialStore
	SessionStore
	AuditStore
	AuditChain
	BookStore
	BookFileStore
	InvitationStore
	RunStore
	EventStore
	PublicationStore
	GuardStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// CheckWritable commits a trivial write: an error means the database
	// cannot store anything now (disk full, read-only). For readiness.
	CheckWritable(ctx context.Context) error
	Close() error
}
