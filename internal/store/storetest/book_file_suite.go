package storetest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// testBookFiles: the pointer rows of shared storage. A put switches a
// row (the last one wins), a move renames in one step and refuses to
// overwrite, deleting is idempotent, and rows go with their book.
func testBookFiles(t *testing.T, s bindery.Store) {
	ctx := context.Background()
	owner := mustUser(t, s, "owner@example.com", bindery.RoleAuthor)
	b := &bindery.Book{OwnerID: owner.ID, Title: "Files", CreatedAt: t0, UpdatedAt: t0}
	other := &bindery.Book{OwnerID: owner.ID, Title: "Other", CreatedAt: t0, UpdatedAt: t0}
	for _, bk := range []*bindery.Book{b, other} {
		if err := s.CreateBook(ctx, bk); err != nil {
			t.Fatal(err)
		}
	}
	row := func(book int64, path, sha string) *bindery.BookFile {
		return &bindery.BookFile{BookID: book, Path: path, BlobKey: "books/" + strconv.FormatInt(book, 10) + "/files/" + sha, Size: int64(len(sha)), SHA256: sha, Modified: t0}
	}
	sha1, sha2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	for _, f := range []*bindery.BookFile{row(b.ID, "metadata.yaml", sha1), row(b.ID, "chapters/01.md", sha1), row(other.ID, "metadata.yaml", sha2)} {
		if err := s.PutBookFile(ctx, f); err != nil {
			t.Fatalf("PutBookFile(%s): %v", f.Path, err)
		}
	}
	if err := s.PutBookFile(ctx, row(b.ID, "chapters/01.md", sha2)); err != nil {
		t.Fatalf("switching a row: %v", err)
	}
	got, err := s.BookFiles(ctx, b.ID)
	if err != nil || len(got) != 2 || got[0].Path != "chapters/01.md" || got[0].SHA256 != sha2 || got[0].BlobKey != row(b.ID, "", sha2).BlobKey ||
		got[0].Size != 64 || !got[0].Modified.Equal(t0) || got[1].Path != "metadata.yaml" {
		t.Fatalf("BookFiles = %+v, %v", got, err)
	}
	if err := s.PutBookFile(ctx, row(999999, "metadata.yaml", sha1)); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("a row of no book: %v, want ENOTFOUND", err)
	}

	if err := s.MoveBookFile(ctx, b.ID, "chapters/01.md", "metadata.yaml"); bindery.ErrorCode(err) != bindery.ECONFLICT {
		t.Fatalf("moving onto a row: %v, want ECONFLICT", err)
	}
	if err := s.MoveBookFile(ctx, b.ID, "chapters/none.md", "chapters/02.md"); bindery.ErrorCode(err) != bindery.ENOTFOUND {
		t.Fatalf("moving a missing row: %v, want ENOTFOUND", err)
	}
	if err := s.MoveBookFile(ctx, b.ID, "chapters/01.md", "chapters/02.md"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.BookFiles(ctx, b.ID); len(got) != 2 || got[0].Path != "chapters/02.md" || got[0].SHA256 != sha2 {
		t.Fatalf("after the move: %+v", got)
	}

	if err := s.DeleteBookFile(ctx, b.ID, "chapters/02.md"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBookFile(ctx, b.ID, "chapters/02.md"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if got, err := s.BookFiles(ctx, b.ID); err != nil || len(got) != 1 || got[0].Path != "metadata.yaml" {
		t.Fatalf("after the deletion: %+v, %v", got, err)
	}
	if err := s.DeleteBook(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.BookFiles(ctx, other.ID); err != nil || len(got) != 0 {
		t.Fatalf("rows of a deleted book: %+v, %v", got, err)
	}
}
