package cli

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/build"
	"github.com/bindery/bindery/internal/client"
)

// The commands of this file work with a Bindery server from an author's
// machine: login stores an API token, push sends a book folder (only the
// files that changed), run builds it on the server and follows it live,
// pull fetches a book folder. The server applies every rule; the client
// checks files with the same code first only to fail early, in the same
// words.

// credentials is what bindery login keeps, in a 0600 file of the user's
// configuration folder: the server, an API token (never the password),
// and which book each pushed folder became.
type credentials struct {
	Server string           `json:"server"`
	Token  string           `json:"token"`
	Books  map[string]int64 `json:"books,omitempty"` // absolute folder → book id
}

// credentialsPath is $XDG_CONFIG_HOME/bindery/credentials.json, or
// ~/.config/bindery/credentials.json.
func credentialsPath(e *env) (string, error) {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			return "", errors.New("neither XDG_CONFIG_HOME nor HOME is set: cannot find the configuration folder")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "bindery", "credentials.json"), nil
}

func loadCredentials(e *env) (*credentials, error) {
	p, err := credentialsPath(e)
	if err != nil {
		return nil, err
	}
	c := &credentials{}
	data, err := os.ReadFile(p) // #nosec G304 -- the user's own configuration file
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, c); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return c, nil
}

func saveCredentials(e *env, c *credentials) error {
	p, err := credentialsPath(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(p, data)
}

// writeFileAtomic writes a 0600 file through a temporary file and a
// rename, so a crash never leaves half a file.
func writeFileAtomic(p string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

// remote returns a client from BINDERY_SERVER and BINDERY_TOKEN, else
// from the credentials bindery login stored.
func remote(e *env) (*client.Client, *credentials, error) {
	creds, err := loadCredentials(e)
	if err != nil {
		return nil, nil, err
	}
	server, token := e.getenv("BINDERY_SERVER"), e.getenv("BINDERY_TOKEN")
	if server == "" {
		server = creds.Server
	}
	if token == "" && server == creds.Server {
		token = creds.Token
	}
	if server == "" || token == "" {
		return nil, nil, errors.New("not signed in: run `bindery login --server https://…`, or set BINDERY_SERVER and BINDERY_TOKEN")
	}
	c, err := client.New(server, token)
	return c, creds, err
}

func runLogin(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "login")
	server := fs.String("server", "", "the server's address, https://host[:port]")
	email := fs.String("email", "", "your account's e-mail address (asked when not given)")
	setUsage(e, fs, `Usage: bindery login --server URL [--email E]

Signs in to a Bindery server and stores an API token (never the password)
in $XDG_CONFIG_HOME/bindery/credentials.json (mode 0600), for push, pull
and run. The password, and a two-factor code when the account has one,
are read from the terminal without echo, or one per line from standard
input.

Example:
  bindery login --server https://books.example.org --email ann@example.org
`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || fs.NArg() > 0 {
		return usagef("login needs the server: bindery login --server https://books.example.org")
	}
	c, err := client.New(*server, "")
	if err != nil {
		return err
	}
	in := bufio.NewReader(e.stdin)
	if *email == "" {
		if *email, err = prompt(e, in, "E-mail: ", false); err != nil {
			return err
		}
	}
	password, err := prompt(e, in, "Password: ", true)
	if err != nil {
		return err
	}
	session, err := c.SignIn(ctx, *email, password, "", "")
	var ae *client.Error
	if errors.As(err, &ae) && ae.Code == bindery.ESECONDFACTOR {
		code, perr := prompt(e, in, "Two-factor code (or a recovery code): ", true)
		if perr != nil {
			return perr
		}
		session, err = c.SignIn(ctx, "", "", ae.Challenge, code)
	}
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	secret, err := c.CreateToken(ctx, session, "bindery CLI on "+host, "8760h")
	if err != nil {
		return err
	}
	creds, err := loadCredentials(e)
	if err != nil {
		return err
	}
	if creds.Server != c.URL() {
		creds.Books = nil // book ids belong to a server
	}
	creds.Server, creds.Token = c.URL(), secret
	if err := saveCredentials(e, creds); err != nil {
		return err
	}
	p, _ := credentialsPath(e)
	fmt.Fprintf(e.stdout, "Signed in to %s as %s; the API token is in %s.\n", c.URL(), *email, p)
	return nil
}

// prompt reads one line: from a terminal (without echo when secret), or
// the next line of standard input.
func prompt(e *env, in *bufio.Reader, label string, secret bool) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, label)
		if secret {
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			return string(b), err
		}
	}
	line, err := in.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", fmt.Errorf("reading %s%w", strings.ToLower(strings.TrimSuffix(label, " ")), err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// localFile is one book file of a folder, with the hash the server would
// store for it.
type localFile struct {
	name, path, sha string
}

