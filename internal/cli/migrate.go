package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/migrate"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/store/postgres"
)

const helpMigrate = `Usage: bindery migrate [--to postgres://…] [--blobs s3]

Copies the SQLite data folder (BINDERY_DATA_DIR) into a PostgreSQL
database: accounts, books, runs, events, the audit chain, everything but
the job queue; with --blobs s3, also every file — the books' files,
runs' artifacts, published editions and the image cache — into an
S3-compatible bucket, as several nodes share them. Then it verifies the
copy (row counts and a checksum per table, the audit chain, every file's
size and hash) and prints what it copied, found already there, and
verified. The data folder is only read.

  --to URL     the target database (default: BINDERY_DATABASE_URL, which
               may come from BINDERY_DATABASE_URL_FILE; prefer that, or
               PGPASSWORD, to a password on the command line). A new,
               empty database; migrations are applied first.
  --blobs s3   copy the files to the bucket of BINDERY_S3_ENDPOINT,
               _BUCKET, _REGION, _ACCESS_KEY, _SECRET_KEY (each with
               _FILE), under BINDERY_S3_PREFIX
               Without --blobs the files stay in the data folder: run
               the one PostgreSQL server on this data folder.

Stop the server first (the data folder's lock is checked), and let runs
finish: a data folder with queued, running or paused runs is refused.
ENCRYPTION_KEY must be the data folder's key (encrypted values are copied
as they are). Interrupted (even by kill -9), it resumes when run again;
a database filled from another data folder is refused. Exit status 1 if
anything does not verify.

Example:
  BINDERY_DATA_DIR=/var/lib/bindery ENCRYPTION_KEY_FILE=/etc/bindery/key \
  BINDERY_DATABASE_URL_FILE=/etc/bindery/database-url \
  BINDERY_S3_ENDPOINT=https://s3.example.org BINDERY_S3_BUCKET=bindery \
  BINDERY_S3_ACCESS_KEY=… BINDERY_S3_SECRET_KEY_FILE=/etc/bindery/s3-secret \
  bindery migrate --blobs s3
`

// runMigrate is `bindery migrate`: package migrate, wired to the
// configuration. The data folder's serve lock is held throughout, so no
// server starts on the source meanwhile, and a running one is refused.
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate")
	fs.Usage = func() { fmt.Fprint(e.stderr, helpMigrate) }
	to := fs.String("to", "", "the target PostgreSQL database (default: BINDERY_DATABASE_URL)")
	blobs := fs.String("blobs", "", `"s3": copy the files to the BINDERY_S3_ bucket; default: they stay in the data folder`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("migrate takes no arguments, only --to and --blobs")
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	target := *to
	if target == "" {
		target = cfg.DatabaseURL
	}
	if target == "" {
		return usagef("migrate needs a target: --to postgres://… or BINDERY_DATABASE_URL(_FILE)")
	}
	// Whatever fails below, the password is not in what is printed.
	secrets := append(cfg.Secrets(), urlSecrets(target)...)
	err = migrateTo(ctx, e, cfg.DataDir, target, *blobs, cfg.S3, cfg.EncryptionKey, cfg.EncryptionKeyPrevious, cfg.Production())
	return scrub(err, secrets)
}

func migrateTo(ctx context.Context, e *env, dataDir, target, blobsTo string, s3 *blob.S3Config, key string, previous []string, production bool) error {
	if u, err := url.Parse(target); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return usagef("--to must be a postgres:// URL")
	}
	dbPath := filepath.Join(dataDir, "bindery.db")
	if _, err := os.Stat(dbPath); err != nil {
		return bindery.Errorf(bindery.EINVALID, "There is no Bindery database in %s: set BINDERY_DATA_DIR to the data folder to move.", dataDir)
	}
	unlock, err := lockDataDir(dataDir)
	if err != nil {
		return fmt.Errorf("%w: stop the server before migrating", err)
	}
	defer unlock()

	// The key of the data folder: ENCRYPTION_KEY, or its development key
	// file; never a new one (it could read nothing).
	kr, _, err := secretbox.Open(secretbox.Settings{Key: key, Previous: previous, DataDir: dataDir, Production: production,
		ExistingData: "the data folder holds a database; set ENCRYPTION_KEY to the key the server uses"})
	if err != nil {
		return err
	}

	src, err := migrate.OpenSource(dbPath)
	if err != nil {
		return err
	}
	defer src.Close()
	o := migrate.Options{Source: src, Keyring: kr}

	filesNote := ""
	if blobsTo != "" {
		if blobsTo != "s3" {
			return usagef(`--blobs takes "s3" (the bucket of the BINDERY_S3_ settings)`)
		}
		if s3 == nil {
			return usagef("--blobs s3 copies to the bucket of BINDERY_S3_ENDPOINT, _BUCKET, _ACCESS_KEY and _SECRET_KEY: set them")
		}
		dst, err := blob.NewS3(ctx, *s3)
		if err != nil {
			return fmt.Errorf("--blobs s3: %w", err)
		}
		folder, err := migrate.OpenDataFolder(ctx, dataDir, src)
		if err != nil {
			return fmt.Errorf("listing the data folder's files: %w", err)
		}
		o.SourceBlobs, o.TargetBlobs, o.BookFiles = folder, dst, folder.BookFiles()
	} else {
		filesNote = "Files: not copied (no --blobs); they stay in " + dataDir + ": run the one PostgreSQL server on this data folder, or copy them later with --blobs s3.\n"
		if s3 != nil {
			filesNote += "Note: BINDERY_S3_ is set. If this server kept its files in that bucket already, nothing more is needed; otherwise servers will look for files that are not there: run migrate again with --blobs s3.\n"
		}
	}

	fmt.Fprintf(e.stdout, "Copying %s (SQLite) to %s (PostgreSQL)\n", dbPath, redactURL(target))
	db, err := postgres.Open(ctx, target, kr)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer db.Close()
	o.Target = db
	rep, err := migrate.Run(ctx, o)
	if err != nil {
		return err
	}
	rep.Print(e.stdout)
	fmt.Fprint(e.stdout, filesNote)
	if !rep.OK() {
		return errors.New("the copy does not match the source (see above); the data folder is unchanged: fix the cause and run migrate again")
	}
	fmt.Fprintln(e.stdout, "Next: set BINDERY_DATABASE_URL to the target (and BINDERY_S3_… if the files moved to S3), then start bindery serve.")
	return nil
}

// urlSecrets returns the password of a database URL, given in its user
// information or as a password= parameter: what must never be printed.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	var out []string
	if pw, ok := u.User.Password(); ok && pw != "" {
		out = append(out, pw)
	}
	if pw := u.Query().Get("password"); pw != "" {
		out = append(out, pw)
	}
	return out
}

// redactURL is a database URL fit to print: its password, in either
// place, replaced.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(the target)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// scrub replaces every secret in err's text: a driver's message might
// quote the connection string.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	text := errorText(err)
	clean := text
	for _, s := range secrets {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "[redacted]")
		}
	}
	if clean == text {
		return err
	}
	if errors.Is(err, errUsage) {
		return usagef("%s", strings.TrimSuffix(clean, ": usage"))
	}
	return errors.New(clean)
}
