package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/books"
	"github.com/bindery/bindery/internal/catalog"
	"github.com/bindery/bindery/internal/config"
	"github.com/bindery/bindery/internal/privacy"
	"github.com/bindery/bindery/internal/secretbox"
)

// artifactsDir and editionDir say where a run's outputs and a book's
// published edition live in the data folder (the server and the shell
// commands must agree).
func artifactsDir(cfg *config.Config) func(int64) string {
	root := filepath.Join(cfg.DataDir, "artifacts")
	return func(id int64) string { return filepath.Join(root, strconv.FormatInt(id, 10)) }
}

func editionDir(cfg *config.Config) func(int64) string {
	root := filepath.Join(cfg.DataDir, "published")
	return func(id int64) string { return filepath.Join(root, strconv.FormatInt(id, 10)) }
}

// newPrivacy builds the privacy service for a shell command.
func newPrivacy(ctx context.Context, d *deps) (*privacy.Service, error) {
	bs, err := newBookStorage(ctx, d.cfg, d.store)
	if err != nil {
		return nil, err
	}
	cat, err := newCatalog(d.cfg, d.store, bs)
	if err != nil {
		return nil, err
	}
	library := newLibrary(d.cfg, d.store, d.auth, bs, cat, d.log, bookEvents{deleted: bookDeletedNotifier(ctx, d.store, d.log)})
	return newPrivacyService(d.cfg, d.store, d.auth, bs, library, d.secrets, d.log), nil
}

// bookStorage is where book files, artifacts and editions are: this
// node's data folder, and when several nodes share storage
// (BINDERY_S3_…), the bucket that holds every node's (shared keeps the
// folder's book copies in step with it; outputs holds artifacts and
// editions). shared and outputs are nil on a single node.
type bookStorage struct {
	files   *bookfs.Store
	shared  *bookfs.Shared
	outputs blob.Store
}

// newBookStorage is the one way the server and the shell open it.
func newBookStorage(ctx context.Context, cfg *config.Config, store bindery.Store) (bookStorage, error) {
	files, err := bookfs.New(cfg.BooksDir(), bookLimits(cfg))
	if err != nil {
		return bookStorage{}, err
	}
	bs := bookStorage{files: files}
	if cfg.S3 == nil {
		return bs, nil
	}
	s3, err := blob.NewS3(ctx, *cfg.S3)
	if err != nil {
		return bookStorage{}, fmt.Errorf("BINDERY_S3_ENDPOINT: %w", err)
	}
	bs.outputs = s3
	bs.shared = bookfs.NewShared(files, s3, store)
	return bs, nil
}

// newCatalog is the one way the server and the shell build the catalog of
// published editions.
func newCatalog(cfg *config.Config, store bindery.Store, bs bookStorage) (*catalog.Catalog, error) {
	return catalog.New(catalog.Config{Store: store, Dir: filepath.Join(cfg.DataDir, "published"), BookDir: bs.files.Dir, ArtifactsDir: artifactsDir(cfg), Outputs: bs.outputs})
}

// bookEvents are where the book service sends what it changes beyond the
// data folder: events to the live dashboards, and the users whose
// connections must reconnect. A shell command has neither (zero value).
type bookEvents struct {
	emit       func(context.Context, *bindery.Event)
	disconnect func(userID int64)
	deleted    func(bookID int64) // nil: nothing to tell
}

// newLibrary is the one way the server and the shell build the book
// service.
func newLibrary(cfg *config.Config, store bindery.Store, svc *auth.Service, bs bookStorage, cat *catalog.Catalog, log *slog.Logger, ev bookEvents) *books.Service {
	return books.New(books.Deps{Store: store, Files: bs.files, Shared: bs.shared, Outputs: bs.outputs, Catalog: cat, Audit: svc, ArtifactsDir: artifactsDir(cfg),
		Emit: ev.emit, Disconnect: ev.disconnect, Deleted: ev.deleted, Logger: log})
}

// newPrivacyService is the one way the server and the shell build it.
func newPrivacyService(cfg *config.Config, store bindery.Store, svc *auth.Service, bs bookStorage, library *books.Service, secrets *secretbox.Keyring, log *slog.Logger) *privacy.Service {
	return privacy.New(privacy.Deps{Store: store, Auth: svc, Books: bs.files, Library: library, Logger: log,
		ArtifactsDir: artifactsDir(cfg), PublishedDir: editionDir(cfg), Outputs: bs.outputs,
		Pseudonyms: func(email string) []string { return auditchain.Pseudonyms(secrets, email) }})
}

// parseAccount parses flags given before or after one positional
// argument (`user export E --out F` as well as `user export --out F E`)
// and returns the account: that argument, or the --email flag.
func parseAccount(fs *flag.FlagSet, email *string, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		arg, rest := fs.Arg(0), fs.Args()[1:]
		if err := fs.Parse(rest); err != nil {
			return "", err
		}
		if fs.NArg() > 0 {
			return "", usagef("unexpected argument %q", fs.Arg(0))
		}
		return arg, nil
	}
	return *email, nil
}

