-- The run state machine's guards (bindery.RunChange): lease numbers the
-- executions of a run (each claim by a worker adds one; a worker whose
-- lease is no longer current can change nothing), committed marks a run
-- that passed its commit point (publish switches the edition), after
-- which pause and stop no longer apply. 0010 is unused, as in SQLite.
ALTER TABLE runs ADD COLUMN lease BIGINT NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN committed BOOLEAN NOT NULL DEFAULT false;
