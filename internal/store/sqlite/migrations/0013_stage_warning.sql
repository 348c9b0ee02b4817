-- A stage may end with a warning: it did its job, but not as asked (the
-- images stage drew a local cover because the image service refused the
-- key, or stayed rate-limited). SQLite cannot change a CHECK constraint in
-- place: the table is rebuilt, the documented way.
CREATE TABLE run_stages_new (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'warning', 'failed', 'skipped')),
    progress    INTEGER NOT NULL DEFAULT 0,
    message     TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (run_id, position)
);
INSERT INTO run_stages_new (run_id, position, name, state, progress, message, started_at, finished_at)
    SELECT run_id, position, name, state, progress, message, started_at, finished_at FROM run_stages;
DROP TABLE run_stages;
ALTER TABLE run_stages_new RENAME TO run_stages;
