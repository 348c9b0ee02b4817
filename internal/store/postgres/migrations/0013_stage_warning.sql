-- A stage may end with a warning: it did its job, but not as asked (the
-- images stage drew a local cover because the image service refused the
-- key, or stayed rate-limited).
ALTER TABLE run_stages DROP CONSTRAINT run_stages_state_check;
ALTER TABLE run_stages ADD CONSTRAINT run_stages_state_check
    CHECK (state IN ('pending', 'running', 'succeeded', 'warning', 'failed', 'skipped'));
