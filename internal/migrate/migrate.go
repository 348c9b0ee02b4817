// Package migrate moves a Bindery deployment from its SQLite data folder
// to PostgreSQL (and, optionally, its files from the data folder into an
// S3 bucket, as several nodes share them): `bindery migrate`.
//
// One job: copy every table of the SQLite database, generically (the
// tables and columns are read from the target's schema, which is the
// same schema, migration for migration, as the source's), and every file
// under the key shared storage gives it (DataFolder, with the pointer
// rows of the book files), then verify the copy. What it promises:
//
//   - The source is never written: the database is opened read-only
//     (OpenSource), the source blob store is only listed and read. The
//     caller holds the data folder's serve lock, so no server runs on it
//     meanwhile.
//   - Resumable: every batch of rows is one transaction of INSERT … ON
//     CONFLICT DO NOTHING, in primary-key order, and a blob is skipped when
//     the target holds its key with the same size, so a run cut short at
//     any point (kill -9 included) is completed by running it again, with
//     the same result as an uninterrupted run.
//   - One source per target: the first run records the source's identity
//     in the target (table bindery_migrated_from); a target that holds
//     Bindery data without that record, or with another source's, is
//     refused, so a migrate never mixes two deployments.
//   - Verified: per table, the row counts and a SHA-256 over a canonical
//     encoding of every row in primary-key order, computed on both sides
//     after converting SQLite's values to the PostgreSQL column types;
//     the audit chain verifies on the target with as many entries as the
//     source's; every blob key is in the target with its size, and content
//     keys (named by the SHA-256 of their bytes) hash to their name.
//
// Encrypted columns (Fernet tokens) and blind indexes are copied
// verbatim: Fernet binds no table or row into its tokens, and the blind
// indexes are keyed by ENCRYPTION_KEY alone, so both read back on the
// target under the same key. Run therefore requires the source's recorded
// key to be the keyring's current key (a rotation finished), and the
// target, opened with the same keyring, records the same key.
//
// River's job tables are not Bindery data and are not copied. A run still
// queued, running or paused in the source would need a job on the target;
// rather than forge one, Run refuses such a source ("stop the server and
// let the runs finish"), which an operator can always satisfy.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/secretbox"
)

// Target is the PostgreSQL store as Run needs it: postgres.DB, opened
// (and so migrated to the latest schema) with the same keyring.
type Target interface {
	Pool() *pgxpool.Pool
	VerifyAudit(ctx context.Context) (bindery.AuditVerification, error)
	LockServe(ctx context.Context) (release func(), err error)
}

// Options are what Run copies from and to.
type Options struct {
	// Source is the SQLite database, opened read-only by OpenSource.
	Source *sql.DB
	// Target is the PostgreSQL database.
	Target Target
	// Keyring is ENCRYPTION_KEY: the source's recorded key must be its
	// current key.
	Keyring *secretbox.Keyring

	// SourceBlobs is the data folder's blob store (nil: it has none);
	// TargetBlobs is where its objects go (nil: they stay where they are,
	// and nothing is copied or checked).
	SourceBlobs blob.Store
	TargetBlobs blob.Store
	// BookFiles, with files copied from a single server's data folder
	// (DataFolder), are the pointer rows its book files need in the
	// target (a single server keeps none): created after the files,
	// verified row for row, in place of the source's empty book_files
	// table. nil: book_files is copied like any other table.
	BookFiles []bindery.BookFile

	// BatchRows is the number of rows per transaction (default 500).
	BatchRows int

	// Now is the clock for the record of the migration (default
	// time.Now).
	Now func() time.Time

	// step, when set (tests), is called after every committed batch of
	// rows and every copied blob; its error stops Run there, as a crash
	// would.
	step func() error
}

// Run copies the source into the target, verifies the copy and returns
// what it did. A non-nil error means Run stopped (a refusal, or an I/O
// error): what it committed stays, and running it again resumes. A
// completed copy that does not verify is not an error: Report.OK is
// false and Report.Problems says why.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Source == nil || o.Target == nil || o.Keyring == nil {
		return nil, errors.New("migrate.Run: Source, Target and Keyring are required")
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 500
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &migration{o: o, pool: o.Target.Pool()}

	if err := m.checkSource(ctx); err != nil {
		return nil, err
	}
	release, err := m.lockTarget(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := m.loadSchema(ctx); err != nil {
		return nil, err
	}
	if err := m.claimTarget(ctx); err != nil {
		return nil, err
	}
	if o.BookFiles != nil {
		if err := m.takeBookFiles(ctx); err != nil {
			return nil, err
		}
	}

	rep := &Report{}
	for _, t := range m.tables {
		tr, err := m.copyTable(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("copying table %s: %w", t.name, err)
		}
		rep.Tables = append(rep.Tables, tr)
	}
	if err := m.advanceSequences(ctx); err != nil {
		return nil, fmt.Errorf("advancing the id sequences: %w", err)
	}
	if o.TargetBlobs != nil && o.SourceBlobs != nil {
		br, err := m.copyBlobs(ctx)
		if err != nil {
			return nil, fmt.Errorf("copying files: %w", err)
		}
		rep.Blobs = br
	}
	if o.BookFiles != nil {
		tr, err := m.copyBookFiles(ctx)
		if err != nil {
			return nil, fmt.Errorf("recording the book files: %w", err)
		}
		rep.BookFiles = tr
	}

	if err := m.verify(ctx, rep); err != nil {
		return nil, fmt.Errorf("verifying: %w", err)
	}
	if rep.OK() {
		if err := m.finish(ctx); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// migration is one Run's state.
type migration struct {
	o      Options
	pool   *pgxpool.Pool
	source string   // the source's identity (sourceID)
	tables []*table // in an order where referenced tables come first
}

// stepped reports one unit of committed work to the test hook.
func (m *migration) stepped() error {
	if m.o.step != nil {
		return m.o.step()
	}
	return nil
}
