package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
)

func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("token needs a sub-command: create")
	}
	fs := newFlags(e, "token create")
	email := fs.String("user", "", "e-mail of the token's owner (required)")
	name := fs.String("name", "", "what the token is for (required)")
	expires := fs.Duration("expires", auth.DefaultTokenLifetime, "lifetime, at most 8784h")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *name == "" {
		return usagef("token create needs --user and --name")
	}
	return withAuth(ctx, e, func(store bindery.Store, svc *auth.Service) error {
		u, err := userByEmail(ctx, store, *email)
		if err != nil {
			return err
		}
		secret, t, err := svc.CreateAPIToken(ctx, nil, u, *name, *expires, cliClient)
		if err != nil {
			return err
		}
		// The secret goes to stdout alone on its line so scripts can
		// capture it; the note goes to stderr.
		fmt.Fprintf(e.stderr, "Token %s for %s, expires %s. It is shown once; store it now.\n", t.ID, u.Email, t.ExpiresAt.Format(time.RFC3339))
		fmt.Fprintln(e.stdout, secret)
		return nil
	})
}

func runSessions(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "revoke" {
		return usagef("sessions needs a sub-command: revoke --all")
	}
	fs := newFlags(e, "sessions revoke")
	all := fs.Bool("all", false, "revoke every session of every user")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if !*all {
		return usagef("sessions revoke needs --all")
	}
	return withAuth(ctx, e, func(_ bindery.Store, svc *auth.Service) error {
		n, err := svc.RevokeAllSessions(ctx, cliClient)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Revoked %d sessions.\n", n)
		return nil
	})
}
