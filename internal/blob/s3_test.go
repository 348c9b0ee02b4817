package blob_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/blob/blobtest"
	"github.com/bindery/bindery/internal/testkit"
)

// s3Env is the test S3 server's settings, with a prefix of its own
// (testkit.S3Config: skipped without a server, failed under CI=true).
func s3Env(t testing.TB) blob.S3Config { return testkit.S3Config(t) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func openS3(t testing.TB, cfg blob.S3Config) *blob.S3 {
	t.Helper()
	s, err := blob.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Suite(t *testing.T) {
	cfg := s3Env(t)
	blobtest.Run(t, func(t *testing.T) blob.Store {
		c := cfg
		c.Prefix = "test-" + randomHex(8) + "/"
		return openS3(t, c)
	})
}

// TestS3ErrorsHoldNoSecret: whatever fails, the secret key is not in the
// error text (which reaches logs).
func TestS3ErrorsHoldNoSecret(t *testing.T) {
	cfg := s3Env(t)
	ctx := context.Background()

	wrong := cfg
	wrong.SecretKey = blob.Secret("wrong-" + randomHex(16))
	_, err := blob.NewS3(ctx, wrong)
	if err == nil {
		t.Fatal("NewS3 with a wrong secret key succeeded")
	}
	if strings.Contains(err.Error(), string(wrong.SecretKey)) || strings.Contains(err.Error(), string(cfg.SecretKey)) {
		t.Fatalf("the error holds the secret key: %v", err)
	}
	if bindery.ErrorMessage(err) != "Internal error." {
		t.Fatalf("a storage failure shows users %q", bindery.ErrorMessage(err))
	}

	s := openS3(t, cfg)
	_, _, err = s.Open(ctx, "missing/key")
	if bindery.ErrorCode(err) != bindery.ENOTFOUND || strings.Contains(err.Error(), string(cfg.SecretKey)) {
		t.Fatalf("Open(missing) = %v", err)
	}

	none := cfg
	none.Bucket = "no-such-bucket-" + randomHex(4)
	_, err = blob.NewS3(ctx, none)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("NewS3(missing bucket) = %v", err)
	}
}

// TestS3PrefixIsolation: two stores with different prefixes in one
// bucket do not see each other's keys.
func TestS3PrefixIsolation(t *testing.T) {
	cfg := s3Env(t)
	ctx := context.Background()
	a := openS3(t, cfg)
	cfg.Prefix = "other-" + randomHex(8) + "/"
	b := openS3(t, cfg)
	if _, err := a.Put(ctx, "k", strings.NewReader("a's")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, "k"); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("b sees a's key: %v", err)
	}
	for info, err := range b.List(ctx, "") {
		t.Fatalf("b lists %+v, %v", info, err)
	}
}
