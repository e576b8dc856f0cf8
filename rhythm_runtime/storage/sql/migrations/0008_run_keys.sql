-- 0008_run_keys: a run's key (start_workflow(key=, on_conflict=)): at most one active run per workflow and key,
-- unless started with on_conflict="queue", whose runs wait (pending, available_at NULL) for their turn.
ALTER TABLE rhythm.runs ADD COLUMN key text;
-- The active runs of a workflow and key, and those waiting their turn.
CREATE INDEX runs_key_idx ON rhythm.runs (workflow_name, key, created_at)
    WHERE key IS NOT NULL AND status IN ('pending', 'running', 'suspended');
