package bookfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"

	"github.com/bindery/bindery/internal/manuscript"
)

// StoredHash returns the hex SHA-256 of what Put would store for the file
// f under name: the bytes themselves, or for JPEG, PNG, GIF and WebP
// images the copy without metadata. It applies Put's type and content
// checks, so a client (bindery push) learns of a refusal before sending
// anything, in the server's words, and can compare its files with the
// server's (Hashes) without sending them. Images are held to the default
// pixel limits (the server's own may be lower; it then refuses the
// upload).
func StoredHash(f *os.File, name string) (string, error) {
	k, err := KindOf(name)
	if err != nil {
		return "", err
	}
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	rewritten, err := checkContent(f, info.Size(), k, h, manuscript.DefaultLimits)
	if err != nil {
		return "", err
	}
	if !rewritten {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", err
		}
		if _, err := io.Copy(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Hashes returns the hex SHA-256 of every file of book id, by path. It
// reads the whole book: for clients that synchronise (bindery push).
func (s *Store) Hashes(ctx context.Context, id int64) (map[string]string, error) {
	files, err := s.List(id)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(files))
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r, _, err := s.Get(id, f.Path)
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil {
			return nil, err
		}
		out[f.Path] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}
