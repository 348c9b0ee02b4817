package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
)

func runAudit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("audit needs a sub-command: verify or export")
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, e, args[1:])
	case "export":
		return auditExport(ctx, e, args[1:])
	}
	return usagef("unknown audit sub-command %q: use verify or export", args[0])
}

// auditVerify recomputes the audit chain. It prints the number of entries
// and the head hash (the value to note somewhere else), or fails (exit 1)
// naming the first broken entry and why.
func auditVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit verify")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("audit verify takes no arguments")
	}
	return withAuth(ctx, e, func(store bindery.Store, _ *auth.Service) error {
		v, err := store.VerifyAudit(ctx)
		if err != nil {
			return err
		}
		if !v.OK() {
			b := v.Broken
			if b.ID == 0 {
				return fmt.Errorf("audit chain broken: %s: %s (%d entries checked)", b.Reason, b.Detail, v.Entries)
			}
			return fmt.Errorf("audit chain broken at entry %d: %s: %s (%d entries before it verified)", b.ID, b.Reason, b.Detail, v.Entries)
		}
		head := v.Head
		if head == "" {
			head = "(none: the log is empty)"
		}
		fmt.Fprintf(e.stdout, "%d entries verified, head %s\n", v.Entries, head)
		if v.AnchorID > 1 {
			fmt.Fprintf(e.stdout, "The chain starts at entry %d: older entries were removed by retention (BINDERY_AUDIT_RETENTION).\n", v.AnchorID)
		}
		return nil
	})
}

// auditExport writes the audit log as JSON lines, oldest first, with the
// chain's hashes: to standard output, or to --out (mode 0600, replaced
// atomically, so an interrupted export never leaves a partial file under
// the name). The export is itself audited.
func auditExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit export")
	since := fs.String("since", "", "only entries at or after this time (RFC 3339, e.g. 2026-01-02T15:04:05Z)")
	out := fs.String("out", "", "write to this file (mode 0600) instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("audit export takes no arguments, only --since and --out")
	}
	var f bindery.AuditFilter
	if *since != "" {
		var err error
		if f.Since, err = time.Parse(time.RFC3339, *since); err != nil {
			return usagef("--since %q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", *since)
		}
	}
	return withAuth(ctx, e, func(store bindery.Store, svc *auth.Service) error {
		detail := "JSON lines from the command line"
		if !f.Since.IsZero() {
			detail += " since " + f.Since.UTC().Format(time.RFC3339)
		}
		svc.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditExported, Detail: detail})
		if *out == "" {
			_, err := writeAudit(ctx, store, f, e.stdout)
			return err
		}
		n, err := writeAuditFile(ctx, store, f, *out)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Exported %d audit entries to %s.\n", n, *out)
		return nil
	})
}

// writeAudit writes the matching entries to w, one JSON object a line,
// and returns how many.
func writeAudit(ctx context.Context, store bindery.AuditStore, f bindery.AuditFilter, w io.Writer) (int, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n := 0
	err := store.EachAudit(ctx, f, func(ev *bindery.AuditEvent) error {
		n++
		return enc.Encode(ev)
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// writeAuditFile writes the export to path (see writeFileAtomically).
func writeAuditFile(ctx context.Context, store bindery.AuditStore, f bindery.AuditFilter, path string) (n int, err error) {
	err = writeFileAtomically(path, func(w io.Writer) error {
		n, err = writeAudit(ctx, store, f, w)
		return err
	})
	return n, err
}

// writeFileAtomically has write fill a temporary file (mode 0600) beside
// path and renames it into place once complete and synced: an interrupted
// export never leaves a partial file under the name.
func writeFileAtomically(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bindery-export-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
