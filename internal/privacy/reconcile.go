package privacy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bindery/bindery/internal/bindery"
)

// Reconciled counts what Reconcile changed, for the start-up log.
type Reconciled struct {
	DeletionsFinished int // books whose interrupted deletion was completed
	OrphansRemoved    int // folders of books, runs or editions the database does not hold
	FoldersCreated    int // book folders missing for a book the database holds
	TempsRemoved      int // temporary files of interrupted uploads
}

// Reconcile makes the data folder what the database describes, after a
// crash (the server calls it at start-up, holding the data-folder lock):
//
//   - a deletion interrupted after the book's folder was renamed aside is
//     finished: the folder removed, and the book's artifacts, edition and
//     rows deleted too (deleted means gone: a manuscript whose deletion
//     began is not left half on disk, nor listed with no files);
//   - folders of books, runs' artifacts and editions with no row are
//     removed, and a book with no folder gets an empty one;
//   - temporary files of interrupted uploads are removed.
func (s *Service) Reconcile(ctx context.Context) (Reconciled, error) {
	var rep Reconciled
	trashed, err := s.d.Books.FinishRemovals()
	if err != nil {
		return rep, fmt.Errorf("finishing deletions: %w", err)
	}
	for _, id := range trashed {
		b, err := s.d.Store.BookByID(ctx, id)
		if bindery.ErrorCode(err) == bindery.ENOTFOUND || err == nil && s.d.Books.Exists(id) {
			continue // already gone, or a new folder since (not this deletion's)
		} else if err != nil {
			return rep, err
		}
		if err := s.d.Library.Remove(ctx, b); err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
			return rep, fmt.Errorf("finishing the deletion of book %d: %w", id, err)
		}
		rep.DeletionsFinished++
		s.d.Logger.Warn("finished the deletion of a book interrupted by a restart", "book_id", id)
	}

	books, err := s.d.Store.ListBooks(ctx, 0, true)
	if err != nil {
		return rep, err
	}
	known := map[int64]bool{}
	for _, b := range books {
		known[b.ID] = true
	}
	present, err := s.d.Books.IDs()
	if err != nil {
		return rep, err
	}
	for _, id := range present {
		if !known[id] {
			if err := s.d.Books.Remove(id); err != nil {
				return rep, err
			}
			rep.OrphansRemoved++
		}
	}
	for _, b := range books {
		if !s.d.Books.Exists(b.ID) {
			if err := s.d.Books.Create(b.ID); err != nil {
				return rep, err
			}
			rep.FoldersCreated++
			continue
		}
		n, err := s.d.Books.RemoveTemporary(b.ID)
		rep.TempsRemoved += n
		if err != nil {
			return rep, fmt.Errorf("temporary files of book %d: %w", b.ID, err)
		}
	}

	// Editions and artifacts: numbered folders whose book or run is gone
	// (hidden ones are the catalog's and the builder's own, swept by them).
	if s.d.PublishedDir != nil {
		n, err := removeUnknown(filepath.Dir(s.d.PublishedDir(0)), func(id int64) bool { return known[id] })
		rep.OrphansRemoved += n
		if err != nil {
			return rep, err
		}
	}
	if s.d.ArtifactsDir != nil {
		n, err := removeUnknown(filepath.Dir(s.d.ArtifactsDir(0)), func(id int64) bool {
			_, err := s.d.Store.RunByID(ctx, id)
			return bindery.ErrorCode(err) != bindery.ENOTFOUND
		})
		rep.OrphansRemoved += n
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// removeUnknown removes the numbered folders of dir for which keep is
// false.
func removeUnknown(dir string, keep func(int64) bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		id, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || !e.IsDir() || strconv.FormatInt(id, 10) != e.Name() || keep(id) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
