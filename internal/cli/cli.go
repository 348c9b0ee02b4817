// Package cli is Bindery's command line: Run parses arguments, loads the
// configuration and wires the pieces for each command. It is the only
// package that touches process-wide things, and it gets them as arguments
// (getenv, stdin, stdout, stderr), so tests call Run like main does.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/config"
	"github.com/bindery/bindery/internal/logging"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/store/sqlite"
)

// env bundles what a command gets from the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one sub-command. help, when set, is what `bindery NAME
// --help` prints (commands with flags of their own print their flag set's
// usage instead).
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, e *env, args []string) error
	help  string
}

func commands() []command {
	return []command{
		{"serve", "serve                      run the server (HTTP, WebSocket, dashboard)", runServe, ""},
		{"build", "build DIR [--out DIR] [--formats epub,html,pdf]  build a book folder", runBuild, ""},
		{"check", "check DIR                  validate a book folder and print the quality report", runCheck, ""},
		{"login", "login --server URL [--email E]  sign in to a server; stores an API token for push, pull, run", runLogin, ""},
		{"push", "push DIR [--book ID] [--delete]  send a book folder to the server (changed files only)", runPush, ""},
		{"pull", "pull ID DIR                fetch a book folder from the server", runPull, ""},
		{"run", "run [DIR] [--book ID] [--formats …] [--follow]  build a book on the server, live", runRun, ""},
		{"user", "user add|list|set-role|delete|export|reset-2fa  manage accounts", runUser, helpUser},
		{"token", "token create --user E --name N [--expires 720h]  API token for scripts", runToken, helpToken},
		{"sessions", "sessions revoke --all       sign everybody out", runSessions, helpSessions},
		{"audit", "audit verify | export [--since T] [--out FILE]  check the audit chain; JSON lines copy", runAudit, helpAudit},
		{"keys", "keys generate|rotate       print new keys; re-encrypt stored data with ENCRYPTION_KEY", runKeys, helpKeys},
		{"migrate", "migrate --to postgres://… [--blobs s3]  move the SQLite data folder (and its files) to PostgreSQL (and S3)", runMigrate, helpMigrate},
		{"version", "version                    print version information", runVersion, "Usage: bindery version\n\nPrints Bindery's version, commit and Go version.\n"},
	}
}

// Help of the commands whose sub-commands have flags of their own.
const (
	helpUser = `Usage: bindery user <sub-command>

Manages the accounts of the data folder (BINDERY_DATA_DIR); the server may
be running.

  user add --email E --role admin|author|editor|viewer
                       create an account; the password is read from the
                       terminal without echo, or the first line of stdin
  user list            list accounts
  user set-role --email E --role R
                       change a role (signs the user out everywhere)
  user delete E [--transfer-to E2 | --delete-books]
                       delete an account and its personal data
  user export E [--out FILE]
                       the zip of everything held about E
  user reset-2fa E     turn off E's second factor and sign them out

Examples:
  printf '%s\n' "$PASSWORD" | bindery user add --email ann@example.org --role author
  bindery user delete bob@example.org --transfer-to ann@example.org
`
	helpToken = `Usage: bindery token create --user E --name N [--expires 720h]

Creates an API token for scripts, printed once and stored only hashed.
It expires after --expires (at most a year).

Example:
  bindery token create --user ann@example.org --name ci --expires 2160h
`
	helpSessions = `Usage: bindery sessions revoke --all

Signs every user out of every session (incident response). API tokens
stay valid; revoke them from the dashboard or the API.

Example:
  bindery sessions revoke --all
`
	helpAudit = `Usage: bindery audit verify | export [--since T] [--out FILE]

  audit verify     recompute the audit log's hash chain; prints
                   "N entries verified, head <hash>", or exits 1 naming
                   the first edited or missing entry
  audit export     the audit log as JSON lines, oldest first, with each
                   entry's hashes; --since an RFC 3339 time, --out a 0600
                   file instead of standard output

Examples:
  bindery audit verify
  bindery audit export --since 2026-01-01T00:00:00Z --out audit.jsonl
`
	helpKeys = `Usage: bindery keys generate | rotate

  keys generate    print a new ENCRYPTION_KEY and DASHBOARD_TOKEN
  keys rotate      re-encrypt every encrypted value with ENCRYPTION_KEY,
                   reading the old ones with ENCRYPTION_KEY_PREVIOUS;
                   resumable, safe while the server runs

Example:
  ENCRYPTION_KEY_PREVIOUS=$OLD ENCRYPTION_KEY=$NEW bindery keys rotate
`
)

// errUsage marks errors whose message is a usage hint (exit code 2).
var errUsage = errors.New("usage")

// Run runs the bindery command line and returns the process exit code:
// 0 on success, 1 on failure, 2 on a usage error.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			if c.help != "" && len(args) > 1 && (args[1] == "-h" || args[1] == "--help" || args[1] == "help") {
				fmt.Fprint(stdout, c.help)
				return 0
			}
			err := c.run(ctx, e, args[1:])
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0 // the usage was printed; asking for it is no error
			case errors.Is(err, errUsage):
				fmt.Fprintln(stderr, "bindery:", strings.TrimSuffix(err.Error(), ": usage"))
				return 2
			default:
				fmt.Fprintln(stderr, "bindery:", errorText(err))
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "bindery: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: bindery <command> [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintln(w, "  "+c.usage)
	}
}

