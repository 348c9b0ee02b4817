package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"golang.org/x/term"
)

// cliClient marks audit entries made from the shell.
var cliClient = auth.Client{UserAgent: "bindery-cli"}

// withAuth opens the store and the auth service for a shell command.
func withAuth(ctx context.Context, e *env, f func(bindery.Store, *auth.Service) error) error {
	d, closeAll, err := openDeps(ctx, e, false, authHooks{})
	if err != nil {
		return err
	}
	defer closeAll()
	return f(d.store, d.auth)
}

func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("user needs a sub-command: add, list, set-role, delete, export or reset-2fa")
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, e, args[1:])
	case "list":
		return userList(ctx, e, args[1:])
	case "set-role":
		return userSetRole(ctx, e, args[1:])
	case "delete":
		return userDelete(ctx, e, args[1:])
	case "export":
		return userExport(ctx, e, args[1:])
	case "reset-2fa":
		return userResetTwoFactor(ctx, e, args[1:])
	}
	return usagef("unknown user sub-command %q: use add, list, set-role, delete, export or reset-2fa", args[0])
}

func userAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user add")
	email := fs.String("email", "", "e-mail address (required)")
	role := fs.String("role", "author", "admin, author, editor or viewer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return usagef("user add needs --email")
	}
	r, err := bindery.ParseRole(*role)
	if err != nil {
		return err
	}
	pw, err := readPassword(e)
	if err != nil {
		return err
	}
	return withAuth(ctx, e, func(_ bindery.Store, svc *auth.Service) error {
		u, err := svc.CreateUser(ctx, nil, *email, r, pw, cliClient)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Created %s (%s), id %d.\n", u.Email, u.Role, u.ID)
		return nil
	})
}

// readPassword reads a new password: from a terminal without echo, asked
// twice; otherwise the first line of standard input (for scripts:
// `printf '%s\n' "$PW" | bindery user add …`). Never from a flag, which
// would leave it in shell history and the process list.
func readPassword(e *env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password (at least 12 characters): ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(e.stderr, "Repeat password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 4*auth.MaxPasswordLength+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

func userList(ctx context.Context, e *env, args []string) error {
	if err := newFlags(e, "user list").Parse(args); err != nil {
		return err
	}
	return withAuth(ctx, e, func(store bindery.Store, _ *auth.Service) error {
		users, err := store.ListUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, u.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})
}

// userByEmail finds a user for a shell command.
func userByEmail(ctx context.Context, store bindery.Store, email string) (*bindery.User, error) {
	norm, err := bindery.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	u, err := store.UserByEmail(ctx, norm)
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return nil, fmt.Errorf("no user with e-mail %s", norm)
	}
	return u, err
}

func userSetRole(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "user set-role")
	email := fs.String("email", "", "e-mail address (required)")
	role := fs.String("role", "", "admin, author, editor or viewer (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *role == "" {
		return usagef("user set-role needs --email and --role")
	}
	r, err := bindery.ParseRole(*role)
	if err != nil {
		return err
	}
	return withAuth(ctx, e, func(store bindery.Store, svc *auth.Service) error {
		u, err := userByEmail(ctx, store, *email)
		if err != nil {
			return err
		}
		if _, err := svc.SetRole(ctx, nil, u.ID, r, cliClient); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is now %s; their sessions were signed out.\n", u.Email, r)
		return nil
	})
}