// withAccount parses a command that names one account (see
// parseAccount), opens the store and runs fn with the account.
func withAccount(ctx context.Context, e *env, fs *flag.FlagSet, email *string, args []string, fn func(*deps, *bindery.User) error) error {
	addr, err := parseAccount(fs, email, args)
	if err != nil {
		return err
	}
	if addr == "" {
		return usagef("%s needs an e-mail address", fs.Name())
	}
	d, closeAll, err := openDeps(ctx, e, false, authHooks{})
	if err != nil {
		return err
	}
	defer closeAll()
	u, err := userByEmail(ctx, d.store, addr)
	if err != nil {
		return err
	}
	return fn(d, u)
}

// userExport: bindery user export E [--out FILE] — the zip of everything
// held about E (GDPR access and portability), as GET /api/v1/me/export.
func userExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user export")
	email := fs.String("email", "", "e-mail address (or give it as the argument)")
	out := fs.String("out", "", "write the zip to this file (mode 0600, replaced atomically; default: standard output)")
	return withAccount(ctx, e, fs, email, args, func(d *deps, u *bindery.User) error {
		return exportTo(ctx, e, d, u, *out)
	})
}

func exportTo(ctx context.Context, e *env, d *deps, u *bindery.User, out string) error {
	p, err := newPrivacy(ctx, d)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { return p.WriteExport(ctx, u, w) }
	if out == "" {
		err = write(e.stdout)
	} else {
		err = writeFileAtomically(out, write)
	}
	if err != nil {
		return err
	}
	d.auth.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditUserExported, Target: bindery.UserTarget(u.ID), Detail: "from the command line"})
	if out != "" {
		fmt.Fprintf(e.stderr, "Wrote the export of user %d to %s.\n", u.ID, out)
	}
	return nil
}

// userDelete: bindery user delete E [--transfer-to E2 | --delete-books].
func userDelete(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user delete")
	email := fs.String("email", "", "e-mail address (or give it as the argument)")
	heir := fs.String("transfer-to", "", "give the user's books to this user (e-mail address)")
	deleteBooks := fs.Bool("delete-books", false, "delete the user's books with the account")
	return withAccount(ctx, e, fs, email, args, func(d *deps, u *bindery.User) error {
		return deleteAccount(ctx, e, d, u, *heir, *deleteBooks)
	})
}

func deleteAccount(ctx context.Context, e *env, d *deps, u *bindery.User, heir string, deleteBooks bool) error {
	plan := privacy.BooksPlan{Delete: deleteBooks}
	if heir != "" {
		h, err := userByEmail(ctx, d.store, heir)
		if err != nil {
			return err
		}
		plan.TransferTo = h.ID
	}
	p, err := newPrivacy(ctx, d)
	if err != nil {
		return err
	}
	if err := p.DeleteAccount(ctx, nil, u, plan, cliClient); err != nil {
		if bindery.ErrorCode(err) == bindery.ECONFLICT && !plan.Delete && plan.TransferTo == 0 {
			return fmt.Errorf("%s; use --transfer-to E or --delete-books", bindery.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(e.stdout, "Deleted user %d and their personal data.\n", u.ID)
	return nil
}

// userResetTwoFactor: bindery user reset-2fa E — for someone who lost
// their authenticator and recovery codes (or the last admin locked out).
func userResetTwoFactor(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user reset-2fa")
	email := fs.String("email", "", "e-mail address (or give it as the argument)")
	return withAccount(ctx, e, fs, email, args, func(d *deps, u *bindery.User) error {
		if err := d.auth.ResetTwoFactor(ctx, nil, u.ID, cliClient); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Two-factor sign-in of %s is off and their sessions are signed out; they can enrol again.\n", u.Email)
		return nil
	})
}

// keysRotate: bindery keys rotate — re-encrypt every encrypted value with
// the current ENCRYPTION_KEY. Run it after moving the old key into
// ENCRYPTION_KEY_PREVIOUS; it is safe to interrupt and run again, and to
// run while the server is up. Once it succeeds the old key can go.
func keysRotate(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 {
		return usagef("keys rotate takes no arguments")
	}
	d, closeAll, err := openDeps(ctx, e, false, authHooks{})
	if err != nil {
		return err
	}
	defer closeAll()
	total := 0
	err = d.db.RotateKeys(ctx, func(column string, n int) {
		total += n
		fmt.Fprintf(e.stdout, "%-28s %d re-encrypted\n", column, n)
	})
	if err != nil {
		return err
	}
	d.auth.Audit(ctx, bindery.AuditEvent{Action: bindery.AuditKeysRotated, Detail: fmt.Sprintf("%d values re-encrypted", total)})
	fmt.Fprintf(e.stdout, "Done: every encrypted value is under the current ENCRYPTION_KEY; keys in ENCRYPTION_KEY_PREVIOUS can be removed.\n")
	return nil
}
