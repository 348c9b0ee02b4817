package bookfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Prefixes of the hidden names the store writes: an upload's temporary
// file (createTemp) and a book folder being deleted (Remove). Clients can
// never address a name starting with a dot.
const (
	tempPrefix  = ".upload-"
	trashPrefix = ".deleted-"
)

// FinishRemovals completes deletions a crash interrupted: every folder a
// Remove renamed aside is removed, and the ids of their books returned, so
// that the caller can finish the rest of each deletion (the book's rows).
// Staging folders of imports a crash interrupted (Stage) are removed too:
// no book was created for them.
func (s *Store) FinishRemovals() ([]int64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), importFolderPrefix) {
			if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
				return ids, err
			}
			continue
		}
		rest, ok := strings.CutPrefix(e.Name(), trashPrefix)
		if !ok {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
			return ids, err
		}
		idText, _, _ := strings.Cut(rest, "-")
		if id, err := strconv.ParseInt(idText, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// IDs returns the ids of the book folders present.
func (s *Store) IDs() ([]int64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, e := range entries {
		if id, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && e.IsDir() && id > 0 && strconv.FormatInt(id, 10) == e.Name() {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// Exists reports whether book id has a folder.
func (s *Store) Exists(id int64) bool {
	fi, err := os.Lstat(s.bookDir(id))
	return err == nil && fi.IsDir()
}

// RemoveTemporary deletes the temporary files of uploads a crash
// interrupted in book id's folder (hidden, and outside the quota's count,
// they would otherwise stay forever), and the empty folders such uploads
// made for themselves, through an os.Root of the folder. It returns how
// many temporary files it removed.
func (s *Store) RemoveTemporary(id int64) (int, error) {
	root, err := s.Open(id)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	var temps, dirs []string
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.Type().IsRegular() && strings.HasPrefix(d.Name(), tempPrefix):
			temps = append(temps, p)
		case d.IsDir() && p != "." && !layout[p]:
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range temps {
		if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	// Folders an interrupted upload made for itself and left empty —
	// killed after making them, before or after its temporary file. A
	// book's folders exist only for its files (never the standard
	// layout), so every empty one is such a leftover. Deepest first:
	// removing a child may empty its parent; a folder that is not empty
	// is not removed.
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = root.Remove(dirs[i])
	}
	return n, nil
}

// layout are the folders every book has (Create).
var layout = map[string]bool{"chapters": true, "assets": true, "assets/images": true}

// FolderBytes is the size of the regular files directly in dir (a run's
// artifacts); 0 when it is missing.
func FolderBytes(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}
