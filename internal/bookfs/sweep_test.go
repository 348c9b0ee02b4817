package bookfs_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// TestRefusedUploadLeavesNothing: an upload refused after its folders were
// made (bad content, over the size limit) leaves neither a file nor the
// folders; folders that existed before stay.
func TestRefusedUploadLeavesNothing(t *testing.T) {
	s, dir := newStore(t, lim)
	if err := put(s, "assets/images/new/deeper/fake.png", []byte("GIF89a not a png")); bindery.ErrorCode(err) != bindery.EUNSUPPORTED {
		t.Fatalf("fake png: %v", err)
	}
	big := make([]byte, lim.MaxFileBytes+1)
	if err := put(s, "chapters/part-two/01-big.md", big); bindery.ErrorCode(err) != bindery.ETOOLARGE {
		t.Fatalf("big chapter: %v", err)
	}
	for _, gone := range []string{"assets/images/new", "chapters/part-two"} {
		if _, err := os.Lstat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s left behind by a refused upload (%v)", gone, err)
		}
	}
	for _, kept := range []string{"assets/images", "chapters"} {
		if _, err := os.Stat(filepath.Join(dir, kept)); err != nil {
			t.Errorf("%s removed: %v", kept, err)
		}
	}
	// An accepted upload keeps the folders it made.
	if err := put(s, "chapters/part-two/01-one.md", []byte("# One\n")); err != nil {
		t.Fatal(err)
	}
}

// TestSweepHelpers: temporary files of interrupted uploads are found at
// any depth and removed; trash of interrupted deletions is removed and its
// book ids reported.
func TestSweepHelpers(t *testing.T) {
	s, dir := newStore(t, lim)
	os.MkdirAll(filepath.Join(dir, "assets/images/made/for"), 0o700)
	for _, p := range []string{".upload-0123456789abcdef", "chapters/.upload-aa", "assets/images/.upload-bb", "assets/images/made/for/.upload-cc"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := put(s, "chapters/01-one.md", []byte("# One\n")); err != nil {
		t.Fatal(err)
	}
	if err := put(s, "chapters/part-2/02-two.md", []byte("# Two\n")); err != nil {
		t.Fatal(err)
	}
	// An upload killed after making its folder, before its temporary file.
	os.MkdirAll(filepath.Join(dir, "chapters/part-1/inner"), 0o700)
	if n, err := s.RemoveTemporary(1); err != nil || n != 4 {
		t.Fatalf("RemoveTemporary = %d, %v", n, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "assets/images/made")); !os.IsNotExist(err) {
		t.Error("the folders an interrupted upload made are left empty")
	}
	if _, err := os.Lstat(filepath.Join(dir, "chapters/part-1")); !os.IsNotExist(err) {
		t.Error("the empty folders of an upload killed before its temporary file are left")
	}
	if _, err := os.Lstat(filepath.Join(dir, "chapters/part-2/02-two.md")); err != nil {
		t.Error("a folder holding a file was removed")
	}
	if _, err := os.Lstat(filepath.Join(dir, "assets/images")); err != nil {
		t.Error("a layout folder was removed")
	}
	if f, _, err := s.Get(1, "chapters/01-one.md"); err != nil {
		t.Fatalf("a real file went: %v", err)
	} else {
		f.Close()
	}
	books := filepath.Dir(dir)
	os.MkdirAll(filepath.Join(books, ".deleted-7-00ff", "chapters"), 0o700)
	os.WriteFile(filepath.Join(books, ".deleted-7-00ff", "chapters", "x.md"), []byte("secret"), 0o600)
	// An import a crash interrupted: its staging folder and spooled zip.
	os.MkdirAll(filepath.Join(books, ".import-123", "0", "chapters"), 0o700)
	os.WriteFile(filepath.Join(books, ".import-123", ".archive-9"), []byte("PK"), 0o600)
	ids, err := s.FinishRemovals()
	if err != nil || !slices.Equal(ids, []int64{7}) {
		t.Fatalf("FinishRemovals = %v, %v", ids, err)
	}
	if _, err := os.Lstat(filepath.Join(books, ".deleted-7-00ff")); !os.IsNotExist(err) {
		t.Fatal("trash left")
	}
	if _, err := os.Lstat(filepath.Join(books, ".import-123")); !os.IsNotExist(err) {
		t.Fatal("an interrupted import's staging folder left")
	}
	if ids, _ := s.IDs(); !slices.Equal(ids, []int64{1}) {
		t.Fatalf("IDs = %v", ids)
	}
}
