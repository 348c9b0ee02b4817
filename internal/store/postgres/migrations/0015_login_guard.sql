-- The brute-force guard's state, shared by every node of the deployment
-- (bindery.GuardStore). Keys are addresses or account pseudonyms, never
-- e-mail addresses. Rows older than the guard's window are deleted as
-- failures arrive; blocks when they are read past their end.
CREATE TABLE guard_failures (
    key TEXT   NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX guard_failures_key_at ON guard_failures (key, at);
CREATE INDEX guard_failures_at ON guard_failures (at);

CREATE TABLE guard_blocks (
    key   TEXT PRIMARY KEY,
    until BIGINT NOT NULL
);
CREATE INDEX guard_blocks_until ON guard_blocks (until);
