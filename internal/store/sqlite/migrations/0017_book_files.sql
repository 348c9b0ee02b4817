-- Pointer rows of book files kept in shared storage (BINDERY_S3_…): one
-- row per file of a book, naming the blob that holds its current bytes.
-- A new version is uploaded under a new content key first, then its row
-- is switched, so readers on every node see the old file or the new one,
-- whole (bindery.BookFileStore). Unused without shared storage.
CREATE TABLE book_files (
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    path        TEXT    NOT NULL,
    blob_key    TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    modified_at INTEGER NOT NULL,
    PRIMARY KEY (book_id, path)
);
