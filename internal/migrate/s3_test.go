package migrate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bindery/bindery/internal/migrate"
	"github.com/bindery/bindery/internal/testkit"
)

// TestMigrateFilesToS3: the data folder's files go to a real S3 server;
// a run cut short after the first file resumes, skipping what is there
// (and checking its hash), and every key ends up in the bucket.
func TestMigrateFilesToS3(t *testing.T) {
	s := newSource(t, testkit.Keyring(t))
	dst := testkit.S3(t)
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
