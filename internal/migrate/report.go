package migrate

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/bindery/bindery/internal/bindery"
)

// Report is what Run did and found.
type Report struct {
	Tables []TableReport
	// Blobs is nil when no files were copied (no target blob store).
	Blobs *BlobReport
	// BookFiles is the pointer rows made for the book files of a single
	// server's data folder (Options.BookFiles); nil when none were.
	BookFiles *TableReport
	// Audit is the target's audit chain verification; SourceEntries the
	// number of entries in the source's chain (from its anchor on).
	Audit         bindery.AuditVerification
	SourceEntries int64
	// Problems lists every mismatch the verification found; empty when
	// the copy verified.
	Problems []string
}

// TableReport is one table's copy and check.
type TableReport struct {
	Name     string
	Source   int64 // rows in the source
	Copied   int64 // rows this run inserted (or replaced)
	Already  int64 // rows found in the target already
	Target   int64 // rows in the target when verified
	Checksum string
	Verified bool // same count and checksum on both sides
}

// OK reports whether everything verified.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// verify compares every table, the audit chain and the files, recording
// mismatches in rep.Problems.
func (m *migration) verify(ctx context.Context, rep *Report) error {
	for i, t := range m.tables {
		sn, ssum, err := m.sourceChecksum(ctx, t)
		if err != nil {
			return fmt.Errorf("table %s, source: %w", t.name, err)
		}
		tn, tsum, err := m.targetChecksum(ctx, t)
		if err != nil {
			return fmt.Errorf("table %s, target: %w", t.name, err)
		}
		tr := &rep.Tables[i]
		tr.Target = tn
		tr.Checksum = hex.EncodeToString(ssum)
		switch {
		case sn != tn:
			rep.Problems = append(rep.Problems, fmt.Sprintf("table %s: %d rows in the source, %d in the target", t.name, sn, tn))
		case !bytes.Equal(ssum, tsum):
			rep.Problems = append(rep.Problems, fmt.Sprintf("table %s: the rows differ (checksum %.12s in the source, %.12s in the target)", t.name, hex.EncodeToString(ssum), hex.EncodeToString(tsum)))
		default:
			tr.Verified = true
		}
	}

	if err := m.o.Source.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE id >= (SELECT anchor_id FROM audit_chain WHERE id = 1)`).Scan(&rep.SourceEntries); err != nil {
		return fmt.Errorf("counting the source's audit entries: %w", err)
	}
	v, err := m.o.Target.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("verifying the target's audit chain: %w", err)
	}
	rep.Audit = v
	switch {
	case !v.OK():
		rep.Problems = append(rep.Problems, fmt.Sprintf("the audit chain does not verify on the target: entry %d: %s", v.Broken.ID, v.Broken.Detail))
	case int64(v.Entries) != rep.SourceEntries:
		rep.Problems = append(rep.Problems, fmt.Sprintf("the audit chain has %d entries in the source, %d verified in the target", rep.SourceEntries, v.Entries))
	}

	if rep.BookFiles != nil {
		n, sum, err := m.targetBookFiles(ctx)
		if err != nil {
			return fmt.Errorf("book files: %w", err)
		}
		want := bookFilesChecksum(m.o.BookFiles)
		rep.BookFiles.Target, rep.BookFiles.Checksum = n, hex.EncodeToString(want)
		switch {
		case n != int64(len(m.o.BookFiles)):
			rep.Problems = append(rep.Problems, fmt.Sprintf("book files: %d in the data folder, %d rows in the target", len(m.o.BookFiles), n))
		case !bytes.Equal(sum, want):
			rep.Problems = append(rep.Problems, "book files: the target's rows differ from the data folder's files")
		default:
			rep.BookFiles.Verified = true
		}
	}
	if rep.Blobs != nil {
		problems, err := m.verifyBlobs(ctx, rep.Blobs)
		if err != nil {
			return fmt.Errorf("files: %w", err)
		}
		rep.Problems = append(rep.Problems, problems...)
	}
	return nil
}

// Print writes the report as a table: per table the rows in the source,
// copied by this run, found already there, and the check; then the
// files, the audit chain, and every problem.
func (r *Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tsource\tcopied\talready there\tverified\t")
	var rows, copied int64
	for _, t := range r.Tables {
		check := "MISMATCH"
		if t.Verified {
			check = "ok " + t.Checksum[:12]
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", t.Name, t.Source, t.Copied, t.Already, check)
		rows += t.Source
		copied += t.Copied
	}
	if t := r.BookFiles; t != nil {
		check := "MISMATCH"
		if t.Verified {
			check = "ok " + t.Checksum[:12]
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", t.Name, t.Source, t.Copied, t.Already, check)
	}
	if b := r.Blobs; b != nil {
		check := "MISMATCH"
		if b.Verified == b.Objects {
			check = "ok size+sha256"
		}
		fmt.Fprintf(tw, "files\t%d\t%d\t%d\t%s\t\n", b.Objects, b.Copied, b.Already, check)
	}
	tw.Flush()
	if r.Audit.OK() {
		fmt.Fprintf(w, "Audit chain: %d entries verified on the target (the source has %d), head %s\n", r.Audit.Entries, r.SourceEntries, orNone(r.Audit.Head))
	}
	if b := r.Blobs; b != nil {
		fmt.Fprintf(w, "Files: %d copied (%d bytes), %d already there, %d verified\n", b.Copied, b.Bytes, b.Already, b.Verified)
	}
	if r.OK() {
		fmt.Fprintf(w, "Done: %d rows in %d tables (%d copied by this run); counts, checksums and the audit chain verified.\n", rows, len(r.Tables), copied)
		return
	}
	fmt.Fprintf(w, "The copy does NOT match the source (%d problems):\n", len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintln(w, "  - "+p)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none: the log is empty)"
	}
	return s
}