// errorText is what the user sees for err: an application error's
// message, or the error itself for configuration and I/O errors.
func errorText(err error) string {
	var be *bindery.Error
	if errors.As(err, &be) {
		return be.Message
	}
	return err.Error()
}

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errUsage)...)
}

// loadConfig reads the environment layered over ./.env.
func loadConfig(e *env) (*config.Config, error) {
	getenv, err := layeredEnv(e)
	if err != nil {
		return nil, err
	}
	return config.Load(getenv)
}

// layeredEnv is the process environment over ./.env (the real environment
// wins).
func layeredEnv(e *env) (func(string) string, error) { return config.WithDotEnv(e.getenv, ".env") }

// newLogger builds the redacting logger for cfg.
func newLogger(e *env, cfg *config.Config) (*slog.Logger, func() error, error) {
	return logging.New(e.stderr, logging.Options{Level: cfg.LogLevel, Format: cfg.LogFormat, File: cfg.LogFile, Secrets: cfg.Secrets()})
}

// openKeyring builds the keyring for the values encrypted at rest from
// ENCRYPTION_KEY / ENCRYPTION_KEY_PREVIOUS or, in development only, the
// key file in the data folder (generated with mode 0600 on first use).
//
// A development key is never generated next to an existing database: the
// data there was encrypted with another key (the server's ENCRYPTION_KEY,
// or a key file since lost), and a command that generated a new one would
// write accounts nobody else can find.
func openKeyring(ctx context.Context, cfg *config.Config, log *slog.Logger) (*secretbox.Keyring, error) {
	existing := ""
	if cfg.EncryptionKey == "" && cfg.DatabaseURL == "" {
		if fi, err := os.Stat(cfg.DatabasePath()); err == nil && fi.Size() > 0 {
			existing = "the data folder already holds a database"
			if fp, err := sqlite.RecordedKeyFingerprint(ctx, cfg.DatabasePath()); err == nil && fp != "" {
				existing += " encrypted under key " + fp
			}
			existing += "; set ENCRYPTION_KEY to the key the server uses"
		}
	}
	kr, src, err := secretbox.Open(secretbox.Settings{
		Key: cfg.EncryptionKey, Previous: cfg.EncryptionKeyPrevious, DataDir: cfg.DataDir, Production: cfg.Production(),
		ExistingData: existing,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case src.Created:
		log.Warn("generated a development encryption key; back it up with the data, which cannot be read without it, and set ENCRYPTION_KEY in production", "file", src.File)
	case src.File != "":
		log.Info("using the development encryption key file; set ENCRYPTION_KEY in production", "file", src.File)
	case src.Unused != "":
		log.Warn("a key file in the data folder is not in ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS: values it encrypted will not decrypt; add its content to ENCRYPTION_KEY_PREVIOUS and run `bindery keys rotate`", "file", src.Unused)
	}
	return kr, nil
}

// adapter is the database as the commands need it: the application's
// store, and what only the adapter itself can do (key rotation).
type adapter interface {
	bindery.Store
	RotateKeys(ctx context.Context, report func(column string, rotated int)) error
}

var (
	_ adapter = (*sqlite.DB)(nil)
	_ adapter = (*postgres.DB)(nil)
)

// openStore opens the configured database: PostgreSQL when
// BINDERY_DATABASE_URL is set (config.Load has checked that it is a
// postgres:// URL), else the SQLite file in the data folder.
func openStore(ctx context.Context, cfg *config.Config, secrets *secretbox.Keyring) (adapter, error) {
	if cfg.DatabaseURL != "" {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, secrets)
		if err != nil {
			return nil, fmt.Errorf("BINDERY_DATABASE_URL: %w", err)
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, cfg.DatabasePath(), secrets)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// deps are what most commands need, opened from the configuration.
type deps struct {
	cfg     *config.Config
	log     *slog.Logger
	secrets *secretbox.Keyring
	db      adapter       // the database, for what only the adapter does (key rotation)
	store   bindery.Store // the same database, as the application sees it
	auth    *auth.Service
}

// openDeps loads the configuration and opens the logger, the store and the
// auth service; with lock (the server) it first takes the data-folder
// lock. closeAll releases everything in reverse order.
// authHooks connect the auth service to the server's live parts.
type authHooks struct {
	onRevoke func(auth.Revocation)
	observe  func(string)
}

func openDeps(ctx context.Context, e *env, lock bool, hooks authHooks) (_ *deps, _ func(), err error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	d := &deps{}
	if d.cfg, err = loadConfig(e); err != nil {
		return nil, nil, err
	}
	var closeLog func() error
	if d.log, closeLog, err = newLogger(e, d.cfg); err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { closeLog() })
	if lock {
		unlock, err := lockDataDir(d.cfg.DataDir)
		if err != nil {
			return nil, nil, err
		}
		closers = append(closers, unlock)
	}
	if d.secrets, err = openKeyring(ctx, d.cfg, d.log); err != nil {
		return nil, nil, err
	}
	if d.db, err = openStore(ctx, d.cfg, d.secrets); err != nil {
		return nil, nil, err
	}
	d.store = d.db
	closers = append(closers, func() { d.store.Close() })
	if d.auth, err = newAuthService(ctx, d.cfg, d.store, d.secrets, d.log, hooks); err != nil {
		return nil, nil, err
	}
	return d, closeAll, nil
}
