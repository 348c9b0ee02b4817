package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/config"
)

// adoptOutputs puts into shared storage the published editions and runs'
// artifacts this data folder held before its server's files moved there
// (BINDERY_S3_… turned on), so that every node serves them: an edition
// whose copy in the bucket is missing is uploaded under its run
// (blob.EditionKey), and a run's artifacts when the bucket has none of
// them. Objects already there are left alone, so it is cheap at every
// start. It returns how many objects it uploaded.
func adoptOutputs(ctx context.Context, cfg *config.Config, store bindery.Store, outputs blob.Store) (int, error) {
	n := 0
	put := func(dir, name, key string) error {
		f, _, err := bookfs.OpenPlain(dir, name)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := outputs.Put(ctx, key, f); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		n++
		return nil
	}
	pubs, err := store.ListPublications(ctx)
	if err != nil {
		return n, err
	}
	for _, p := range pubs {
		dir := editionDir(cfg)(p.BookID)
		for _, name := range bookfs.ListPlain(dir) {
			key := blob.EditionKey(p.BookID, p.RunID, name)
			if _, err := outputs.Stat(ctx, key); bindery.ErrorCode(err) != bindery.ENOTFOUND {
				if err != nil {
					return n, err
				}
				continue
			}
			if err := put(dir, name, key); err != nil {
				return n, err
			}
		}
	}
	entries, err := os.ReadDir(filepath.Join(cfg.DataDir, "artifacts"))
	if os.IsNotExist(err) {
		return n, nil
	} else if err != nil {
		return n, err
	}
	for _, e := range entries {
		id, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || !e.IsDir() {
			continue
		}
		if _, err := store.RunByID(ctx, id); err != nil {
			continue // no run (start-up's reconciliation removes the folder)
		}
		empty := true
		for _, err := range outputs.List(ctx, blob.RunPrefix(id)) {
			if err != nil {
				return n, err
			}
			empty = false
			break
		}
		if !empty {
			continue
		}
		dir := artifactsDir(cfg)(id)
		for _, name := range bookfs.ListPlain(dir) {
			if err := put(dir, name, blob.RunKey(id, name)); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
