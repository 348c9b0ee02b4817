package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// BenchSessionLookup measures SessionByTokenHash, the query of every
// signed-in request, on a store holding one user and one session.
func BenchSessionLookup(b *testing.B, s bindery.Store) {
	ctx := context.Background()
	u := mustUser(b, s, "bench@example.com", bindery.RoleAuthor)
	hash := bytes.Repeat([]byte{7}, 32)
	if err := s.CreateSession(ctx, &bindery.Session{ID: "bench", UserID: u.ID, TokenHash: hash, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(1 << 40)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := s.SessionByTokenHash(ctx, hash); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchAppendAudit measures AppendAudit from parallel goroutines: the
// chain serialises them, so this is the audit log's write throughput.
func BenchAppendAudit(b *testing.B, s bindery.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.AppendAudit(ctx, &bindery.AuditEvent{At: t0, Action: bindery.AuditLogout, Subject: "acct:0123456789abcdef"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