// bookFiles lists the files of a book folder that a server would take,
// checked and hashed as the server would store them. Hidden files and
// folders, system clutter and bindery build's output folder (build/) are
// left out; files of other types are returned in skipped.
func bookFiles(dir string) (files []localFile, skipped []string, err error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		base := path.Base(p)
		if d.IsDir() {
			if strings.HasPrefix(base, ".") || p == "build" || base == "__MACOSX" {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(base, ".") || base == "Thumbs.db" || base == "desktop.ini" {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: links and special files are not sent", p)
		}
		name, err := bookfs.CleanPath(p)
		if err != nil {
			return fmt.Errorf("%s: %s", p, bindery.ErrorMessage(err))
		}
		if _, err := bookfs.KindOf(name); err != nil {
			skipped = append(skipped, name)
			return nil
		}
		f, err := root.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sha, err := bookfs.StoredHash(f, name)
		if err != nil {
			return fmt.Errorf("%s: %s", p, bindery.ErrorMessage(err))
		}
		files = append(files, localFile{name: name, path: p, sha: sha})
		return nil
	})
	return files, skipped, err
}

func runPush(ctx context.Context, e *env, args []string) error {
	dir, rest := splitDir(args)
	fs := newFlags(e, "push")
	book := fs.Int64("book", 0, "the book to update (default: the one this folder was pushed to, else a new book)")
	del := fs.Bool("delete", false, "also delete the book's files that the folder no longer has")
	setUsage(e, fs, `Usage: bindery push DIR [--book ID] [--delete]

Sends a book folder to the server: the first push creates the book (one
archive upload); later pushes send only the files whose content changed
(compared by SHA-256), and with --delete remove the files you deleted.
Files are checked here with the server's rules before anything is sent.

Examples:
  bindery push examples/lighthouse
  bindery push ~/books/novel --book 12 --delete
`)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if dir == "" || fs.NArg() > 0 {
		return usagef("push needs a book folder: bindery push DIR [--book ID] [--delete]")
	}
	c, creds, err := remote(e)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	files, skipped, err := bookFiles(abs)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(e.stderr, "skipped %s: not a book file type\n", s)
	}
	id := *book
	if id == 0 && creds.Server == c.URL() {
		id = creds.Books[abs]
	}
	if id == 0 {
		newID, title, err := importFolder(ctx, c, abs, files)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Created book %d, %q, with %d files.\n", newID, title, len(files))
		return rememberBook(e, creds, c, abs, newID)
	}
	remoteFiles, err := c.Files(ctx, id)
	if err != nil {
		return err
	}
	sent, same := 0, 0
	local := map[string]bool{}
	for _, f := range files {
		local[f.name] = true
		if remoteFiles[f.name] == f.sha {
			same++
			continue
		}
		r, err := openInFolder(abs, f.path)
		if err != nil {
			return err
		}
		err = c.PutFile(ctx, id, f.name, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		fmt.Fprintf(e.stderr, "sent %s\n", f.name)
		sent++
	}
	deleted := 0
	if *del {
		var gone []string
		for name := range remoteFiles {
			if !local[name] {
				gone = append(gone, name)
			}
		}
		sort.Strings(gone)
		for _, name := range gone {
			if err := c.DeleteFile(ctx, id, name); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			fmt.Fprintf(e.stderr, "deleted %s\n", name)
			deleted++
		}
	}
	fmt.Fprintf(e.stdout, "Book %d: %d sent, %d unchanged, %d deleted.\n", id, sent, same, deleted)
	return rememberBook(e, creds, c, abs, id)
}

// openInFolder opens the file p (slash path) of the folder dir through an
// os.Root, as bookFiles listed it: a link swapped in since cannot make push
// send a file from outside the folder.
func openInFolder(dir, p string) (*rootFile, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	f, err := root.Open(p)
	if err != nil {
		root.Close()
		return nil, err
	}
	return &rootFile{File: f, root: root}, nil
}

// rootFile is a file that closes its os.Root with it.
type rootFile struct {
	*os.File
	root *os.Root
}

func (f *rootFile) Close() error {
	err := f.File.Close()
	f.root.Close()
	return err
}

// importFolder creates a book from files with one archive upload, the zip
// written while it is sent.
func importFolder(ctx context.Context, c *client.Client, abs string, files []localFile) (int64, string, error) {
	pr, pw := io.Pipe()
	go func() {
		zw := zip.NewWriter(pw)
		err := func() error {
			for _, f := range files {
				w, err := zw.Create(f.name)
				if err != nil {
					return err
				}
				r, err := openInFolder(abs, f.path)
				if err != nil {
					return err
				}
				_, err = io.Copy(w, r)
				r.Close()
				if err != nil {
					return err
				}
			}
			return zw.Close()
		}()
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	return c.Import(ctx, pr)
}

func rememberBook(e *env, creds *credentials, c *client.Client, abs string, id int64) error {
	if creds.Server != c.URL() {
		return nil // given by BINDERY_SERVER: nothing of it is stored
	}
	if creds.Books == nil {
		creds.Books = map[string]int64{}
	}
	if creds.Books[abs] == id {
		return nil
	}
	creds.Books[abs] = id
	return saveCredentials(e, creds)
}

func runPull(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "pull")
	setUsage(e, fs, `Usage: bindery pull ID DIR

Fetches book ID's folder from the server into DIR, which must not exist
or be empty. Pushing it back unchanged sends nothing.

Example:
  bindery pull 12 ~/books/novel
`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("pull needs a book id and a folder: bindery pull ID DIR")
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return usagef("pull: %q is not a book id", fs.Arg(0))
	}
	dir := fs.Arg(1)
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("%s is not empty: pull into a new folder", dir)
	}
	c, creds, err := remote(e)
	if err != nil {
		return err
	}
	body, err := c.SourceZip(ctx, id)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".pull-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(body, 4<<30))
	if err != nil {
		return err
	}
	count, err := unzipBook(tmp, n, dir)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(dir)
	fmt.Fprintf(e.stdout, "Book %d: %d files in %s.\n", id, count, dir)
	return rememberBook(e, creds, c, abs, id)
}

