-- 0007_retention: finished runs are deleted after a retention period (rhythm_runtime/storage/retention.py).

-- How long each workflow's finished runs are kept, from its newest version's front matter (`retention: 7d`);
-- a workflow without a row gets RHYTHM_RETENTION (default 30 days).
CREATE TABLE rhythm.workflow_retention (
    workflow_name text PRIMARY KEY,
    seconds double precision NOT NULL CHECK (seconds > 0)
);

-- Pruning: finished runs and finished standalone tasks, oldest first.
CREATE INDEX runs_finished_idx ON rhythm.runs (finished_at)
    WHERE status IN ('completed', 'failed', 'cancelled');
CREATE INDEX tasks_standalone_finished_idx ON rhythm.tasks (finished_at)
    WHERE run_id IS NULL AND status IN ('completed', 'failed', 'cancelled');
