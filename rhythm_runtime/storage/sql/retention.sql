-- The queries of rhythm_runtime/storage/retention.py (one named block each, as queries.sql).

-- name: try_prune_lock
-- One pruner at a time across all workers: the others skip this round (held until the transaction ends).
SELECT pg_try_advisory_xact_lock(%(lock_key)s) AS got;

-- name: prune_runs
-- Delete up to limit finished runs past their retention (tasks, timers, signals and history go with them), oldest first; never one whose parent has not finished, nor one with children left (they go first).
DELETE FROM rhythm.runs
WHERE id IN (
    SELECT r.id FROM rhythm.runs AS r
    LEFT JOIN rhythm.workflow_retention AS w ON w.workflow_name = r.workflow_name
    WHERE r.status IN ('completed', 'failed', 'cancelled')
      AND r.finished_at < now() - coalesce(%(older_than)s, w.seconds, %(default_seconds)s) * interval '1 second'
      AND NOT EXISTS (SELECT 1 FROM rhythm.runs AS c WHERE c.parent_run_id = r.id)
      AND (r.parent_run_id IS NULL
           OR EXISTS (SELECT 1 FROM rhythm.runs AS p
                      WHERE p.id = r.parent_run_id AND p.status IN ('completed', 'failed', 'cancelled')))
    ORDER BY r.finished_at
    LIMIT %(limit)s
    FOR UPDATE OF r SKIP LOCKED
)
RETURNING id;

-- name: prune_tasks
-- Delete up to limit finished standalone tasks (queue_task) past the retention, oldest first.
DELETE FROM rhythm.tasks
WHERE id IN (
    SELECT id FROM rhythm.tasks
    WHERE run_id IS NULL AND status IN ('completed', 'failed', 'cancelled')
      AND finished_at < now() - coalesce(%(older_than)s, %(default_seconds)s) * interval '1 second'
    ORDER BY finished_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING id;

-- name: count_expired
-- What a prune would delete: finished runs past their retention whose parent has finished, and finished standalone tasks.
SELECT (SELECT count(*) FROM rhythm.runs AS r
        LEFT JOIN rhythm.workflow_retention AS w ON w.workflow_name = r.workflow_name
        WHERE r.status IN ('completed', 'failed', 'cancelled')
          AND r.finished_at < now() - coalesce(%(older_than)s, w.seconds, %(default_seconds)s) * interval '1 second'
          AND (r.parent_run_id IS NULL
               OR EXISTS (SELECT 1 FROM rhythm.runs AS p
                          WHERE p.id = r.parent_run_id AND p.status IN ('completed', 'failed', 'cancelled'))))
           AS runs,
       (SELECT count(*) FROM rhythm.tasks
        WHERE run_id IS NULL AND status IN ('completed', 'failed', 'cancelled')
          AND finished_at < now() - coalesce(%(older_than)s, %(default_seconds)s) * interval '1 second') AS tasks;

-- name: set_workflow_retention
-- A registered version's front matter sets how long its workflow's finished runs are kept.
INSERT INTO rhythm.workflow_retention (workflow_name, seconds) VALUES (%(name)s, %(seconds)s)
ON CONFLICT (workflow_name) DO UPDATE SET seconds = excluded.seconds;

-- name: clear_workflow_retention
-- A registered version without `retention` in its front matter: the default applies again.
DELETE FROM rhythm.workflow_retention WHERE workflow_name = %(name)s;
