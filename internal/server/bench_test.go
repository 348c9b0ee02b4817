package server_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/server"
)

// BenchmarkMe measures the authenticated hot path (GET /api/v1/me) through
// the whole middleware chain, without the network.
func BenchmarkMe(b *testing.B) {
	h := newHarness(b, nil)
	tok := h.session(bindery.RoleAuthor)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "http://127.0.0.1/api/v1/me", nil)
			r.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: tok})
			w := httptest.NewRecorder()
			h.srvr.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
}
