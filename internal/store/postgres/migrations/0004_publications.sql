-- The published edition of each book: which run's artifacts, when, by
-- whom, and the metadata shown in the catalog. The artifacts themselves
-- are copied to the data folder (published/<book id>/), so they outlive
-- the run.

CREATE TABLE publications (
    book_id      BIGINT  PRIMARY KEY REFERENCES books (id) ON DELETE CASCADE,
    run_id       BIGINT  NOT NULL,
    published_by BIGINT  NOT NULL,
    published_at BIGINT  NOT NULL,
    title        TEXT    NOT NULL,
    authors      TEXT    NOT NULL,  -- JSON array
    language     TEXT    NOT NULL DEFAULT '',
    description  TEXT    NOT NULL DEFAULT '',
    files        TEXT    NOT NULL   -- JSON array of file names
);
