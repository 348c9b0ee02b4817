package auth_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/auditchain"
	"github.com/bindery/bindery/internal/auth"
	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/clock"
	"github.com/bindery/bindery/internal/testkit"
)

// TestAuditHoldsNoAddresses: the entries the service writes name people by
// id; a failed sign-in carries the configured pseudonym of the address
// claimed, or by default an opaque one — never the address — whatever the
// outcome (unknown account, wrong password, malformed address).
func TestAuditHoldsNoAddresses(t *testing.T) {
	ctx := context.Background()
	kr := testkit.Keyring(t)
	for _, tc := range []struct {
		name   string
		pseudo func(string) string
		want   func(email string) string
	}{
		{"keyring pseudonym", func(e string) string { return auditchain.Pseudonym(kr, e) }, func(e string) string { return auditchain.Pseudonym(kr, e) }},
		{"default", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			c := clock.NewFake(time.Unix(1e9, 0))
			svc, err := auth.NewService(ctx, auth.Config{
				Store: st, Hasher: auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1}), Now: c.Now,
				Sleep: func(context.Context, time.Duration) error { return nil }, Pseudonymize: tc.pseudo,
			})
			if err != nil {
				t.Fatal(err)
			}
			const pw = "correct horse battery staple"
			admin, err := svc.CreateUser(ctx, nil, "admin.person@example.com", bindery.RoleAdmin, pw, auth.Client{})
			if err != nil {
				t.Fatal(err)
			}
			other, err := svc.CreateUser(ctx, admin, "other.person@example.com", bindery.RoleViewer, pw, auth.Client{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetRole(ctx, admin, other.ID, bindery.RoleEditor, auth.Client{}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := svc.CreateAPIToken(ctx, admin, other, "ci", 0, auth.Client{}); err != nil {
				t.Fatal(err)
			}
			for _, claimed := range []string{"Nobody.Here@Example.org ", "nobody.here@example.org", "other.person@example.com", "not-an-address"} {
				svc.Login(ctx, claimed, "wrong password here", "", auth.Client{}, "")
			}
			if err := svc.DeleteUser(ctx, admin, other.ID, auth.Client{}); err != nil {
				t.Fatal(err)
			}
			events, err := st.ListAudit(ctx, bindery.AuditFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, e := range events {
				all := e.Subject + " " + e.Target + " " + e.Detail
				if strings.Contains(all, "@") || strings.Contains(all, "not-an-address") {
					t.Errorf("entry %d (%s) holds an address: %+v", e.ID, e.Action, e)
				}
				if e.Action == bindery.AuditLoginFailed {
					failed = append(failed, e.Subject)
				}
				if e.Action == bindery.AuditRoleChanged && e.Target != bindery.UserTarget(other.ID) {
					t.Errorf("role change target %q, want %s", e.Target, bindery.UserTarget(other.ID))
				}
			}
			// Newest first: not-an-address, other, nobody, Nobody.
			if len(failed) != 4 || failed[2] != failed[3] || failed[1] == failed[2] || failed[0] == "" {
				t.Fatalf("failed sign-in subjects %q: want equal pseudonyms for equal addresses, distinct otherwise", failed)
			}
			for _, s := range failed {
				if !regexp.MustCompile(`^acct:[0-9a-f]{16}$`).MatchString(s) {
					t.Errorf("subject %q is not acct: and 16 hex digits", s)
				}
			}
			if tc.want != nil && failed[1] != tc.want("other.person@example.com") {
				t.Errorf("subject %q, want the configured pseudonym %q", failed[1], tc.want("other.person@example.com"))
			}
		})
	}
}
