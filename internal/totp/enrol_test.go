package totp

import (
	"bytes"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestURI(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXP"
	tests := []struct{ account, want string }{
		{"ada@example.org", "otpauth://totp/Bindery:ada@example.org?secret=JBSWY3DPEHPK3PXP&issuer=Bindery"},
		{"a b/c?d#e@example.org", "otpauth://totp/Bindery:a%20b%2Fc%3Fd%23e@example.org?secret=JBSWY3DPEHPK3PXP&issuer=Bindery"},
		{"zoë@example.org", "otpauth://totp/Bindery:zo%C3%AB@example.org?secret=JBSWY3DPEHPK3PXP&issuer=Bindery"},
	}
	for _, tt := range tests {
		got := URI(secret, tt.account)
		if got != tt.want {
			t.Errorf("URI(%q) =\n %s, want\n %s", tt.account, got, tt.want)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Bindery:"+tt.account ||
			u.Query().Get("secret") != secret || u.Query().Get("issuer") != "Bindery" {
			t.Errorf("URI(%q) parses to %#v", tt.account, u)
		}
	}
}

func TestQRCodeIsAPNG(t *testing.T) {
	img, err := QRCode(URI(NewSecret(), "ada@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := m.Bounds(); b.Dx() != b.Dy() || b.Dx() < 200 || b.Dx() > 1000 {
		t.Errorf("image is %v, want a square of a few hundred pixels", b)
	}
}

// TestQRCodeScans reads the QR code back with zbarimg (Debian zbar-tools):
// the real check that an app can scan it. Like the other tests that need an
// outside tool, it fails under CI=true when the tool is missing.
func TestQRCodeScans(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("zbarimg is required when CI=true: apt-get install -y zbar-tools")
		}
		t.Skip("zbarimg not found (apt-get install -y zbar-tools)")
	}
	for _, account := range []string{"ada@example.org", strings.Repeat("long.name", 20) + "@example.org"} {
		uri := URI(NewSecret(), account)
		img, err := QRCode(uri)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(path, img, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "--quiet", "--raw", path).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		if got := strings.TrimSpace(string(out)); got != uri {
			t.Errorf("scanned %q, want %q", got, uri)
		}
	}
}
