// Package catalog publishes books: it makes a successful run's artifacts a
// book's published edition — only when the run's quality stage passed (the
// quality gate) — and serves the edition's files to the catalog pages and
// the OPDS feed.
//
// A publication is copied out of the run's folder into published/<book>/
// and swapped into place with renames, so readers never see a half
// edition and deleting old runs never breaks the catalog.
package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/bookfs"
	"github.com/bindery/bindery/internal/manuscript"
)

// Catalog publishes and serves editions.
type Catalog struct {
	store     bindery.Store
	dir       string                    // published/
	artifacts func(runID int64) string  // a run's artifact folder
	books     func(bookID int64) string // a book's folder
	outputs   blob.Store                // shared storage, or nil
	now       func() time.Time
}

// Config configures New.
type Config struct {
	Store        bindery.Store
	Dir          string                    // where editions live (created 0700)
	ArtifactsDir func(runID int64) string  // the pipeline's folder of a run
	BookDir      func(bookID int64) string // bookfs's folder of a book
	// Outputs, when several nodes share storage (BINDERY_S3_…), holds
	// the runs' artifacts (blob.RunKey) and the editions
	// (blob.EditionKey): each edition is written under its own run's
	// folder and the publication row switches to it, so that every node
	// serves the same, whole edition. nil: editions live in Dir.
	Outputs blob.Store
	Now     func() time.Time
}

// New returns a Catalog.
func New(c Config) (*Catalog, error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Catalog{store: c.Store, dir: c.Dir, artifacts: c.ArtifactsDir, books: c.BookDir, outputs: c.Outputs, now: c.Now}, nil
}

// QualityPassed reports whether a run's quality stage succeeded: the gate
// a run must pass to be published.
func QualityPassed(r *bindery.Run) bool {
	for _, s := range r.Stages {
		if s.Name == bindery.StageQuality {
			return s.State == "succeeded"
		}
	}
	return false
}

// Publish makes run runID's artifacts the published edition of its book,
// by user by. ECONFLICT when the run's quality stage has not passed or the
// run is a draft.
// Audited. The caller emits the book_published event.
func (c *Catalog) Publish(ctx context.Context, runID, by int64) (*bindery.Publication, error) {
	return c.PublishRun(ctx, runID, by, nil)
}

