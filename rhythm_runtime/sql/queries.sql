-- Named queries, loaded by rhythm_runtime.db.load_queries().
-- Each block: "-- name: <name>", a one-line description comment, the SQL.
-- Parameters use psycopg's named style; comments must not contain percent
-- signs (psycopg would read them as placeholders).

-- name: bootstrap_migrations
-- Create the schema and the table recording applied migrations (idempotent).
CREATE SCHEMA IF NOT EXISTS rhythm;
CREATE TABLE IF NOT EXISTS rhythm.migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: lock_migrations
-- Serialize migrators of this database until the end of the transaction.
SELECT pg_advisory_xact_lock(%(lock_key)s);

-- name: applied_migrations
-- Names and checksums of the migrations applied so far.
SELECT name, checksum FROM rhythm.migrations ORDER BY name;

-- name: record_migration
-- Mark one migration as applied.
INSERT INTO rhythm.migrations (name, checksum) VALUES (%(name)s, %(checksum)s);

-- name: newest_workflow_versions
-- The version new runs of each workflow use: the most recently created one.
SELECT DISTINCT ON (name) name, version, module_hash, created_at
FROM rhythm.workflow_versions
ORDER BY name, created_at DESC, version;

-- name: claim_tasks
-- Lease up to limit available pending tasks of the given queues to one worker, oldest first.
UPDATE rhythm.tasks AS t
SET status = 'running',
    attempts = t.attempts + 1,
    lease_owner = %(worker)s,
    lease_expires_at = now() + %(lease_seconds)s * interval '1 second',
    started_at = now(),
    updated_at = now()
WHERE t.id IN (
    SELECT id FROM rhythm.tasks
    WHERE status = 'pending'
      AND queue = ANY(%(queues)s)
      AND available_at <= now()
    ORDER BY available_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING t.id, t.run_id, t.await_key, t.name, t.queue, t.payload, t.attempts,
          t.max_attempts, t.backoff_seconds, t.timeout_seconds, t.lease_expires_at;

-- name: renew_task_leases
-- Extend the leases a worker still holds; ids missing from the result were lost.
UPDATE rhythm.tasks
SET lease_expires_at = now() + %(lease_seconds)s * interval '1 second',
    updated_at = now()
WHERE id = ANY(%(ids)s) AND status = 'running' AND lease_owner = %(worker)s
RETURNING id, lease_expires_at;

-- name: complete_task
-- Store a task's result, if this worker still holds its lease.
UPDATE rhythm.tasks
SET status = 'completed', result = %(result)s, error = NULL,
    lease_owner = NULL, lease_expires_at = NULL,
    finished_at = now(), updated_at = now()
WHERE id = %(id)s AND status = 'running' AND lease_owner = %(worker)s
RETURNING id, run_id, await_key, status;

-- name: fail_task
-- Record a failed attempt: retry after exponential backoff, or fail for good.
UPDATE rhythm.tasks
SET status = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
    error = %(error)s,
    available_at = now() + backoff_seconds * power(2, attempts - 1) * interval '1 second',
    finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
WHERE id = %(id)s AND status = 'running' AND lease_owner = %(worker)s
RETURNING id, run_id, await_key, status, available_at;

-- name: reclaim_expired_tasks
-- Requeue tasks whose worker stopped renewing its lease, or fail those out of attempts.
UPDATE rhythm.tasks AS t
SET status = CASE WHEN t.attempts < t.max_attempts THEN 'pending' ELSE 'failed' END,
    error = CASE WHEN t.attempts < t.max_attempts THEN t.error
                 ELSE jsonb_build_object(
                     'type', 'LeaseExpired',
                     'message', format('worker %%s stopped renewing its lease', t.lease_owner))
            END,
    finished_at = CASE WHEN t.attempts < t.max_attempts THEN NULL ELSE now() END,
    available_at = now(),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
WHERE t.id IN (
    SELECT id FROM rhythm.tasks
    WHERE status = 'running' AND lease_expires_at < now()
    ORDER BY lease_expires_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING t.id, t.run_id, t.await_key, t.status;

-- name: claim_runs
-- Lease up to limit runnable runs (new, or woken by what they await) to one worker.
UPDATE rhythm.runs AS r
SET status = 'running',
    attempts = r.attempts + 1,
    lease_owner = %(worker)s,
    lease_expires_at = now() + %(lease_seconds)s * interval '1 second',
    available_at = NULL,
    updated_at = now()
WHERE r.id IN (
    SELECT id FROM rhythm.runs
    WHERE status IN ('pending', 'suspended')
      AND available_at IS NOT NULL
      AND available_at <= now()
    ORDER BY available_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING r.id, r.workflow_name, r.version, r.inputs, r.snapshot, r.attempts,
          r.lease_expires_at;

-- name: renew_run_leases
-- Extend the run leases a worker still holds; ids missing from the result were lost.
UPDATE rhythm.runs
SET lease_expires_at = now() + %(lease_seconds)s * interval '1 second',
    updated_at = now()
WHERE id = ANY(%(ids)s) AND status = 'running' AND lease_owner = %(worker)s
RETURNING id, lease_expires_at;

-- name: reclaim_expired_runs
-- Make runs whose worker stopped renewing its lease runnable again from their last snapshot.
UPDATE rhythm.runs AS r
SET status = CASE WHEN r.snapshot IS NULL THEN 'pending' ELSE 'suspended' END,
    available_at = now(),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
WHERE r.id IN (
    SELECT id FROM rhythm.runs
    WHERE status = 'running' AND lease_expires_at < now()
    ORDER BY lease_expires_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING r.id, r.status, r.attempts;

-- name: fire_due_timers
-- Mark up to limit due timers as fired and return them, so their runs can be woken.
UPDATE rhythm.timers AS t
SET fired_at = now()
FROM (
    SELECT run_id, await_key FROM rhythm.timers
    WHERE fired_at IS NULL AND due_at <= now()
    ORDER BY due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE t.run_id = due.run_id AND t.await_key = due.await_key
RETURNING t.run_id, t.await_key, t.due_at;
