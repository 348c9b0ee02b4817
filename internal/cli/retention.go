package cli

import (
	"context"
	"time"

	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/catalog"
)

// retention is how long the server keeps what expires: audit entries
// (BINDERY_AUDIT_RETENTION) and run events (BINDERY_EVENT_RETENTION). A
// zero duration keeps that kind forever.
type retention struct {
	audit, events time.Duration
	// shared, when nodes share storage, has its replaced book files
	// collected (bookfs.Shared.Collect) once they are blobGrace old, and
	// editions their replaced editions (catalog.CollectEditions).
	shared   *bookfs.Shared
	editions *catalog.Catalog
}

// blobGrace is how long a replaced or deleted version of a book file, or
// a replaced edition, stays in shared storage: longer than any request or run takes between
// reading a pointer row and opening its blob (package blob).
const blobGrace = time.Hour

// purger is what purge deletes through.
type purger interface {
	PurgeAudit(ctx context.Context, before, at time.Time) (int, error)
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)
}

// purge deletes, as of now, the audit entries and run events past their
// retention and returns how many of each. Audit entries go oldest first
// and the chain stays verifiable (the store moves its anchor and records
// the purge as an audit.purged entry; see bindery.AuditChain). Both kinds
// are attempted; the first error is returned.
func (r retention) purge(ctx context.Context, store purger, now time.Time) (audit, events int, err error) {
	if r.audit > 0 {
		audit, err = store.PurgeAudit(ctx, now.Add(-r.audit), now)
	}
	if r.events > 0 {
		var e2 error
		events, e2 = store.DeleteEventsBefore(ctx, now.Add(-r.events))
		if err == nil {
			err = e2
		}
	}
	return audit, events, err
}
