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
-- Lease up to limit available pending tasks of the given queues (without limits) and names (those it runs) to one worker, higher priority first, then oldest first; nothing once one of the queues has limits (see limits.sql).
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
      AND name = ANY(%(names)s)
      AND available_at <= now()
      AND NOT EXISTS (SELECT 1 FROM rhythm.queues AS q
                      WHERE q.name = ANY(%(queues)s)
                        AND num_nonnulls(q.concurrency, q.key_concurrency, q.rate_limit, q.key_rate_limit) > 0)
    ORDER BY priority DESC, available_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING t.id, t.run_id, t.await_key, t.name, t.queue, t.payload, t.attempts, t.lost_leases,
          t.max_attempts, t.backoff_seconds, t.timeout_seconds, t.lease_expires_at;

-- name: renew_task_leases
-- Extend the leases a worker still holds; ids missing from the result were lost. The rows are locked in the order the worker's batched steps lock them (by run, then id: storage/step_batches.py), so the two cannot deadlock.
WITH held AS (
    SELECT id FROM rhythm.tasks
    WHERE id = ANY(%(ids)s) AND status = 'running' AND lease_owner = %(worker)s
    ORDER BY run_id COLLATE "C", id  -- code point order, as Python sorts the batches' run ids
    FOR UPDATE
)
UPDATE rhythm.tasks AS t
SET lease_expires_at = now() + %(lease_seconds)s * interval '1 second',
    updated_at = now()
FROM held
WHERE t.id = held.id
RETURNING t.id, t.lease_expires_at;

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

-- name: reclaim_lost_tasks
-- Requeue tasks whose worker is gone (lease expired, database session ended, or released by it), not counted against their retries; fail one that lost too many workers.
WITH dead AS (
    -- A session counts as ended only for a heartbeat newer than this connection (a restart ends every session).
    SELECT coalesce(array_agg(id), '{}') AS ids FROM rhythm.worker_states
    WHERE state = 'dead' AND heartbeat_at < now() - %(grace)s * interval '1 second'
      AND heartbeat_at > (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
), lost AS (
    SELECT t.id, t.lease_owner, t.started_at,
           CASE WHEN t.lease_owner = %(releasing)s THEN 'released'
                WHEN t.lease_expires_at < now() THEN 'lease expired'
                ELSE 'session ended' END AS why
    FROM rhythm.tasks AS t, dead
    WHERE t.status = 'running'
      AND (t.lease_expires_at < now() OR t.lease_owner = ANY(dead.ids) OR t.lease_owner = %(releasing)s)
    ORDER BY t.lease_expires_at
    LIMIT %(limit)s
    FOR UPDATE OF t SKIP LOCKED
)
UPDATE rhythm.tasks AS t
SET status = CASE WHEN t.lost_leases < %(max_lost)s THEN 'pending' ELSE 'failed' END,
    attempts = t.attempts - 1,
    lost_leases = t.lost_leases + 1,
    error = CASE WHEN t.lost_leases < %(max_lost)s THEN t.error
                 ELSE jsonb_build_object(
                     'type', 'TaskError',
                     'message', format('the task''s worker was lost %%s times (%%s); giving up', t.lost_leases + 1,
                                       lost.why))
            END,
    finished_at = CASE WHEN t.lost_leases < %(max_lost)s THEN NULL ELSE now() END,
    available_at = now(),
    lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
FROM lost
WHERE t.id = lost.id
RETURNING t.id, t.run_id, t.await_key, t.status, t.error, t.name, lost.lease_owner AS holder, lost.why,
          extract(epoch FROM now() - lost.started_at) AS held_seconds;

-- name: fire_due_timers
-- Fire up to limit due timers and settle each in its run's inbox (in due order), in one statement; returns how many fired.
WITH due AS (
    SELECT run_id, await_key, due_at FROM rhythm.timers
    WHERE fired_at IS NULL AND due_at <= clock_timestamp()
    ORDER BY due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), fired AS (
    UPDATE rhythm.timers AS t SET fired_at = now()
    FROM due
    WHERE t.run_id = due.run_id AND t.await_key = due.await_key
    RETURNING t.run_id, t.await_key, t.due_at
), numbered AS (
    -- settlement numbers in due order, so a race sees the earliest timer first
    SELECT run_id, await_key, nextval('rhythm.settle_seq') AS seq
    FROM (SELECT run_id, await_key FROM fired ORDER BY due_at, run_id, await_key) AS in_due_order
), per_run AS (
    SELECT n.run_id, jsonb_object_agg(n.await_key, jsonb_build_array(n.seq, 'undefined'::text, 'null'::text)) AS entries,
           array_agg(n.await_key) AS keys, min(f.due_at) AS due_at
    FROM numbered AS n JOIN fired AS f ON f.run_id = n.run_id AND f.await_key = n.await_key
    GROUP BY n.run_id
), woken AS (
    -- runnable from the timer's due time, so the runs it wakes are advanced in due order (rows of one UPDATE are
    -- not visited in any order, so clock_timestamp() here would shuffle equal delays)
    UPDATE rhythm.runs AS r
    SET inbox = r.inbox || per_run.entries,
        available_at = CASE WHEN r.waiting && per_run.keys THEN coalesce(r.available_at, per_run.due_at)
                            ELSE r.available_at END,
        wake_at = CASE WHEN r.waiting && per_run.keys THEN coalesce(r.available_at, per_run.due_at) ELSE r.wake_at END,
        updated_at = now()
    FROM per_run
    WHERE r.id = per_run.run_id AND r.status IN ('pending', 'suspended')
)
SELECT count(*) AS fired FROM fired;

-- name: register_version
-- Record a compiled version; registering an older one again (a rollback) makes it the newest again.
INSERT INTO rhythm.workflow_versions AS v (name, version, source, module_code, module_hash, queue)
VALUES (%(name)s, %(version)s, %(source)s, %(module_code)s, %(module_hash)s, %(queue)s)
ON CONFLICT (name, version) DO UPDATE SET created_at = clock_timestamp()
WHERE v.created_at < (SELECT max(created_at) FROM rhythm.workflow_versions WHERE name = %(name)s);

