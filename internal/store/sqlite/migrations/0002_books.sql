-- Books and their members. A book's files live in the data folder
-- (books/<id>/), not in the database; the title is kept here for listing
-- and is refreshed whenever metadata.yaml changes.

CREATE TABLE books (
    id         INTEGER PRIMARY KEY,
    -- RESTRICT: deleting a user who owns books must not silently delete
    -- manuscripts; the books are transferred or deleted first.
    owner_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    title      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX books_owner ON books (owner_id);

CREATE TABLE book_members (
    book_id  INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (book_id, user_id)
);
CREATE INDEX book_members_user ON book_members (user_id);