// unzipBook writes the zip's files into dir through an os.Root, each name
// checked with the server's rules: a hostile archive cannot write outside
// dir, and nothing but regular files is made.
func unzipBook(r io.ReaderAt, size int64, dir string) (int, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return 0, fmt.Errorf("the server's archive is unreadable: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	// The server is trusted with the book, not with the disk: the entries
	// and their inflated size are bounded. archive/zip refuses an entry
	// that inflates past its declared size, so the declared sum holds.
	const maxEntries, maxTotal = 100_000, int64(4) << 30
	if len(zr.File) > maxEntries {
		return 0, fmt.Errorf("the server's archive has more than %d entries", maxEntries)
	}
	var total int64
	for _, zf := range zr.File {
		total += int64(zf.UncompressedSize64 & (1<<62 - 1)) // #nosec G115 -- masked below 2^62
	}
	if total > maxTotal {
		return 0, fmt.Errorf("the server's archive would unpack to more than %d GiB", maxTotal>>30)
	}
	n := 0
	for _, zf := range zr.File {
		if !zf.Mode().IsRegular() {
			return n, fmt.Errorf("the archive entry %q is not a regular file", zf.Name)
		}
		name, err := bookfs.CleanPath(zf.Name)
		if err != nil {
			return n, fmt.Errorf("the archive entry %q: %s", zf.Name, bindery.ErrorMessage(err))
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o750); err != nil {
				return n, err
			}
		}
		if err := writeEntry(root, name, zf); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func writeEntry(root *os.Root, name string, zf *zip.File) error {
	in, err := zf.Open()
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(in, 1<<30)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func runRun(ctx context.Context, e *env, args []string) error {
	dir, rest := splitDir(args)
	fs := newFlags(e, "run")
	book := fs.Int64("book", 0, "the book to build (default: the one DIR was pushed to)")
	formats := fs.String("formats", "epub,html,pdf", "comma-separated: epub, html, pdf")
	follow := fs.Bool("follow", false, "follow the run live and exit with its result")
	setUsage(e, fs, `Usage: bindery run [DIR] [--book ID] [--formats epub,html,pdf] [--follow]

Builds a book on the server. With --follow it shows the run live, with
the same progress bar as bindery build, and exits 0 when it succeeds,
1 when it fails or is stopped.

Examples:
  bindery push ~/books/novel && bindery run ~/books/novel --follow
  bindery run --book 12 --formats pdf --follow
`)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes at most one book folder: bindery run [DIR] [--book ID] [--formats …] [--follow]")
	}
	fmts, err := build.ParseFormats(*formats)
	if err != nil {
		return usagef("%v", err)
	}
	c, creds, err := remote(e)
	if err != nil {
		return err
	}
	id := *book
	if id == 0 {
		if dir == "" {
			dir = "."
		}
		abs, _ := filepath.Abs(dir)
		if creds.Server == c.URL() {
			id = creds.Books[abs]
		}
		if id == 0 {
			return usagef("run: %s was never pushed to %s; push it first or give --book ID", dir, c.URL())
		}
	}
	names := make([]string, len(fmts))
	for i, f := range fmts {
		names[i] = string(f)
	}
	run, err := c.StartRun(ctx, id, names, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Run %d of book %d: %s.\n", run.ID, id, run.State)
	if !*follow {
		return nil
	}
	p := build.NewProgress(e.stderr, isTerminal(e.stderr), len(bindery.Stages))
	end, err := c.Follow(ctx, run.ID, func(ev *bindery.Event) {
		switch ev.Type {
		case bindery.EventStageStarted:
			p.Step(ev.Stage)
		case bindery.EventStageFinished:
			p.Done(strings.TrimSpace(ev.Stage + ": " + ev.Message))
		case bindery.EventStageProgress, bindery.EventLog:
			if ev.Message != "" {
				p.Line("  " + ev.Message)
			}
		case bindery.EventRunPaused, bindery.EventRunResumed:
			p.Line(strings.TrimPrefix(ev.Type, "run_"))
		}
	})
	p.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Run %d %s.\n", end.ID, end.State)
	if end.State != bindery.RunSucceeded {
		if end.Error != "" {
			return errors.New(end.Error)
		}
		return fmt.Errorf("run %d %s", end.ID, end.State)
	}
	return nil
}
