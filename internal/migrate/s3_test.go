package migrate_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/migrate"
	"github.com/bindery/bindery/internal/testkit"
)

// s3Store opens the test S3 server that scripts/versitygw.sh started
// (BINDERY_TEST_S3_*) under a fresh key prefix, so that each test has
// an empty store of its own in the shared bucket. Without a server the
// test is skipped, except under CI=true, where it fails.
func s3Store(t *testing.T) *blob.S3 {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	cfg := blob.S3Config{
		Endpoint:  os.Getenv("BINDERY_TEST_S3_ENDPOINT"),
		Bucket:    os.Getenv("BINDERY_TEST_S3_BUCKET"),
		AccessKey: os.Getenv("BINDERY_TEST_S3_ACCESS_KEY"),
		SecretKey: blob.Secret(os.Getenv("BINDERY_TEST_S3_SECRET_KEY")),
		Region:    "us-east-1",
		Prefix:    "migrate-" + hex.EncodeToString(b) + "/",
	}
	if cfg.Endpoint == "" || cfg.Bucket == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		const why = `no test S3 server: BINDERY_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY and _SECRET_KEY are unset (start one with: eval "$(scripts/versitygw.sh start)")`
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	s, err := blob.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMigrateFilesToS3: the data folder's files go to a real S3 server;
// a run cut short after the first file resumes, skipping what is there
// (and checking its hash), and every key ends up in the bucket.
func TestMigrateFilesToS3(t *testing.T) {
	s := newSource(t, testkit.Keyring(t))
	dst := s3Store(t)
	url := testkit.PostgresURL(t)

	// Rows in one batch per table: the crash falls among the files,
	// after the second file the run copies.
	o := options(t, s, openTarget(t, url, s.kr), dst)
	o.BatchRows = 5000
	rows, files := 0, 0
	migrate.SetStep(&o, func() error {
		if files > 0 || rows == 20 { // 20 tables with rows
			if files++; files == 2 {
				return errCrash
			}
			return nil
		}
		rows++
		return nil
	})
	if _, err := migrate.Run(context.Background(), o); !errors.Is(err, errCrash) {
		t.Fatalf("the crashed run: %v", err)
	}
	rep := mustRun(t, options(t, s, openTarget(t, url, s.kr), dst))
	if rep.Blobs.Already != 2 || rep.Blobs.Copied != int64(len(s.blobKeys))-2 || rep.Blobs.Verified != int64(len(s.blobKeys)) {
		t.Errorf("files after the resumed run: %+v", rep.Blobs)
	}
	for _, k := range s.blobKeys {
		if _, err := dst.Stat(context.Background(), k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
}
