package migrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
)

// BlobReport is what happened to the files (blob keys).
type BlobReport struct {
	Objects  int64 // keys in the source
	Copied   int64 // copied by this run
	Already  int64 // in the target already with the same size (an earlier, interrupted run)
	Bytes    int64 // bytes copied by this run
	Verified int64 // keys found in the target with the right size (and, for content keys, hash)

	rehash map[string]bool // content keys found already there: their hash is checked by verify
}

// contentKey reports whether key names its bytes (its last component is
// the lowercase hex SHA-256 of the object, as blob.Store.PutContent
// makes it: books/<id>/files/<sha>, runs/<run>/<sha>,
// editions/<book>/<sha>), and returns the prefix PutContent takes for
// it. The image cache's keys are hashes of the request, not of the
// bytes: they are checked by size only.
func contentKey(key string) (prefix string, ok bool) {
	if strings.HasPrefix(key, "cache/") {
		return "", false
	}
	i := strings.LastIndexByte(key, '/')
	name := key[i+1:]
	if len(name) != sha256.Size*2 || strings.ToLower(name) != name {
		return "", false
	}
	if _, err := hex.DecodeString(name); err != nil {
		return "", false
	}
	return key[:i+1], true
}

// copyBlobs copies every source key the target lacks (or holds with
// another size), one object at a time. A content key is written with
// PutContent, so the target names the object by the hash of the bytes it
// received: if that is not the source's key, the source object is
// corrupt, the stray copy is deleted, and the key is reported.
func (m *migration) copyBlobs(ctx context.Context) (*BlobReport, error) {
	src, dst := m.o.SourceBlobs, m.o.TargetBlobs
	rep := &BlobReport{rehash: map[string]bool{}}
	for info, err := range src.List(ctx, "") {
		if err != nil {
			return nil, fmt.Errorf("listing the data folder's files: %w", err)
		}
		rep.Objects++
		have, err := dst.Stat(ctx, info.Key)
		switch {
		case err == nil && have.Size == info.Size:
			rep.Already++
			if _, ok := contentKey(info.Key); ok {
				rep.rehash[info.Key] = true
			}
			continue
		case err != nil && bindery.ErrorCode(err) != bindery.ENOTFOUND:
			return nil, fmt.Errorf("looking for %s in the target: %w", info.Key, err)
		}
		if err := m.copyBlob(ctx, info); err != nil {
			return nil, err
		}
		rep.Copied++
		rep.Bytes += info.Size
		if err := m.stepped(); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// errCorrupt marks a source object whose bytes do not hash to its key.
type errCorrupt struct{ key string }

func (e errCorrupt) Error() string {
	return fmt.Sprintf("the data folder's file %s does not hash to its name: it is damaged (restore it from a backup, then run migrate again)", e.key)
}

func (m *migration) copyBlob(ctx context.Context, info blob.Info) error {
	r, _, err := m.o.SourceBlobs.Open(ctx, info.Key)
	if err != nil {
		return fmt.Errorf("reading %s: %w", info.Key, err)
	}
	defer r.Close()
	if prefix, ok := contentKey(info.Key); ok {
		got, err := m.o.TargetBlobs.PutContent(ctx, prefix, r)
		if err != nil {
			return fmt.Errorf("writing %s: %w", info.Key, err)
		}
		if got.Key != info.Key {
			if err := m.o.TargetBlobs.Delete(ctx, got.Key); err != nil {
				return fmt.Errorf("deleting a damaged copy: %w", err)
			}
			return errCorrupt{info.Key}
		}
		return nil
	}
	got, err := m.o.TargetBlobs.Put(ctx, info.Key, r)
	if err != nil {
		return fmt.Errorf("writing %s: %w", info.Key, err)
	}
	if got.Size != info.Size {
		return fmt.Errorf("%s: %d bytes written, the source has %d (was it changed during the migration?)", info.Key, got.Size, info.Size)
	}
	return nil
}

// verifyBlobs checks that every source key is in the target with its
// size, and that every content key found already there (copied by an
// earlier run, not checked by this one's PutContent) hashes to its name.
func (m *migration) verifyBlobs(ctx context.Context, rep *BlobReport) ([]string, error) {
	var problems []string
	for info, err := range m.o.SourceBlobs.List(ctx, "") {
		if err != nil {
			return nil, fmt.Errorf("listing the data folder's files: %w", err)
		}
		have, err := m.o.TargetBlobs.Stat(ctx, info.Key)
		switch {
		case bindery.ErrorCode(err) == bindery.ENOTFOUND:
			problems = append(problems, "file "+info.Key+" is missing from the target")
			continue
		case err != nil:
			return nil, err
		case have.Size != info.Size:
			problems = append(problems, fmt.Sprintf("file %s has %d bytes in the target, %d in the source", info.Key, have.Size, info.Size))
			continue
		}
		if rep.rehash[info.Key] {
			ok, err := hashesToName(ctx, m.o.TargetBlobs, info.Key)
			if err != nil {
				return nil, err
			}
			if !ok {
				problems = append(problems, "file "+info.Key+" in the target does not hash to its name")
				continue
			}
		}
		rep.Verified++
	}
	return problems, nil
}

// hashesToName reports whether the object under a content key has the
// SHA-256 its name says.
func hashesToName(ctx context.Context, st blob.Store, key string) (bool, error) {
	r, _, err := st.Open(ctx, key)
	if err != nil {
		return false, err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == key[strings.LastIndexByte(key, '/')+1:], nil
}