// PublishRun is Publish with a commit point: when commit is not nil, it is
// called once the new edition is prepared and before it replaces the old
// one. An error from commit abandons the publication (nothing changes);
// once it returned nil, the switch, the publication row and the audit
// entry are carried out even if ctx is cancelled, so that a run that
// passed its commit point is never left half published. A run that
// passed it in an earlier execution and whose edition is already the
// book's gets that publication back, unchanged.
func (c *Catalog) PublishRun(ctx context.Context, runID, by int64, commit func(context.Context) error) (*bindery.Publication, error) {
	run, err := c.store.RunByID(ctx, runID)
	if err != nil {
		return nil, err
	}
	if run.Draft {
		return nil, bindery.Errorf(bindery.ECONFLICT, "Run %d is a draft (missing images and broken links allowed) and cannot be published: run again without draft.", runID)
	}
	if !QualityPassed(run) {
		return nil, bindery.Errorf(bindery.ECONFLICT, "Run %d cannot be published: its quality stage has not passed.", runID)
	}
	if commit != nil && run.Committed {
		// An earlier execution of this run passed its commit point and
		// then stopped (its node crashed). If it got as far as the
		// switch, the edition, its row and its audit entry are in place
		// (the row and the entry are one transaction): publishing again
		// would audit a second publication that nobody made.
		if cur, err := c.store.Publication(ctx, run.BookID); err == nil && cur.RunID == run.ID {
			return cur, nil
		} else if err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND {
			return nil, err
		}
	}
	md, err := c.metadata(run.BookID)
	if err != nil {
		return nil, err
	}
	pub := &bindery.Publication{BookID: run.BookID, RunID: run.ID, PublishedBy: by, PublishedAt: c.now().UTC(),
		Title: md.Title, Authors: md.Authors, Language: md.Language, Description: md.Description, Files: []string{}}
	if pub.Authors == nil {
		pub.Authors = []string{}
	}
	if c.outputs != nil {
		return c.publishShared(ctx, run, pub, md, by, commit)
	}
	tmp := filepath.Join(c.dir, ".tmp-"+strconv.FormatInt(run.BookID, 10)+"-"+randomHex())
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	entries, err := os.ReadDir(c.artifacts(run.ID))
	if err != nil {
		return nil, bindery.Errorf(bindery.ECONFLICT, "Run %d has no artifacts.", runID)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := copyFile(filepath.Join(c.artifacts(run.ID), e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return nil, err
		}
		pub.Files = append(pub.Files, e.Name())
	}
	if len(pub.Files) == 0 {
		return nil, bindery.Errorf(bindery.ECONFLICT, "Run %d has no artifacts.", runID)
	}
	if md.Cover != "" {
		// The cover comes from inside the book only (os.Root).
		if name, err := c.copyCover(run.BookID, md.Cover, tmp); err == nil {
			pub.Files = append(pub.Files, name)
		}
	}
	if commit != nil {
		if err := commit(ctx); err != nil {
			return nil, err
		}
		ctx = context.WithoutCancel(ctx)
	}
	if err := c.swap(run.BookID, tmp); err != nil {
		return nil, err
	}
	return c.record(ctx, pub, by)
}

// record stores the publication row (the switch to the new edition)
// with its audit entry, in one transaction.
func (c *Catalog) record(ctx context.Context, pub *bindery.Publication, by int64) (*bindery.Publication, error) {
	actor := by
	audit := &bindery.AuditEvent{At: c.now(), Action: bindery.AuditBookPublished, ActorID: &actor,
		Target: "book " + strconv.FormatInt(pub.BookID, 10), Detail: fmt.Sprintf("run %d: %s", pub.RunID, strings.Join(pub.Files, ", "))}
	if err := c.store.PutPublication(ctx, pub, audit); err != nil {
		return nil, err
	}
	return pub, nil
}

// publishShared is PublishRun with shared storage: the run's artifacts
// (and the book's cover) are copied to the edition's own folder
// (blob.EditionKey), then the publication row switches to it; readers on
// every node resolve the row, then open its files. Replaced editions are
// deleted later, once no reader can be on its way to them
// (CollectEditions).
func (c *Catalog) publishShared(ctx context.Context, run *bindery.Run, pub *bindery.Publication, md manuscript.Metadata, by int64, commit func(context.Context) error) (*bindery.Publication, error) {
	prefix := blob.RunPrefix(run.ID)
	var names []string
	for info, err := range c.outputs.List(ctx, prefix) {
		if err != nil {
			return nil, err
		}
		names = append(names, strings.TrimPrefix(info.Key, prefix))
	}
	for _, name := range names {
		if !bookfs.PlainName(name) {
			continue
		}
		obj, _, err := c.outputs.Open(ctx, blob.RunKey(run.ID, name))
		if err != nil {
			return nil, err
		}
		_, err = c.outputs.Put(ctx, blob.EditionKey(run.BookID, run.ID, name), obj)
		obj.Close()
		if err != nil {
			return nil, err
		}
		pub.Files = append(pub.Files, name)
	}
	if len(pub.Files) == 0 {
		return nil, bindery.Errorf(bindery.ECONFLICT, "Run %d has no artifacts.", run.ID)
	}
	if md.Cover != "" {
		tmp, err := os.MkdirTemp(c.dir, ".cover-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if name, err := c.copyCover(run.BookID, md.Cover, tmp); err == nil {
			f, err := os.Open(filepath.Join(tmp, name)) // #nosec G304 -- the catalog's own temporary folder and "cover" plus a checked extension
			if err != nil {
				return nil, err
			}
			_, err = c.outputs.Put(ctx, blob.EditionKey(run.BookID, run.ID, name), f)
			f.Close()
			if err != nil {
				return nil, err
			}
			pub.Files = append(pub.Files, name)
		}
	}
	if commit != nil {
		if err := commit(ctx); err != nil {
			return nil, err
		}
		ctx = context.WithoutCancel(ctx)
	}
	if _, err := c.record(ctx, pub, by); err != nil {
		return nil, err
	}
	return pub, nil
}

// CollectEditions deletes, in shared storage, the editions no publication
// row names any more (replaced ones, and those a publication abandoned
// before its switch) once they are older than grace: a reader resolves
// the publication row and then opens the edition's objects, so a
// replaced edition stays readable for as long as a request may take
// between the two. It returns how many objects it deleted. Run it on
// one node at a time (the cluster's periodic work); without shared
// storage it does nothing.
func (c *Catalog) CollectEditions(ctx context.Context, grace time.Duration, now time.Time) (int, error) {
	if c.outputs == nil {
		return 0, nil
	}
	var old []string
	book, current := int64(-1), ""
	for info, err := range c.outputs.List(ctx, blob.EditionsPrefix) {
		if err != nil {
			return 0, err
		}
		idText, _, ok := strings.Cut(strings.TrimPrefix(info.Key, blob.EditionsPrefix), "/")
		id, perr := strconv.ParseInt(idText, 10, 64)
		if !ok || perr != nil || now.Sub(info.Modified) < grace {
			continue
		}
		if id != book {
			book, current = id, ""
			pub, err := c.store.Publication(ctx, id)
			if err == nil {
				current = blob.EditionKey(id, pub.RunID, "")
			} else if bindery.ErrorCode(err) != bindery.ENOTFOUND {
				return 0, err
			}
		}
		if current == "" || !strings.HasPrefix(info.Key, current) {
			old = append(old, info.Key)
		}
	}
	return blob.DeleteKeys(ctx, c.outputs, old)
}

func (c *Catalog) metadata(bookID int64) (manuscript.Metadata, error) {
	root, err := os.OpenRoot(c.books(bookID))
	if err != nil {
		return manuscript.Metadata{}, err
	}
	defer root.Close()
	data, err := root.ReadFile(manuscript.MetadataFile)
	if err != nil {
		return manuscript.Metadata{}, bindery.Errorf(bindery.EUNPROCESSABLE, "The book has no readable metadata.yaml.")
	}
	return manuscript.ParseMetadata(data)
}

func (c *Catalog) copyCover(bookID int64, cover, dst string) (string, error) {
	ext := strings.ToLower(path.Ext(cover))
	switch ext {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp": // the book folder's image types (bookfs)
	default:
		return "", errors.New("not an image")
	}
	root, err := os.OpenRoot(c.books(bookID))
	if err != nil {
		return "", err
	}
	defer root.Close()
	data, err := root.ReadFile(path.Clean(cover))
	if err != nil {
		return "", err
	}
	name := "cover" + ext
	return name, os.WriteFile(filepath.Join(dst, name), data, 0o600) // #nosec G703 -- the path is the catalog's own temporary folder and "cover" plus an extension checked above; the tainted argument is the image's bytes, read through os.Root
}

// swap puts the prepared folder tmp in place of the book's edition.
func (c *Catalog) swap(bookID int64, tmp string) error {
	final := filepath.Join(c.dir, strconv.FormatInt(bookID, 10))
	old := filepath.Join(c.dir, ".old-"+strconv.FormatInt(bookID, 10)+"-"+randomHex())
	if err := os.Rename(final, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Rename(old, final)
		return err
	}
	return os.RemoveAll(old)
}

// Recover puts the catalog's folder in order after a crash, before the
// server starts: a prepared edition that was never switched in (.tmp-) is
// removed, and an edition moved aside by an interrupted switch (.old-) is
// put back if nothing replaced it, else removed. The switch is two
// renames; between them, the book had no edition folder.
func (c *Catalog) Recover() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, ".tmp-"):
			if err := os.RemoveAll(filepath.Join(c.dir, name)); err != nil {
				return err
			}
		case strings.HasPrefix(name, ".old-"):
			book, _, _ := strings.Cut(strings.TrimPrefix(name, ".old-"), "-")
			if _, err := strconv.ParseInt(book, 10, 64); err != nil {
				continue
			}
			final := filepath.Join(c.dir, book)
			if _, err := os.Lstat(final); errors.Is(err, fs.ErrNotExist) {
				if err := os.Rename(filepath.Join(c.dir, name), final); err != nil {
					return err
				}
				continue
			}
			if err := os.RemoveAll(filepath.Join(c.dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// EditionDir is the folder of a book's published edition (which may not
// exist), for deleting the book.
func (c *Catalog) EditionDir(bookID int64) string {
	return filepath.Join(c.dir, strconv.FormatInt(bookID, 10))
}

// RemoveEditions deletes every edition of book bookID, here and in
// shared storage.
func (c *Catalog) RemoveEditions(ctx context.Context, bookID int64) error {
	if err := os.RemoveAll(c.EditionDir(bookID)); err != nil {
		return err
	}
	if c.outputs != nil {
		return blob.DeletePrefix(ctx, c.outputs, blob.EditionPrefix(bookID))
	}
	return nil
}

// Open opens a file of a book's edition and says when it was written.
// ENOTFOUND unless name is a plain file of the edition.
func (c *Catalog) Open(ctx context.Context, bookID int64, name string) (io.ReadSeekCloser, time.Time, error) {
	if c.outputs == nil {
		f, fi, err := bookfs.OpenPlain(filepath.Join(c.dir, strconv.FormatInt(bookID, 10)), name)
		if err != nil {
			return nil, time.Time{}, err
		}
		return f, fi.ModTime(), nil
	}
	notFound := bindery.Errorf(bindery.ENOTFOUND, "Not found.")
	pub, err := c.store.Publication(ctx, bookID)
	if err != nil || !bookfs.PlainName(name) || !slices.Contains(pub.Files, name) {
		return nil, time.Time{}, notFound
	}
	obj, info, err := c.outputs.Open(ctx, blob.EditionKey(bookID, pub.RunID, name))
	if bindery.ErrorCode(err) == bindery.ENOTFOUND {
		return nil, time.Time{}, notFound
	} else if err != nil {
		return nil, time.Time{}, err
	}
	return obj, info.Modified, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