-- name: newest_version
-- The version new runs of one workflow start on, and the queue its front matter puts them on.
SELECT version, queue FROM rhythm.workflow_versions
WHERE name = %(name)s
ORDER BY created_at DESC, version
LIMIT 1;

-- name: workflow_names
-- Every registered workflow name (for "unknown workflow" errors).
SELECT DISTINCT name FROM rhythm.workflow_versions ORDER BY name;

-- name: load_version
-- The stored module of one version (for runs whose version this worker's build lacks).
SELECT module_code, module_hash, source FROM rhythm.workflow_versions
WHERE name = %(name)s AND version = %(version)s;

-- name: insert_run
-- Start a run unless one with this id exists (now, at start_at or after delay seconds; held: not before its key's turn; on a queue with limits: once admitted); returns the row only when inserted.
WITH t AS MATERIALIZED (
    -- computed once: inlined, each use of waits was a subplan of its own, and the plan cache, finding the plan for
    -- the values given cheaper, planned the statement again on every start
    SELECT greatest(now(), coalesce(%(start_at)s::timestamptz, now() + %(delay)s * interval '1 second')) AS at,
           EXISTS (SELECT 1 FROM rhythm.queues
                   WHERE name = %(queue)s AND num_nonnulls(concurrency, key_concurrency, rate_limit, key_rate_limit) > 0)
               AS waits
)
INSERT INTO rhythm.runs (id, workflow_name, version, inputs, parent_run_id, parent_await_key, key, queue, priority,
                         admit_at, admitted_at, available_at, wake_at)
SELECT %(id)s, %(name)s, %(version)s, %(inputs)s, %(parent_run_id)s, %(parent_await_key)s, %(key)s, %(queue)s,
       %(priority)s, CASE WHEN t.waits THEN t.at END, CASE WHEN %(queue)s::text IS NOT NULL AND NOT t.waits THEN now() END,
       CASE WHEN NOT %(held)s AND NOT t.waits THEN t.at END, CASE WHEN NOT %(held)s AND NOT t.waits THEN t.at END
FROM t
ON CONFLICT DO NOTHING
RETURNING id, admitted_at IS NULL AND queue IS NOT NULL AS queued;

-- name: start_run
-- A client's start without a key in one statement: insert_run's, on the newest version (version NULL: none is registered, nothing inserted), with its notices (the run's, and admit when it waits on a queue with limits); created is false when a run with this id exists.
WITH v AS (
    SELECT version, coalesce(%(queue)s::text, queue) AS queue FROM rhythm.workflow_versions
    WHERE name = %(name)s
    ORDER BY created_at DESC, version
    LIMIT 1
), t AS MATERIALIZED (  -- computed once, as insert_run's
    SELECT v.version, v.queue,
           greatest(now(), coalesce(%(start_at)s::timestamptz, now() + %(delay)s * interval '1 second')) AS at,
           EXISTS (SELECT 1 FROM rhythm.queues AS q
                   WHERE q.name = v.queue
                     AND num_nonnulls(q.concurrency, q.key_concurrency, q.rate_limit, q.key_rate_limit) > 0) AS waits
    FROM v
), run AS (
    INSERT INTO rhythm.runs (id, workflow_name, version, inputs, queue, priority, admit_at, admitted_at, available_at,
                             wake_at)
    SELECT %(id)s, %(name)s, t.version, %(inputs)s, t.queue, %(priority)s, CASE WHEN t.waits THEN t.at END,
           CASE WHEN t.queue IS NOT NULL AND NOT t.waits THEN now() END, CASE WHEN NOT t.waits THEN t.at END,
           CASE WHEN NOT t.waits THEN t.at END
    FROM t
    ON CONFLICT DO NOTHING
    RETURNING admitted_at IS NULL AND queue IS NOT NULL AS queued
)
SELECT (SELECT version FROM v) AS version, run.queued IS NOT NULL AS created,
       (SELECT count(pg_notify('rhythm_work', n.notice))
        FROM (VALUES (%(notice)s::text, run.queued IS NOT NULL), ('admit', run.queued)) AS n (notice, sent)
        WHERE n.sent) AS notices
FROM (SELECT) AS one LEFT JOIN run ON true;

-- name: lock_run_key
-- Serialize the starts of one workflow and key (who is active, who waits) until the end of the transaction.
SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(%(name)s || '/' || %(key)s));

-- name: active_keyed_runs
-- The runs of a workflow and key that have not ended, oldest first, and whether each waits for its turn.
SELECT id, (status = 'pending' AND available_at IS NULL AND activations = 0) AS waiting
FROM rhythm.runs
WHERE workflow_name = %(name)s AND key = %(key)s AND status IN ('pending', 'running', 'suspended')
ORDER BY created_at, id;

-- name: try_lock_releases
-- One worker at a time gives keyed runs their turn (held until the transaction ends).
SELECT pg_try_advisory_xact_lock(%(lock_class)s, 0) AS got;

-- name: release_queued_runs
-- Make the oldest waiting run of each workflow and key runnable once no other run of that key is active (runs waiting on a queue are its admission's).
UPDATE rhythm.runs AS r SET available_at = now(), wake_at = now(), updated_at = now()
WHERE r.id IN (
    SELECT DISTINCT ON (q.workflow_name, q.key) q.id FROM rhythm.runs AS q
    WHERE q.key IS NOT NULL AND q.status = 'pending' AND q.available_at IS NULL AND q.activations = 0
      AND q.queue IS NULL
      AND NOT EXISTS (SELECT 1 FROM rhythm.runs AS a
                      WHERE a.workflow_name = q.workflow_name AND a.key = q.key AND a.id <> q.id
                        AND a.status IN ('pending', 'running', 'suspended')
                        AND NOT (a.status = 'pending' AND a.available_at IS NULL AND a.activations = 0))
    ORDER BY q.workflow_name, q.key, q.created_at, q.id
)
RETURNING r.id;

-- name: adopt_runnable_runs
-- Make claimable the runs an older Rhythm made runnable by writing available_at alone, and unclaimable those whose available_at its saves cleared alone (wake_at follows available_at wherever they disagree on being set; see migrations/0016): scans every run, so only during the upgrade. Locked runs are skipped (their writer sets both).
UPDATE rhythm.runs AS r SET wake_at = r.available_at
WHERE r.id IN (SELECT o.id FROM rhythm.runs AS o
               WHERE o.status IN ('pending', 'suspended') AND (o.available_at IS NULL) <> (o.wake_at IS NULL)
               FOR UPDATE SKIP LOCKED)
RETURNING r.id, r.wake_at IS NOT NULL AS claimable;

-- name: adoption_seconds_left
-- Seconds left of the upgrade window after migrations/0016 was applied here (negative once it has passed).
SELECT %(window)s::float8 - extract(epoch FROM now() - applied_at)::float8 AS seconds
FROM rhythm.migrations WHERE name = %(name)s;

-- name: get_run
-- One run's public state (queued: waiting on its queue to be admitted).
SELECT id, workflow_name, version, status, inputs, output, error, parent_run_id,
       created_at, updated_at, finished_at, activations, waiting, queue, key, priority,
       (status = 'pending' AND queue IS NOT NULL AND admitted_at IS NULL) AS queued
FROM rhythm.runs WHERE id = %(id)s;

-- name: list_runs
-- Recent runs, optionally filtered by status and workflow name (queued: waiting on its queue to be admitted).
SELECT id, workflow_name, version, status, created_at, finished_at, queue,
       (status = 'pending' AND queue IS NOT NULL AND admitted_at IS NULL) AS queued
FROM rhythm.runs
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(name)s::text IS NULL OR workflow_name = %(name)s)
ORDER BY created_at DESC, id
LIMIT %(limit)s;

-- name: lock_runnable_runs
-- Lock up to limit runs that need an activation (one transaction advances them all); the lock is each activation's exclusive right. Claimable by wake_at (the index), runnable by available_at (checked again: see migrations/0016).
SELECT id, workflow_name, version, status, inputs, snapshot, inbox, signal_waits,
       parent_run_id, parent_await_key, activations, waiting, rewind, cancel_requested_at, cancel_delivered_at
FROM rhythm.runs
WHERE status IN ('pending', 'suspended')
  AND wake_at IS NOT NULL
  AND wake_at <= now()
  AND available_at <= now()
ORDER BY wake_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: lock_runnable_run_by_id
-- Lock one run for an activation if it still needs one and nobody holds it (a run of a batch that failed, advanced alone).
SELECT id, workflow_name, version, status, inputs, snapshot, inbox, signal_waits,
       parent_run_id, parent_await_key, activations, waiting, rewind, cancel_requested_at, cancel_delivered_at
FROM rhythm.runs
WHERE id = %(id)s AND status IN ('pending', 'suspended') AND available_at IS NOT NULL
FOR UPDATE SKIP LOCKED;

-- name: lock_run_for_activation
-- Lock one run by id for an activation (a child started inline, or a run being failed).
SELECT id, workflow_name, version, status, inputs, snapshot, inbox, signal_waits,
       parent_run_id, parent_await_key, activations, waiting, rewind, cancel_requested_at, cancel_delivered_at
FROM rhythm.runs
WHERE id = %(id)s
FOR UPDATE;

-- name: save_suspended
-- Store a waiting run's snapshot and what it waits for, its history step (the newest keep steps stay) and, when a task name is given, the task the worker runs next, inserted leased to it (returned; an await key scheduled before inserts none); its lease runs from now, not from the transaction's start (an activation may take longer than a lease).
WITH next AS (
    INSERT INTO rhythm.tasks (run_id, await_key, name, queue, payload, max_attempts, backoff_seconds, timeout_seconds,
                              status, attempts, lease_owner, lease_expires_at, started_at)
    SELECT %(id)s, %(await_key)s::text, %(name)s::text, %(queue)s::text, %(payload)s::json, %(max_attempts)s::int,
           %(backoff)s::float8, %(timeout)s::float8, 'running', 1, %(worker)s::text,
           clock_timestamp() + %(lease_seconds)s::float8 * interval '1 second', now()
    WHERE %(name)s::text IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING id, run_id, await_key, name, queue, payload, attempts, lost_leases, max_attempts, backoff_seconds,
              timeout_seconds, lease_expires_at
), step AS (
    INSERT INTO rhythm.history (run_id, seq, details)
    SELECT %(id)s, %(seq)s, %(step)s WHERE %(keep)s > 0
    ON CONFLICT DO NOTHING
), trimmed AS (
    DELETE FROM rhythm.history WHERE run_id = %(id)s AND seq <= %(seq)s - %(keep)s
), saved AS (
    UPDATE rhythm.runs
    SET status = 'suspended', snapshot = %(snapshot)s, inbox = %(inbox)s,
        waiting = %(waiting)s, signal_waits = %(signal_waits)s, rewind = %(rewind)s,
        available_at = NULL, wake_at = NULL, cancel_delivered_at = CASE WHEN cancel_requested_at IS NOT NULL
                                                        THEN coalesce(cancel_delivered_at, now()) END,
        activations = activations + 1, attempts = 0, updated_at = now()
    WHERE id = %(id)s
)
SELECT * FROM next;

-- name: save_suspended_batch
-- save_suspended for a batch of runs (one row each, in arrays; executed unprepared, so planned with the batch's own values): store their snapshots and what they wait for, their history steps (the newest keep steps stay) and, for a row with a task name, the task the worker runs next, inserted leased to it (returned; an await key scheduled before inserts none).
WITH saving AS (
    SELECT * FROM unnest(%(id)b::text[], %(snapshot)b::json[], %(inbox)b::jsonb[], %(waiting)b::jsonb[],
                         %(signal_waits)b::jsonb[], %(rewind)b::json[], %(seq)b::int[], %(step)b::jsonb[],
                         %(await_key)b::text[], %(name)b::text[], %(queue)b::text[], %(payload)b::json[],
                         %(max_attempts)b::int[], %(backoff)b::float8[], %(timeout)b::float8[], %(worker)b::text[],
                         %(lease_seconds)b::float8[])
        AS s (id, snapshot, inbox, waiting, signal_waits, rewind, seq, step, await_key, name, queue, payload,
              max_attempts, backoff, timeout, worker, lease_seconds)
), next AS (
    INSERT INTO rhythm.tasks (run_id, await_key, name, queue, payload, max_attempts, backoff_seconds, timeout_seconds,
                              status, attempts, lease_owner, lease_expires_at, started_at)
    SELECT id, await_key, name, queue, payload, max_attempts, backoff, timeout, 'running', 1, worker,
           clock_timestamp() + lease_seconds * interval '1 second', now()
    FROM saving WHERE name IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING id, run_id, await_key, name, queue, payload, attempts, lost_leases, max_attempts, backoff_seconds,
              timeout_seconds, lease_expires_at
), step AS (
    INSERT INTO rhythm.history (run_id, seq, details)
    SELECT id, seq, step FROM saving WHERE %(keep)s > 0
    ON CONFLICT DO NOTHING
), trimmed AS (
    -- (trim: whether any run has steps to drop; planned away when none has, whatever the statistics say)
    DELETE FROM rhythm.history AS h USING saving AS s
    WHERE %(trim)s AND h.run_id = s.id AND h.seq <= s.seq - %(keep)s
), saved AS (
    UPDATE rhythm.runs AS r
    SET status = 'suspended', snapshot = s.snapshot, inbox = s.inbox,
        waiting = ARRAY(SELECT jsonb_array_elements_text(s.waiting)), signal_waits = s.signal_waits, rewind = s.rewind,
        available_at = NULL, wake_at = NULL, cancel_delivered_at = CASE WHEN r.cancel_requested_at IS NOT NULL
                                                        THEN coalesce(r.cancel_delivered_at, now()) END,
        activations = r.activations + 1, attempts = 0, updated_at = now()
    FROM saving AS s
    WHERE r.id = s.id
)
SELECT * FROM next;

-- name: save_finished
-- Store a run's outcome and its history step; a failed run keeps its snapshot, inbox and waits for a retry; a run admitted on a queue frees its slot (workers are told to admit the next).
WITH step AS (
    INSERT INTO rhythm.history (run_id, seq, details)
    SELECT %(id)s, %(seq)s, %(step)s WHERE %(keep)s > 0
    ON CONFLICT DO NOTHING
), trimmed AS (
    DELETE FROM rhythm.history WHERE run_id = %(id)s AND seq <= %(seq)s - %(keep)s
), finished AS (
    UPDATE rhythm.runs
    SET status = %(status)s, output = %(output)s, error = %(error)s, snapshot = %(snapshot)s,
        failure = %(failure)s, inbox = %(inbox)s, waiting = %(waiting)s, signal_waits = %(signal_waits)s,
        available_at = NULL, wake_at = NULL,
        activations = activations + 1, attempts = 0, updated_at = now(), finished_at = now()
    WHERE id = %(id)s
    RETURNING queue, admitted_at
)
SELECT pg_notify('rhythm_work', 'admit') FROM finished
WHERE admitted_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM rhythm.queues AS q WHERE q.name = finished.queue
                                                AND num_nonnulls(q.concurrency, q.key_concurrency) > 0);

-- name: save_finished_batch
-- save_finished and drop_pending_timers for a batch of runs (one row each, in arrays; executed unprepared, so planned with the batch's own values): store their outcomes and history steps, and forget their pending timers but those a failed run's snapshot can reach (keep_timers); a failed run keeps its snapshot, inbox and waits for a retry; a run admitted on a queue frees its slot (workers are told to admit the next).
WITH outcome AS (
    SELECT * FROM unnest(%(id)b::text[], %(status)b::text[], %(output)b::json[], %(error)b::jsonb[],
                         %(snapshot)b::json[], %(failure)b::json[], %(inbox)b::jsonb[], %(waiting)b::jsonb[],
                         %(signal_waits)b::jsonb[], %(keep_timers)b::jsonb[], %(seq)b::int[], %(step)b::jsonb[])
        AS o (id, status, output, error, snapshot, failure, inbox, waiting, signal_waits, keep_timers, seq, step)
), step AS (
    INSERT INTO rhythm.history (run_id, seq, details)
    SELECT id, seq, step FROM outcome WHERE %(keep)s > 0
    ON CONFLICT DO NOTHING
), trimmed AS (
    -- (trim: whether any run has steps to drop; planned away when none has, whatever the statistics say)
    DELETE FROM rhythm.history AS h USING outcome AS o
    WHERE %(trim)s AND h.run_id = o.id AND h.seq <= o.seq - %(keep)s
), timers AS (
    DELETE FROM rhythm.timers AS t USING outcome AS o
    WHERE t.run_id = o.id AND t.fired_at IS NULL AND NOT (o.keep_timers ? t.await_key)
), finished AS (
    UPDATE rhythm.runs AS r
    SET status = o.status, output = o.output, error = o.error, snapshot = o.snapshot, failure = o.failure,
        inbox = o.inbox, waiting = ARRAY(SELECT jsonb_array_elements_text(o.waiting)), signal_waits = o.signal_waits,
        available_at = NULL, wake_at = NULL,
        activations = r.activations + 1, attempts = 0, updated_at = now(), finished_at = now()
    FROM outcome AS o
    WHERE r.id = o.id
    RETURNING r.queue, r.admitted_at
)
SELECT pg_notify('rhythm_work', 'admit') FROM finished
WHERE admitted_at IS NOT NULL
  AND EXISTS (SELECT 1 FROM rhythm.queues AS q WHERE q.name = finished.queue
                                                AND num_nonnulls(q.concurrency, q.key_concurrency) > 0);

-- name: settle
-- Deliver one result to a run's inbox; wake the run if it waits on that key (runs wake in FIFO order).
UPDATE rhythm.runs
SET inbox = inbox || jsonb_build_object(%(key)s::text,
        jsonb_build_array(nextval('rhythm.settle_seq'), %(kind)s::text, %(value)s::text)),
    available_at = CASE WHEN %(key)s = ANY(waiting) THEN coalesce(available_at, clock_timestamp())
                        ELSE available_at END,
    wake_at = CASE WHEN %(key)s = ANY(waiting) THEN coalesce(available_at, clock_timestamp()) ELSE wake_at END,
    updated_at = now()
WHERE id = %(id)s AND status IN ('pending', 'suspended')
RETURNING (%(key)s = ANY(waiting)) AS woke;

-- name: insert_task
-- Schedule one task (with Task.run's key, priority and delay); a re-run activation hitting the same await key inserts nothing.
INSERT INTO rhythm.tasks (run_id, await_key, name, queue, payload, max_attempts, backoff_seconds, timeout_seconds,
                          key, priority, available_at)
VALUES (%(run_id)s, %(await_key)s, %(name)s, %(queue)s, %(payload)s, %(max_attempts)s, %(backoff)s, %(timeout)s,
        %(key)s, %(priority)s,
        -- a delay counts from now, not from the transaction's start (which may precede the activation)
        CASE WHEN %(delay)s > 0 THEN clock_timestamp() ELSE now() END + %(delay)s * interval '1 second')
ON CONFLICT DO NOTHING
RETURNING id;

-- name: insert_timer
-- Schedule one durable timer on the database clock (clock_timestamp: equal delays fire in creation order).
INSERT INTO rhythm.timers (run_id, await_key, due_at)
VALUES (%(run_id)s, %(await_key)s,
        CASE WHEN %(seconds)s::float8 < %(forever)s THEN clock_timestamp() + %(seconds)s * interval '1 second'
             ELSE 'infinity'::timestamptz END)
ON CONFLICT DO NOTHING;

-- name: take_signal
-- Consume the oldest unread signal of a name for one await key (FIFO per name).
UPDATE rhythm.signals
SET consumed_by = %(key)s, consumed_at = now()
WHERE seq = (
    SELECT seq FROM rhythm.signals
    WHERE run_id = %(run_id)s AND name = %(name)s AND consumed_by IS NULL
    ORDER BY seq LIMIT 1
    FOR UPDATE
)
RETURNING payload;

-- name: insert_signal
-- Keep a signal for a run until a Signal.next takes it.
INSERT INTO rhythm.signals (run_id, name, payload) VALUES (%(run_id)s, %(name)s, %(payload)s)
RETURNING seq;

-- name: lock_run
-- Lock one run row (signals).
SELECT id, status, signal_waits, available_at, parent_run_id, parent_await_key FROM rhythm.runs
WHERE id = %(id)s FOR UPDATE;

-- name: lock_run_tree
-- Lock a run and its unfinished descendants, deepest first (a finishing child locks itself, then its parent).
WITH RECURSIVE tree (id, depth) AS (
    SELECT id, 0 FROM rhythm.runs WHERE id = %(id)s
    UNION ALL
    SELECT r.id, tree.depth + 1 FROM rhythm.runs AS r JOIN tree ON r.parent_run_id = tree.id
    WHERE r.status IN ('pending', 'suspended')
)
SELECT r.id FROM rhythm.runs AS r JOIN tree USING (id)
ORDER BY tree.depth DESC, r.id
FOR UPDATE OF r;

-- name: unread_signal_names
-- The names of a run's signals that no Signal.next has taken yet.
SELECT DISTINCT name FROM rhythm.signals WHERE run_id = %(run_id)s AND consumed_by IS NULL;

-- name: cancel_task_of_cancelled_run
-- Give up a task's retry when its run, or the await it served, was cancelled while the attempt ran.
UPDATE rhythm.tasks AS t SET status = 'cancelled', finished_at = now(), updated_at = now()
FROM rhythm.runs AS r
WHERE t.id = %(id)s AND t.status = 'pending' AND r.id = t.run_id
  AND (r.status = 'cancelled' OR t.cancel_requested_at IS NOT NULL)
RETURNING t.id;

-- name: pending_work
-- What a worker's loop would find now (read without locks; the claims check again): due timers, runnable runs, pending tasks of the given queues and names; and, as next_due says, the seconds until the earliest timer or delayed run is due and (task_seconds) the earliest of those tasks (a tick that finds nothing sleeps that long without a second read).
SELECT EXISTS (SELECT 1 FROM rhythm.timers WHERE fired_at IS NULL AND due_at <= clock_timestamp()) AS timers,
       EXISTS (SELECT 1 FROM rhythm.runs
               WHERE status IN ('pending', 'suspended') AND wake_at IS NOT NULL AND wake_at <= now()
                 AND available_at <= now()) AS runs,
       %(with_tasks)s AND EXISTS (SELECT 1 FROM rhythm.tasks
                                  WHERE status = 'pending' AND queue = ANY(%(queues)s) AND name = ANY(%(names)s)
                                    AND available_at <= now()) AS tasks,
       extract(epoch FROM least(
           (SELECT min(due_at) FROM rhythm.timers WHERE fired_at IS NULL AND due_at < 'infinity'),
           (SELECT min(wake_at) FROM rhythm.runs
            WHERE status IN ('pending', 'suspended') AND wake_at > clock_timestamp())
       ) - clock_timestamp()) AS seconds,
       extract(epoch FROM (SELECT min(available_at) FROM rhythm.tasks
                           WHERE %(with_tasks)s AND status = 'pending' AND queue = ANY(%(queues)s)
                             AND name = ANY(%(names)s)) - clock_timestamp()) AS task_seconds;

-- name: next_due
-- Seconds until the earliest unfired timer, delayed run or (if with_tasks) pending task this worker runs is due; NULL if none.
SELECT extract(epoch FROM least(
    (SELECT min(due_at) FROM rhythm.timers WHERE fired_at IS NULL AND due_at < 'infinity'),
    (SELECT min(wake_at) FROM rhythm.runs
     WHERE status IN ('pending', 'suspended') AND wake_at > clock_timestamp()),
    (SELECT min(available_at) FROM rhythm.tasks
     WHERE %(with_tasks)s AND status = 'pending' AND queue = ANY(%(queues)s) AND name = ANY(%(names)s))
) - clock_timestamp()) AS seconds;

-- name: set_signal_waits
-- Replace a run's list of Signal.next calls still waiting.
UPDATE rhythm.runs SET signal_waits = %(signal_waits)s, updated_at = now() WHERE id = %(id)s;

-- name: complete_task_and_settle
-- Record a task's result if this worker holds this claim's lease and deliver it to its run: one statement, and the run row (locked) comes back for the activation it may wake.
WITH done AS (
    UPDATE rhythm.tasks
    SET status = 'completed', result = %(result)s::json, finished_at = now(), updated_at = now(),
        lease_owner = NULL, lease_expires_at = NULL
    WHERE id = %(id)s AND status = 'running' AND lease_owner = %(worker)s AND attempts + lost_leases = %(claim)s
    RETURNING run_id, await_key
), run AS (
    UPDATE rhythm.runs AS r
    SET inbox = r.inbox || jsonb_build_object(done.await_key,
            jsonb_build_array(nextval('rhythm.settle_seq'), 'ok', %(result_text)s::text)),
        available_at = CASE WHEN done.await_key = ANY(r.waiting) THEN coalesce(r.available_at, clock_timestamp())
                            ELSE r.available_at END,
        wake_at = CASE WHEN done.await_key = ANY(r.waiting) THEN coalesce(r.available_at, clock_timestamp())
                       ELSE r.wake_at END,
        updated_at = now()
    FROM done
    -- a subquery, not a join: a plan cached while the table was small must still be a primary-key probe
    WHERE r.id = (SELECT run_id FROM done) AND r.status IN ('pending', 'suspended')
    RETURNING r.id, r.workflow_name, r.version, r.status, r.inputs, r.snapshot, r.inbox, r.signal_waits,
              r.parent_run_id, r.parent_await_key, r.activations, r.waiting, r.rewind, r.cancel_requested_at,
              r.cancel_delivered_at, r.available_at, done.await_key = ANY(r.waiting) AS woke
)
SELECT done.run_id AS task_run_id, done.await_key AS task_await_key, run.*
FROM done LEFT JOIN run ON true;

-- name: finish_task_step
-- Record a task's result and save the activation it wakes (run ahead by the worker) with the next task leased to it (or, when it schedules none for the worker, a pending task of the refill queues and names claimed for its slot), if the run is still the row that activation was computed from; otherwise settle the result only (see migrations/0011 and 0014).
SELECT * FROM rhythm.finish_task_step(
    %(task)s::bigint, %(worker)s::text, %(claim)s::int, %(result)s::text, %(activations)s::int,
    %(inbox_before)s::jsonb, %(status)s::text, %(snapshot)s::json, %(inbox)s::jsonb, %(waiting)s::text[],
    %(output)s::json, %(step)s::jsonb, %(keep)s::int, %(await_key)s::text, %(name)s::text, %(queue)s::text,
    %(payload)s::json, %(max_attempts)s::int, %(backoff)s::float8, %(timeout)s::float8, %(lease_seconds)s::float8,
    %(refill_queues)s::text[], %(refill_names)s::text[]);

-- name: run_to_step_ahead
-- The row of a run this worker keeps no state of, for a step run ahead from it (Engine.step_ahead), if finish_task_step could save that step: suspended on this await key, not runnable, no cancel asked, no signal waits. Not locked: finish_task_step saves the step only if the row is still this one.
SELECT workflow_name, version, activations, snapshot, inbox, waiting, parent_run_id
FROM rhythm.runs
WHERE id = %(id)s AND status = 'suspended' AND %(key)s::text = ANY(waiting) AND available_at IS NULL
  AND wake_at IS NULL AND cancel_requested_at IS NULL AND signal_waits = '[]'::jsonb;

-- name: settle_returning_run
-- Deliver one result to a run's inbox (as settle does) and return the run row, locked, for the activation it may wake.
UPDATE rhythm.runs
SET inbox = inbox || jsonb_build_object(%(key)s::text,
        jsonb_build_array(nextval('rhythm.settle_seq'), %(kind)s::text, %(value)s::text)),
    available_at = CASE WHEN %(key)s = ANY(waiting) THEN coalesce(available_at, clock_timestamp())
                        ELSE available_at END,
    wake_at = CASE WHEN %(key)s = ANY(waiting) THEN coalesce(available_at, clock_timestamp()) ELSE wake_at END,
    updated_at = now()
WHERE id = %(id)s AND status IN ('pending', 'suspended')
RETURNING id, workflow_name, version, status, inputs, snapshot, inbox, signal_waits, parent_run_id,
          parent_await_key, activations, waiting, rewind, cancel_requested_at, cancel_delivered_at, available_at,
          (%(key)s = ANY(waiting)) AS woke;

-- name: fail_task_attempt
-- Record a failed attempt: retry after backoff with jitter, or fail for good.
UPDATE rhythm.tasks
SET status = CASE WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
    available_at = now() + backoff_seconds * power(2, attempts - 1) * (0.5 + random() / 2) * interval '1 second',
    error = %(error)s, lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
    finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END
WHERE id = %(id)s AND status = 'running' AND lease_owner = %(worker)s AND attempts + lost_leases = %(claim)s
RETURNING run_id, await_key, status;

-- name: insert_standalone_task
-- Queue a task that no workflow waits for (with a key, priority and delay).
INSERT INTO rhythm.tasks (name, queue, payload, max_attempts, backoff_seconds, timeout_seconds, key, priority,
                          available_at)
VALUES (%(name)s, %(queue)s, %(payload)s, %(max_attempts)s, %(backoff)s, %(timeout)s, %(key)s, %(priority)s,
        now() + %(delay)s * interval '1 second')
RETURNING id, queue;

-- name: get_task
-- One task's state (standalone task handles).
SELECT id, name, status, result, error, attempts FROM rhythm.tasks WHERE id = %(id)s;

-- name: cancel_run
-- Mark a run cancelled at once (no code runs) unless it already ended; returns it when it changed.
UPDATE rhythm.runs
SET status = 'cancelled', available_at = NULL, wake_at = NULL, waiting = '{}', signal_waits = '[]',
    finished_at = now(), updated_at = now(),
    error = jsonb_build_object('type', 'CancelledError', 'message', %(message)s::text)
WHERE id = %(id)s AND status IN ('pending', 'suspended')
RETURNING id, parent_run_id, parent_await_key, admitted_at IS NOT NULL AS admitted;

-- name: request_cancel
-- Ask a run that has started to cancel itself (its next activation throws at its await); returns it when asked now.
UPDATE rhythm.runs
SET cancel_requested_at = now(), available_at = coalesce(available_at, clock_timestamp()),
    wake_at = coalesce(available_at, clock_timestamp()), updated_at = now()
WHERE id = %(id)s AND status IN ('pending', 'suspended') AND cancel_requested_at IS NULL AND activations > 0
RETURNING id, waiting, signal_waits;

-- name: cancel_awaited_tasks
-- Cancel the tasks of these await keys that have not started (a cancelled await no longer wants them).
UPDATE rhythm.tasks SET status = 'cancelled', finished_at = now(), updated_at = now()
WHERE run_id = %(id)s AND await_key = ANY(%(keys)s) AND status = 'pending'
RETURNING await_key;

-- name: flag_running_tasks
-- Tell the running tasks of these await keys (all of the run's, when keys is NULL) that nobody waits for them now.
UPDATE rhythm.tasks SET cancel_requested_at = now(), updated_at = now()
WHERE run_id = %(id)s AND status = 'running' AND (%(keys)s::text[] IS NULL OR await_key = ANY(%(keys)s));

-- name: task_cancel_requested
-- Whether a running task's await was cancelled (current_task().cancelled).
SELECT cancel_requested_at IS NOT NULL AS cancelled FROM rhythm.tasks WHERE id = %(id)s;

-- name: drop_awaited_timers
-- Forget the pending timers of these await keys (a cancelled await no longer wants them).
DELETE FROM rhythm.timers WHERE run_id = %(id)s AND await_key = ANY(%(keys)s) AND fired_at IS NULL
RETURNING await_key;

-- name: awaited_children
-- Unfinished children started by these await keys of a run (a cancelled await cancels them).
SELECT id, parent_await_key AS await_key FROM rhythm.runs
WHERE parent_run_id = %(id)s AND parent_await_key = ANY(%(keys)s) AND status IN ('pending', 'suspended');

-- name: drop_pending_timers
-- Forget the pending timers of a finished run, but those in keep (a failed run's snapshot can reach them).
DELETE FROM rhythm.timers WHERE run_id = %(id)s AND fired_at IS NULL AND NOT (await_key = ANY(%(keep)s));

-- name: cancel_run_tasks
-- Cancel the tasks of a cancelled run that have not started.
UPDATE rhythm.tasks SET status = 'cancelled', finished_at = now(), updated_at = now()
WHERE run_id = %(id)s AND status = 'pending';

-- name: child_runs
-- Unfinished children of a run (cancellation cascades to them).
SELECT id FROM rhythm.runs WHERE parent_run_id = %(id)s AND status IN ('pending', 'suspended');

-- name: next_settle_seq
-- One number of the settlement order (for results known during an activation).
SELECT nextval('rhythm.settle_seq') AS seq;

-- name: notify_work
-- Wake idle workers: new work is claimable (sent at most once per transaction).
SELECT pg_notify('rhythm_work', '');

-- name: notify
-- Wake the workers a notice concerns (see queries.notify: 'runs N' wakes one of them at once, 'tasks Q' those serving queue Q with a free slot).
SELECT pg_notify('rhythm_work', %(payload)s);

-- name: notify_admission
-- Wake idle workers to admit runs waiting on queues (a run was queued, or one left its slot).
SELECT pg_notify('rhythm_work', 'admit');

-- name: insert_task_claimed
-- Schedule one task already leased to the worker that will run it next (no claim, no NOTIFY).
INSERT INTO rhythm.tasks (run_id, await_key, name, queue, payload, max_attempts, backoff_seconds, timeout_seconds,
                          status, attempts, lease_owner, lease_expires_at, started_at)
VALUES (%(run_id)s, %(await_key)s, %(name)s, %(queue)s, %(payload)s, %(max_attempts)s, %(backoff)s, %(timeout)s,
        'running', 1, %(worker)s, clock_timestamp() + %(lease_seconds)s * interval '1 second', now())
ON CONFLICT DO NOTHING
RETURNING id, run_id, await_key, name, queue, payload, attempts, lost_leases, max_attempts, backoff_seconds,
          timeout_seconds, lease_expires_at;

-- name: lock_run_tasks
-- Lock every task of a run, before the run itself (the lock order of the module docstring): for a retry.
SELECT id, await_key, name, status, result, error FROM rhythm.tasks WHERE run_id = %(id)s ORDER BY id FOR UPDATE;

-- name: lock_failed_run
-- Lock a run for a retry, with everything a retry resumes from.
SELECT id, workflow_name, version, status, snapshot, inbox, waiting, signal_waits, activations, rewind
FROM rhythm.runs WHERE id = %(id)s FOR UPDATE;

-- name: run_for_retry_check
-- A run as a retry would see it, without locking it (the dashboard asks before offering a version).
SELECT id, workflow_name, version, status, snapshot, rewind FROM rhythm.runs WHERE id = %(id)s;

-- name: run_children_all
-- Every child of a run, finished or not, with its await key in the parent (for a retry).
SELECT id, parent_await_key AS await_key, status, output, error FROM rhythm.runs WHERE parent_run_id = %(id)s;

-- name: run_timers
-- Every timer of a run (for a retry).
SELECT await_key, fired_at FROM rhythm.timers WHERE run_id = %(id)s;

-- name: consumed_signal_keys
-- The await keys that took a signal of this run (for a retry).
SELECT consumed_by AS await_key FROM rhythm.signals WHERE run_id = %(id)s AND consumed_by IS NOT NULL;

-- name: reissue_tasks
-- Run these tasks again from their first attempt, now (a retry re-issues the awaits that failed).
UPDATE rhythm.tasks
SET status = 'pending', attempts = 0, lost_leases = 0, result = NULL, error = NULL, cancel_requested_at = NULL,
    lease_owner = NULL, lease_expires_at = NULL, available_at = now(),
    started_at = NULL, finished_at = NULL, updated_at = now()
WHERE id = ANY(%(ids)s);

-- name: delete_tasks
-- Forget tasks scheduled after a retried run's snapshot (the retried activation schedules them again).
DELETE FROM rhythm.tasks WHERE id = ANY(%(ids)s);

-- name: delete_runs
-- Forget child runs started after a retried run's snapshot (their descendants go with them).
DELETE FROM rhythm.runs WHERE id = ANY(%(ids)s);

-- name: delete_timers
-- Forget timers scheduled after a retried run's snapshot.
DELETE FROM rhythm.timers WHERE run_id = %(id)s AND await_key = ANY(%(keys)s);

-- name: unconsume_signals
-- Put back the signals taken after a retried run's snapshot, unread, in their original order.
UPDATE rhythm.signals SET consumed_by = NULL, consumed_at = NULL
WHERE run_id = %(id)s AND consumed_by = ANY(%(keys)s);

-- name: resume_failed_run
-- Make a failed run runnable again from its stored snapshot, on `version`, and record the retry in its history.
WITH step AS (
    INSERT INTO rhythm.history (run_id, seq, details)
    SELECT %(id)s, %(seq)s, %(step)s WHERE %(keep)s > 0
    ON CONFLICT DO NOTHING
)
UPDATE rhythm.runs
SET status = CASE WHEN %(snapshot)s::json IS NULL THEN 'pending' ELSE 'suspended' END,
    version = %(version)s, snapshot = %(snapshot)s, inbox = %(inbox)s, waiting = %(waiting)s,
    signal_waits = %(signal_waits)s, rewind = NULL,
    output = NULL, error = NULL, failure = NULL, finished_at = NULL,
    available_at = now(), wake_at = now(), attempts = 0, activations = activations + 1, updated_at = now()
WHERE id = %(id)s;

-- name: lock_task_names
-- Serialize registering these task names with runs scheduling them unregistered (see insert_task_as_registered).
SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(n))
FROM (SELECT n FROM unnest(%(names)s::text[]) AS n ORDER BY n) AS sorted;

-- name: lock_task_name_shared
-- Keep a registration of this task name from committing between reading it and inserting the task.
SELECT pg_advisory_xact_lock_shared(%(lock_class)s, hashtext(%(name)s));

-- name: register_tasks
-- Record the @task settings of these names as the newest registration (the queue their tasks go to).
INSERT INTO rhythm.task_registrations AS r (name, queue, max_attempts, backoff_seconds, timeout_seconds, registered_by)
SELECT * FROM unnest(%(names)s::text[], %(queues)s::text[], %(max_attempts)s::int[], %(backoffs)s::float8[],
                     %(timeouts)s::float8[], array_fill(%(worker)s::text, ARRAY[cardinality(%(names)s::text[])]))
ON CONFLICT (name) DO UPDATE
SET queue = excluded.queue, max_attempts = excluded.max_attempts, backoff_seconds = excluded.backoff_seconds,
    timeout_seconds = excluded.timeout_seconds, registered_by = excluded.registered_by, registered_at = now();

-- name: route_pending_tasks
-- Move pending tasks of these names to their registered queue and settings (scheduled before it was known).
UPDATE rhythm.tasks AS t
SET queue = r.queue, max_attempts = r.max_attempts, backoff_seconds = r.backoff_seconds,
    timeout_seconds = r.timeout_seconds, updated_at = now()
FROM rhythm.task_registrations AS r
WHERE r.name = ANY(%(names)s) AND t.name = r.name AND t.status = 'pending'
  AND (t.queue, t.max_attempts, t.backoff_seconds, t.timeout_seconds)
      IS DISTINCT FROM (r.queue, r.max_attempts, r.backoff_seconds, r.timeout_seconds)
RETURNING t.id;

-- name: insert_task_as_registered
-- Schedule a task this worker has no @task for, with the settings some worker registered (else the defaults) and the call's options.
INSERT INTO rhythm.tasks (run_id, await_key, name, queue, payload, max_attempts, backoff_seconds, timeout_seconds,
                          key, priority, available_at)
SELECT %(run_id)s, %(await_key)s, %(name)s, coalesce(r.queue, 'default'), %(payload)s, coalesce(r.max_attempts, 1),
       coalesce(r.backoff_seconds, 1), coalesce(%(timeout)s, r.timeout_seconds), %(key)s, %(priority)s,
       CASE WHEN %(delay)s > 0 THEN clock_timestamp() ELSE now() END + %(delay)s * interval '1 second'  -- (as insert_task)
FROM (SELECT) AS one LEFT JOIN rhythm.task_registrations AS r ON r.name = %(name)s
ON CONFLICT DO NOTHING
RETURNING id, queue;

-- name: registered_task_names
-- Every task name some worker has registered (start-up warnings about Task.run names nobody has).
SELECT name FROM rhythm.task_registrations ORDER BY name;

-- name: heartbeat
-- Say this worker is alive, what it serves, and (if watchable) the session whose end means it died; returns its rank among the live workers (by id) and their number, which share out the notices of runnable runs.
INSERT INTO rhythm.workers AS w (id, host, pid, queues, task_names, workflows, concurrency, started_at,
                                 backend_pid, backend_start)
VALUES (%(id)s, %(host)s, %(pid)s, %(queues)s, %(task_names)s, %(workflows)s, %(concurrency)s, %(started_at)s,
        CASE WHEN %(watchable)s THEN pg_backend_pid() END,
        CASE WHEN %(watchable)s THEN (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()) END)
ON CONFLICT (id) DO UPDATE
SET queues = excluded.queues, task_names = excluded.task_names, workflows = excluded.workflows,
    concurrency = excluded.concurrency, backend_pid = excluded.backend_pid, backend_start = excluded.backend_start,
    heartbeat_at = now(), stopped_at = NULL
RETURNING pg_backend_pid() AS backend_pid,
          (SELECT count(*) FROM rhythm.worker_states AS o WHERE o.state = 'live' AND o.id < w.id) AS rank,
          (SELECT count(*) FROM rhythm.worker_states AS o WHERE o.state = 'live' AND o.id <> w.id) + 1 AS workers;

-- name: worker_stopped
-- Say goodbye: the worker stopped cleanly (kept for an hour, so people see when a task's last server left).
UPDATE rhythm.workers SET stopped_at = now(), backend_pid = NULL, backend_start = NULL WHERE id = %(id)s;

-- name: forget_old_workers
-- Age out workers not heard from for an hour.
DELETE FROM rhythm.workers WHERE heartbeat_at < now() - interval '1 hour';

-- name: list_workers
-- Every worker still remembered, with its state and how many tasks it holds, live ones first.
SELECT w.id, w.state, w.host, w.pid, w.queues, w.task_names, w.workflows, w.concurrency, w.started_at,
       w.heartbeat_at, w.stopped_at, w.backend_pid, w.backend_start,
       (SELECT count(*) FROM rhythm.tasks AS t WHERE t.status = 'running' AND t.lease_owner = w.id) AS running
FROM rhythm.worker_states AS w
ORDER BY w.state <> 'live', w.started_at, w.id;
