-- One row that /readyz rewrites to learn whether the database still
-- accepts a write (a full disk, a read-only standby). Nothing else reads
-- it.
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at BIGINT  NOT NULL
);
INSERT INTO readiness (id, checked_at) VALUES (1, 0);
