package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/bindery/bindery/internal/blob"
)

// S3Config returns the settings of the test S3 server that
// scripts/versitygw.sh started (BINDERY_TEST_S3_*), with a prefix of its
// own, so that every test has an empty store in the shared bucket.
//
// Without a server the test is skipped, except under CI=true, where it
// fails: CI must never pass by skipping.
func S3Config(tb testing.TB) blob.S3Config {
	tb.Helper()
	cfg := blob.S3Config{
		Endpoint:  os.Getenv("BINDERY_TEST_S3_ENDPOINT"),
		Bucket:    os.Getenv("BINDERY_TEST_S3_BUCKET"),
		AccessKey: os.Getenv("BINDERY_TEST_S3_ACCESS_KEY"),
		SecretKey: blob.Secret(os.Getenv("BINDERY_TEST_S3_SECRET_KEY")),
		Region:    "us-east-1",
		Prefix:    "test-" + randomHex(8) + "/",
	}
	if cfg.Endpoint == "" || cfg.Bucket == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		const why = `no test S3 server: BINDERY_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY and _SECRET_KEY are unset (start one with: eval "$(scripts/versitygw.sh start)")`
		if os.Getenv("CI") == "true" {
			tb.Fatal(why)
		}
		tb.Skip(why)
	}
	return cfg
}

// S3Env is c (S3Config's settings) as the BINDERY_S3_* variables a
// `bindery serve` or `bindery migrate` under test reads.
func S3Env(c blob.S3Config) map[string]string {
	return map[string]string{"BINDERY_S3_ENDPOINT": c.Endpoint, "BINDERY_S3_BUCKET": c.Bucket, "BINDERY_S3_REGION": c.Region,
		"BINDERY_S3_ACCESS_KEY": c.AccessKey, "BINDERY_S3_SECRET_KEY": string(c.SecretKey), "BINDERY_S3_PREFIX": c.Prefix}
}

// S3 opens a store on S3Config's settings.
func S3(tb testing.TB) *blob.S3 {
	tb.Helper()
	s, err := blob.NewS3(context.Background(), S3Config(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
