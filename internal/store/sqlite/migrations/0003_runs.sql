-- Pipeline runs, their stages, and the durable event log behind the
-- WebSocket protocol.

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    book_id     INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'paused', 'stopped', 'succeeded', 'failed')),
    formats     TEXT    NOT NULL,            -- JSON array
    publish     INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER NOT NULL,            -- no FK: runs outlive accounts
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX runs_book ON runs (book_id, id);
CREATE INDEX runs_state ON runs (state);

CREATE TABLE run_stages (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    progress    INTEGER NOT NULL DEFAULT 0,
    message     TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (run_id, position)
);

-- AUTOINCREMENT: ids are never reused, even after retention deletes the
-- newest rows, so a client's "resume since" stays meaningful.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    type    TEXT    NOT NULL,
    run_id  INTEGER NOT NULL DEFAULT 0,
    book_id INTEGER NOT NULL DEFAULT 0,
    body    TEXT    NOT NULL              -- the event as JSON
);
CREATE INDEX events_run ON events (run_id, type, id);
CREATE INDEX events_at ON events (at);
