-- When the execution holding a run's lease last showed a sign of life
-- (its claim, then a heartbeat every few seconds): a running run whose
-- heartbeat is old belongs to a node that died, and another node takes it
-- over (bindery.RunStore.StaleRuns).
ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER NOT NULL DEFAULT 0;
