package client_test

import (
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/client"
)

// TestNewRefusesUnsafeServers: an API token is only ever sent over TLS,
// or to this machine; a URL with credentials, a query or a fragment is
// refused rather than guessed at.
func TestNewRefusesUnsafeServers(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://books.example.org", ""},
		{"https://books.example.org:8443/", ""},
		{"http://127.0.0.1:8765", ""},
		{"http://localhost:8765", ""},
		{"http://[::1]:8765", ""},
		{"http://books.example.org", "unencrypted"},
		{"http://10.0.0.5:8765", "unencrypted"},
		{"ftp://books.example.org", "https://host"},
		{"https://user:pass@books.example.org", "https://host"},
		{"https://books.example.org/?x=1", "https://host"},
		{"books.example.org", "https://host"},
	} {
		_, err := client.New(tc.url, "bindery_pat_x")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("New(%q) = %v, want it accepted", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("New(%q) = %v, want an error containing %q", tc.url, err, tc.want)
		}
	}
}
