-- 0003_workers: who serves what. Workers heartbeat what they run; @task
-- registrations route a task to its queue whatever worker schedules it.

-- One row per worker process, upserted by its heartbeat (about every second).
CREATE TABLE rhythm.workers (
    -- host:pid:n, the lease_owner of the tasks it holds.
    id text PRIMARY KEY,
    host text NOT NULL,
    pid integer NOT NULL,
    -- The queues it claims from, and the task names it claims (its @tasks of those queues).
    queues text[] NOT NULL,
    task_names text[] NOT NULL,
    -- {workflow name: version} of its build.
    workflows jsonb NOT NULL DEFAULT '{}',
    concurrency integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    -- The database session it heartbeats on (pg_backend_pid() and its
    -- backend_start): once it is gone from pg_stat_activity the worker is
    -- dead and its leases are reclaimed at once. NULL when the session cannot
    -- tell (a transaction pooler in between): then only leases decide.
    backend_pid integer,
    backend_start timestamptz,
    -- Set when it stopped cleanly; rows not heard from for an hour are deleted.
    stopped_at timestamptz
);

-- What people and the fast takeover see: each worker with its state.
-- live: heartbeating; stale: silent for 10 s; dead: its session is gone;
-- stopped: it said goodbye. A session whose start time this role may not
-- read (another role's) counts as alive while its pid is.
CREATE VIEW rhythm.worker_states AS
SELECT w.*,
       CASE WHEN w.stopped_at IS NOT NULL THEN 'stopped'
            WHEN w.backend_pid IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM pg_stat_activity AS a
                WHERE a.pid = w.backend_pid
                  AND (a.backend_start IS NULL OR a.backend_start = w.backend_start)) THEN 'dead'
            WHEN w.heartbeat_at < now() - interval '10 seconds' THEN 'stale'
            ELSE 'live' END AS state
FROM rhythm.workers AS w;

-- The newest @task registration of each task name, by any worker: a run
-- scheduling a task its own worker does not know gets these settings.
CREATE TABLE rhythm.task_registrations (
    name text PRIMARY KEY,
    queue text NOT NULL,
    max_attempts integer NOT NULL CHECK (max_attempts >= 1),
    backoff_seconds double precision NOT NULL,
    timeout_seconds double precision,
    -- The worker that recorded it last, and when.
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);
