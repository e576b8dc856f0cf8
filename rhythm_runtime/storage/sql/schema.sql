-- The whole current schema of Rhythm, for reading.
--
-- Databases are built by the numbered files in migrations/ (applied by
-- rhythm_runtime.db.migrate); tests/test_db.py checks that running this file
-- on an empty database gives exactly the same catalog. When you add a
-- migration, update this file to match.
--
-- Every unit of work is a row; workers claim rows with FOR UPDATE SKIP LOCKED
-- and hold them with a lease they renew. All times that decide anything
-- (available_at, lease_expires_at, due_at) are on the database clock (now()),
-- so clock skew between worker machines does not matter.
-- No triggers: whoever changes a row sends NOTIFY itself, at most once per
-- transaction (see docs/DESIGN-NOTES.md, "Runtime on Postgres").

-- Bootstrap (created by db.migrate before any migration runs).
CREATE SCHEMA IF NOT EXISTS rhythm;

-- Applied migrations: file stem and sha256 of the file's text.
CREATE TABLE IF NOT EXISTS rhythm.migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- One row per compiled workflow module ever registered.
CREATE TABLE rhythm.workflow_versions (
    -- The .flow file's stem, used by start_workflow("name", ...).
    name text NOT NULL,
    -- Hash of the source and the compiler's code-shape version: runs pin it.
    version text NOT NULL,
    -- The .flow text, so any worker can show the line an error came from.
    source text NOT NULL,
    -- The generated Python module, so a worker whose build no longer has this
    -- version can still resume the runs that started on it.
    module_code text NOT NULL,
    -- sha256 of module_code: lets a worker check what it is about to load.
    module_hash text NOT NULL,
    -- Registration time (a rollback registers an old version again and makes
    -- it the newest); the newest per name is the version new runs use.
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

-- Serves "newest version per name" (DISTINCT ON (name) ... created_at DESC, version): 0017 added version.
CREATE INDEX workflow_versions_newest_idx
    ON rhythm.workflow_versions (name, created_at DESC, version);

-- The statuses of a run and of a task (0012), and a task's attempt limit (0013): domains, not table CHECK
-- constraints, which Postgres parses again in every statement that writes the table; a domain's check is cached
-- per session and runs only where the value is written.
CREATE DOMAIN rhythm.run_status AS text CONSTRAINT run_status_check
    CHECK (VALUE IN ('pending', 'running', 'suspended', 'completed', 'failed', 'cancelled'));
CREATE DOMAIN rhythm.task_status AS text CONSTRAINT task_status_check
    CHECK (VALUE IN ('pending', 'running', 'completed', 'failed', 'cancelled'));
CREATE DOMAIN rhythm.attempt_limit AS integer CONSTRAINT attempt_limit_check CHECK (VALUE >= 1);

-- One row per workflow execution.
CREATE TABLE rhythm.runs (
    -- Text so callers can pick their own ids (idempotent start).
    id text PRIMARY KEY,
    -- Which module drives the run; a run always resumes on its own version.
    workflow_name text NOT NULL,
    version text NOT NULL,
    -- pending: never activated; suspended: snapshot stored, waiting on
    -- something; the rest are final ('running' is never set: runs are not leased).
    status rhythm.run_status NOT NULL DEFAULT 'pending',
    -- The workflow's Inputs, as given to start_workflow. Values a workflow
    -- sees or returns are json, not jsonb: jsonb sorts object keys, and
    -- JavaScript code sees the order (Object.keys, for...in).
    inputs json NOT NULL DEFAULT '{}',
    -- The returned value once completed.
    output json,
    -- The uncaught error once failed (type, message, .flow location).
    error jsonb,
    -- {state, locals, ...} saved at the last await; NULL before the first
    -- activation. Resuming jumps to it: nothing is replayed. json, not jsonb:
    -- it is written at every await and only ever read whole, and the key
    -- order of the workflow's objects must survive.
    snapshot json,
    -- Set for child runs: the parent to wake and the await site in the
    -- parent that is waiting for this run's result.
    parent_run_id text REFERENCES rhythm.runs (id) ON DELETE CASCADE,
    parent_await_key text,
    -- Never set: runs are not leased (an activation holds the run's row
    -- lock; a dead worker's transaction rolls back). 0014 dropped their index.
    lease_owner text,
    lease_expires_at timestamptz,
    -- When the run next needs an activation (start, or something it awaits
    -- resolved); NULL while it waits with nothing ready or once final. Not
    -- NULL: the run is runnable. Claims read wake_at (0016), its mirror.
    available_at timestamptz DEFAULT now(),
    -- Claims since the last activation that committed: a run that keeps
    -- killing its worker can be failed instead of retried forever.
    attempts integer NOT NULL DEFAULT 0,
    -- Results that arrived for the run's await keys, not yet consumed:
    -- {await_key: [settle order, "ok"|"undefined"|"err", value as JSON text]}
    -- (text, so the value keeps its key order inside jsonb).
    inbox jsonb NOT NULL DEFAULT '{}',
    -- The await keys the stored snapshot waits on: a result for one of them
    -- makes the run available again.
    waiting text[] NOT NULL DEFAULT '{}',
    -- Signal.next calls still waiting for a signal, oldest first:
    -- [[await_key, signal name], ...].
    signal_waits jsonb NOT NULL DEFAULT '[]',
    -- Activations that committed (history numbering, step counts).
    activations integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- (workflow_name, version) names a row of workflow_versions, which Rhythm
    -- never deletes; not a foreign key since 0017 (its check ran on every warm
    -- step: see that migration). A run whose version is missing fails (VersionError).
    CHECK ((parent_run_id IS NULL) = (parent_await_key IS NULL)),
    -- Starting a child is idempotent per await site: a re-run activation
    -- finds the child it started before instead of starting a second one.
    UNIQUE (parent_run_id, parent_await_key)
);

-- Listing a workflow's runs (dashboards, the CLI).
CREATE INDEX runs_workflow_idx ON rhythm.runs (workflow_name, created_at);

-- One row per task invocation: scheduled by a run, or queued on its own.
-- Orders settlements across a run, so race/any/all pick the first to settle.
CREATE SEQUENCE rhythm.settle_seq;

CREATE TABLE rhythm.tasks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The run waiting for the result; NULL for standalone queued tasks.
    run_id text REFERENCES rhythm.runs (id) ON DELETE CASCADE,
    -- The await site (and loop iteration) in the run that scheduled it.
    await_key text,
    -- The @task name and the queue workers subscribe to.
    name text NOT NULL,
    queue text NOT NULL DEFAULT 'default',
    -- The arguments, as JSON (json: keeps the key order the workflow built).
    payload json NOT NULL DEFAULT '{}',
    -- pending: waiting for available_at; running: leased to a worker.
    status rhythm.task_status NOT NULL DEFAULT 'pending',
    -- Attempts started so far (incremented by the claim) and the limit
    -- (retries + 1); a lease that expires counts as an attempt.
    attempts integer NOT NULL DEFAULT 0,
    max_attempts rhythm.attempt_limit NOT NULL DEFAULT 1,
    -- Attempts whose worker vanished (lease expired): retried without using
    -- the task's own retries, up to a limit, in case the task kills workers.
    lost_leases integer NOT NULL DEFAULT 0,
    -- Retry n waits backoff_seconds * 2^(n-1).
    backoff_seconds double precision NOT NULL DEFAULT 1,
    -- Per-attempt limit; NULL means none.
    timeout_seconds double precision,
    -- Not claimable before this (retry backoff, delayed tasks).
    available_at timestamptz NOT NULL DEFAULT now(),
    -- The worker running it, and until when (renewed while it runs).
    lease_owner text,
    lease_expires_at timestamptz,
    -- The return value (json: keeps its key order), or the error of the last attempt.
    result json,
    error jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    -- A task of a run always knows which await it resolves.
    CHECK (run_id IS NULL OR await_key IS NOT NULL),
    -- Scheduling is idempotent: a re-run activation cannot schedule twice.
    UNIQUE (run_id, await_key)
);

-- Claiming: pending tasks of a queue in order of availability.
CREATE INDEX tasks_claim_idx ON rhythm.tasks (queue, available_at, id)
    WHERE status = 'pending';
-- Reclaiming: tasks whose worker stopped renewing its lease.
CREATE INDEX tasks_lease_idx ON rhythm.tasks (lease_expires_at)
    WHERE status = 'running';

-- Timer.delay(seconds): one row per awaited timer.
CREATE TABLE rhythm.timers (
    run_id text NOT NULL REFERENCES rhythm.runs (id) ON DELETE CASCADE,
    -- The await site; the primary key makes scheduling idempotent.
    await_key text NOT NULL,
    -- now() + delay at scheduling, on the database clock.
    due_at timestamptz NOT NULL,
    -- When the timer woke its run; NULL while it is still pending.
    fired_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, await_key)
);

-- Finding due timers.
CREATE INDEX timers_due_idx ON rhythm.timers (due_at) WHERE fired_at IS NULL;

-- Signals sent to a run; Signal.next(name) takes the oldest unread one.
CREATE TABLE rhythm.signals (
    -- Send order: FIFO per (run, name) follows it.
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id text NOT NULL REFERENCES rhythm.runs (id) ON DELETE CASCADE,
    name text NOT NULL,
    payload json NOT NULL DEFAULT 'null',
    -- The Signal.next await that took it; NULL while unread. Unique per run,
    -- so a re-run activation takes the same signal, never a second one.
    consumed_by text,
    consumed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((consumed_by IS NULL) = (consumed_at IS NULL)),
    UNIQUE (run_id, consumed_by)
);

-- The oldest unread signal of a name.
CREATE INDEX signals_unread_idx ON rhythm.signals (run_id, name, seq)
    WHERE consumed_by IS NULL;

-- What each activation of a run did, for debugging; trimmed per run later.
CREATE TABLE rhythm.history (
    run_id text NOT NULL REFERENCES rhythm.runs (id) ON DELETE CASCADE,
    -- Activation number within the run.
    seq integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    -- From/to state, what woke it, what it scheduled, worker, duration.
    details jsonb NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- Added by 0002 (columns keep migration order, so it is added here too).
-- Where a failed run failed: {state, data (the locals, snapshot-encoded),
-- catches: [[from, to, "catch"|"finally", message]]}; NULL otherwise.
ALTER TABLE rhythm.runs ADD COLUMN failure json;
-- Where `rhythm retry` resumes a run whose pending error a `finally` block
-- holds while it awaits: {snapshot, inbox, waiting, signal_waits} of the
-- activation that threw it (the snapshot after it would only rethrow).
ALTER TABLE rhythm.runs ADD COLUMN rewind json;
COMMENT ON TABLE rhythm.history IS
    'One row per committed activation (and per retry), written in its transaction; the newest N per run are kept.';
-- The dashboard's runs list: newest first, across workflows, paged by (created_at, id).
CREATE INDEX runs_recent_idx ON rhythm.runs (created_at DESC, id DESC);
-- Added by 0003: who serves what.
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
    max_attempts rhythm.attempt_limit NOT NULL,
    backoff_seconds double precision NOT NULL,
    timeout_seconds double precision,
    -- The worker that recorded it last, and when.
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);

-- Added by 0004. When a cancel was asked for: the next activation throws a
-- CancelledError at the await the run is stopped at; NULL for a run nobody cancelled.
ALTER TABLE rhythm.runs ADD COLUMN cancel_requested_at timestamptz;
-- When that activation committed: from then on the run is cleaning up, and
-- it ends cancelled when its code ends (failed if it throws another error).
ALTER TABLE rhythm.runs ADD COLUMN cancel_delivered_at timestamptz;
-- When the await a running task serves was cancelled (or its run terminated):
-- current_task().cancelled reads it, and a failed attempt is not retried.
ALTER TABLE rhythm.tasks ADD COLUMN cancel_requested_at timestamptz;

-- Added by 0005: schedules (cron), fired by any worker on the database clock.
-- One row per schedule: from a workflow's front matter (id = the workflow's name, replaced whenever a
-- version registers) or made at run time by the client (any id). A tick's run has the id
-- '<schedule id>@<tick in UTC>', inserted with ON CONFLICT DO NOTHING: one run per tick.
CREATE TABLE rhythm.schedules (
    id text PRIMARY KEY CHECK (id <> '' AND position('/' IN id) = 0),
    workflow_name text NOT NULL,
    -- Cron expressions, @hourly-style aliases or 'every 15m' intervals (rhythm_runtime/schedules.py).
    crons text[] NOT NULL,
    timezone text NOT NULL DEFAULT 'UTC',
    inputs json NOT NULL DEFAULT '{}',
    overlap text NOT NULL DEFAULT 'skip'
        CHECK (overlap IN ('skip', 'buffer_one', 'allow_all', 'cancel_running')),
    -- Missed ticks this close to now still fire after downtime (the newest due tick always does).
    catchup interval NOT NULL DEFAULT '0',
    origin text NOT NULL CHECK (origin IN ('front matter', 'client')),
    paused boolean NOT NULL DEFAULT false,
    -- Ticks up to here have been handled (fired or skipped); the next due one is next_fire_at.
    handled_until timestamptz NOT NULL DEFAULT now(),
    next_fire_at timestamptz NOT NULL,
    last_run_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Workers look for due schedules every second.
CREATE INDEX schedules_due_idx ON rhythm.schedules (next_fire_at) WHERE NOT paused;

-- Added by 0006: queue limits, task keys and priorities.
-- Task.run's `key` option (per-key limits and fair turns among keys) and `priority` (higher first).
ALTER TABLE rhythm.tasks ADD COLUMN key text;
ALTER TABLE rhythm.tasks ADD COLUMN priority integer NOT NULL DEFAULT 0;
-- Claiming: pending tasks of a queue, higher priority first, then in order of availability.
DROP INDEX rhythm.tasks_claim_idx;
CREATE INDEX tasks_claim_idx ON rhythm.tasks (queue, priority DESC, available_at, id)
    WHERE status = 'pending';

-- One row per declared queue (app.queue), the newest declaration of its name; NULL: no such limit.
-- Claims on a queue with a limit lock its row first, so they count what committed before them.
CREATE TABLE rhythm.queues (
    name text PRIMARY KEY,
    -- Running tasks on the queue, and running tasks with one key, across all workers.
    concurrency integer CHECK (concurrency >= 1),
    key_concurrency integer CHECK (key_concurrency >= 1),
    -- At most rate_limit starts in any rate_seconds (a sliding window over queue_starts), on the queue;
    -- key_rate_limit in key_rate_seconds per key.
    rate_limit integer CHECK (rate_limit >= 1),
    rate_seconds double precision CHECK (rate_seconds > 0),
    key_rate_limit integer CHECK (key_rate_limit >= 1),
    key_rate_seconds double precision CHECK (key_rate_seconds > 0),
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((rate_limit IS NULL) = (rate_seconds IS NULL)),
    CHECK ((key_rate_limit IS NULL) = (key_rate_seconds IS NULL))
);

-- The task starts of rate-limited queues still inside their window (older ones are deleted by the claims).
CREATE TABLE rhythm.queue_starts (
    queue text NOT NULL,
    key text,
    at timestamptz NOT NULL
);
CREATE INDEX queue_starts_idx ON rhythm.queue_starts (queue, at);

-- When each key of a limited queue last had a task started (unkeyed tasks count as the key ''): among
-- tasks of equal priority and turn, the key served longest ago goes first (round-robin among keys).
-- Keys not served for an hour are forgotten (and count as never served).
CREATE TABLE rhythm.queue_turns (
    queue text NOT NULL,
    key text NOT NULL,
    served_at timestamptz NOT NULL,
    PRIMARY KEY (queue, key)
);

-- Added by 0007: retention.
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

-- Added by 0008: run keys.
ALTER TABLE rhythm.runs ADD COLUMN key text;
-- The active runs of a workflow and key, and those waiting their turn.
CREATE INDEX runs_key_idx ON rhythm.runs (workflow_name, key, created_at)
    WHERE key IS NOT NULL AND status IN ('pending', 'running', 'suspended');

-- Added by 0009: workflow queues.
-- The queue a version's front matter puts its runs on (NULL: none).
ALTER TABLE rhythm.workflow_versions ADD COLUMN queue text;

-- A run's queue and priority (higher admitted first). A run on a queue waits (pending, available_at NULL) until
-- admitted_at is set; it is due for admission from admit_at (its delay or start_at).
ALTER TABLE rhythm.runs ADD COLUMN queue text;
ALTER TABLE rhythm.runs ADD COLUMN priority integer NOT NULL DEFAULT 0;
ALTER TABLE rhythm.runs ADD COLUMN admit_at timestamptz;
ALTER TABLE rhythm.runs ADD COLUMN admitted_at timestamptz;
-- The runs on a queue that have not ended (0017: one index where there were two): admission reads the waiting
-- ones (admitted_at NULL) by admission time, the slots count the admitted ones per key.
CREATE INDEX runs_on_queue_idx ON rhythm.runs (queue, status, admitted_at, admit_at, key)
    WHERE queue IS NOT NULL AND status IN ('pending', 'running', 'suspended');
-- Rate windows: runs admitted on a queue, by admission time.
CREATE INDEX runs_admissions_idx ON rhythm.runs (queue, admitted_at) WHERE admitted_at IS NOT NULL;

-- Added by 0016: runs are claimed by wake_at, which every statement that makes a run runnable (or not) sets with
-- available_at, except a warm step's (finish_task_step), whose run is runnable only inside it: its two writes of
-- the run row change no indexed column and can be HOT updates. A run inserted without it is claimable at once.
ALTER TABLE rhythm.runs ADD COLUMN wake_at timestamptz DEFAULT now();
-- Claiming: runnable runs in order of availability (then id: a batch reads no more entries than it locks);
-- claims check available_at again (a wake_at an older Rhythm's save left behind is not a runnable run).
CREATE INDEX runs_wake_idx ON rhythm.runs (wake_at, id) WHERE status IN ('pending', 'suspended') AND wake_at IS NOT NULL;
-- Room on each page for a run's new versions: a HOT update must fit on the row's own page.
ALTER TABLE rhythm.runs SET (fillfactor = 80);

-- Added by 0011, rewritten by 0012, 0014, 0015 and 0016: a task's result, the activation it wakes (run ahead by the worker
-- from the state it kept) and the next task (leased to the worker, or a pending one claimed for its slot) in one
-- statement; the activation is saved only if the run is still the row it was computed from
-- (storage/worker_calls.py, WorkerCalls.finish_task).
CREATE FUNCTION rhythm.finish_task_step(
    p_task bigint, p_worker text, p_claim integer, p_result text,
    -- the run row the activation was computed from: its activation count and inbox (it waits on the task)
    p_activations integer, p_inbox_before jsonb,
    -- the activation's outcome: 'suspended' (snapshot, inbox, waiting) or 'completed' (output)
    p_status text, p_snapshot json, p_inbox jsonb, p_waiting text[], p_output json,
    -- its history step, and how many steps a run keeps
    p_step jsonb, p_keep integer,
    -- the task it schedules next, inserted leased to p_worker (p_name NULL: none)
    p_key text, p_name text, p_queue text, p_payload json, p_max_attempts integer, p_backoff double precision,
    p_timeout double precision, p_lease_seconds double precision,
    -- when it leases no task to p_worker: a pending task of these queues and names it claims instead (NULL: none)
    p_refill_queues text[], p_refill_names text[])
RETURNS TABLE (saved boolean, woke boolean, id bigint, run_id text, await_key text, name text, queue text,
               payload json, attempts integer, lost_leases integer, max_attempts integer,
               backoff_seconds double precision, timeout_seconds double precision, lease_expires_at timestamptz)
-- No row: the worker no longer holds the task's lease. saved: the activation was saved (id: the next task, if
-- inserted, or the pending task claimed for the slot the run left); else woke: the run is runnable for the
-- ordinary path.
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_run text;
    v_key text;
    v_seq integer := p_activations + 1;
    v_queue text;
    v_admitted timestamptz;
BEGIN
    UPDATE rhythm.tasks AS t
    SET status = 'completed', result = p_result::json, finished_at = now(), updated_at = now(),
        lease_owner = NULL, lease_expires_at = NULL
    WHERE t.id = p_task AND t.status = 'running' AND t.lease_owner = p_worker
      AND t.attempts + t.lost_leases = p_claim
    RETURNING t.run_id, t.await_key INTO v_run, v_key;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- The run made runnable, if it is the row the activation was computed from: waiting on this task with
    -- nothing else settled since, no cancel asked, no signal wait, not advanced by anyone else (and, if it ends,
    -- with no parent to tell). The save below writes the row again: an activation finds its run runnable. The
    -- result's inbox entry and its settle number are not written: the save replaces the inbox with one where
    -- the activation consumed it, in this statement, so nobody could see them. Nor is wake_at (0016): the run is
    -- runnable only inside this statement, where no claim can see it, so both writes change no indexed column
    -- and can be HOT updates (a wake_at left set by an older Rhythm's save takes the ordinary step, which clears it).
    UPDATE rhythm.runs AS r
    SET available_at = clock_timestamp()
    WHERE r.id = v_run AND r.status = 'suspended' AND r.activations = p_activations AND r.available_at IS NULL
      AND r.wake_at IS NULL
      AND r.cancel_requested_at IS NULL AND v_key = ANY(r.waiting) AND r.signal_waits = '[]'::jsonb
      AND r.inbox = p_inbox_before AND (p_status = 'suspended' OR r.parent_run_id IS NULL);
    IF NOT FOUND THEN  -- the settle alone, as complete_task_and_settle's
        UPDATE rhythm.runs AS r
        SET inbox = r.inbox || jsonb_build_object(v_key,
                jsonb_build_array(nextval('rhythm.settle_seq'), 'ok', p_result)),
            available_at = CASE WHEN v_key = ANY(r.waiting) THEN coalesce(r.available_at, clock_timestamp())
                                ELSE r.available_at END,
            wake_at = CASE WHEN v_key = ANY(r.waiting) THEN coalesce(r.available_at, clock_timestamp())
                           ELSE r.wake_at END,
            updated_at = now()
        WHERE r.id = v_run AND r.status IN ('pending', 'suspended')
        RETURNING v_key = ANY(r.waiting) INTO woke;
        saved := false;
        woke := coalesce(woke, false);
        RETURN NEXT;
        RETURN;
    END IF;
    -- The step's history, and the steps older than the newest p_keep (none before the run has more). Plain
    -- inserts, here and for the next task: the row is the one the activation was computed from, so neither its
    -- step nor its new await key can be written yet (were one, the statement fails, and the ordinary step, which
    -- skips what exists, follows).
    IF p_keep > 0 THEN
        INSERT INTO rhythm.history (run_id, seq, details) VALUES (v_run, v_seq, p_step);
    END IF;
    IF v_seq > p_keep THEN
        DELETE FROM rhythm.history AS h WHERE h.run_id = v_run AND h.seq <= v_seq - p_keep;
    END IF;
    IF p_status = 'suspended' THEN  -- as save_suspended, with the next task leased to p_worker
        UPDATE rhythm.runs AS r
        SET status = 'suspended', snapshot = p_snapshot, inbox = p_inbox, waiting = p_waiting, rewind = NULL,
            available_at = NULL, activations = r.activations + 1, attempts = 0, updated_at = now()
        WHERE r.id = v_run;
        IF p_name IS NOT NULL THEN
            INSERT INTO rhythm.tasks (run_id, await_key, name, queue, payload, max_attempts, backoff_seconds,
                                      timeout_seconds, status, attempts, lease_owner, lease_expires_at, started_at)
            VALUES (v_run, p_key, p_name, p_queue, p_payload, p_max_attempts, p_backoff, p_timeout, 'running', 1,
                    p_worker, now() + p_lease_seconds * interval '1 second', now())
            RETURNING id, run_id, await_key, name, queue, payload, attempts, lost_leases, max_attempts,
                      backoff_seconds, timeout_seconds, lease_expires_at
            INTO id, run_id, await_key, name, queue, payload, attempts, lost_leases, max_attempts,
                 backoff_seconds, timeout_seconds, lease_expires_at;
        END IF;
    ELSE  -- completed, with no parent to tell: as drop_pending_timers and save_finished
        DELETE FROM rhythm.timers AS t WHERE t.run_id = v_run AND t.fired_at IS NULL;
        UPDATE rhythm.runs AS r
        SET status = 'completed', output = p_output, error = 'null', failure = NULL, inbox = '{}', waiting = '{}',
            signal_waits = '[]', available_at = NULL, activations = r.activations + 1, attempts = 0,
            updated_at = now(), finished_at = now()
        WHERE r.id = v_run
        RETURNING r.queue, r.admitted_at INTO v_queue, v_admitted;
        IF v_admitted IS NOT NULL THEN
            IF EXISTS (SELECT 1 FROM rhythm.queues AS q WHERE q.name = v_queue
                       AND num_nonnulls(q.concurrency, q.key_concurrency) > 0) THEN
                PERFORM pg_notify('rhythm_work', 'admit');  -- its slot is free: workers admit the next run
            END IF;
        END IF;
    END IF;
    IF id IS NULL AND p_refill_names IS NOT NULL THEN  -- the run leaves p_worker's slot: a task for it, as claim_tasks
        UPDATE rhythm.tasks AS t
        SET status = 'running', attempts = t.attempts + 1, lease_owner = p_worker,
            lease_expires_at = now() + p_lease_seconds * interval '1 second', started_at = now(), updated_at = now()
        WHERE t.id = (SELECT c.id FROM rhythm.tasks AS c
                      WHERE c.status = 'pending' AND c.queue = ANY(p_refill_queues) AND c.name = ANY(p_refill_names)
                        AND c.available_at <= now()
                        AND NOT EXISTS (SELECT 1 FROM rhythm.queues AS q WHERE q.name = ANY(p_refill_queues)
                                        AND num_nonnulls(q.concurrency, q.key_concurrency, q.rate_limit,
                                                         q.key_rate_limit) > 0)
                      ORDER BY c.priority DESC, c.available_at, c.id
                      LIMIT 1
                      FOR UPDATE SKIP LOCKED)
        RETURNING t.id, t.run_id, t.await_key, t.name, t.queue, t.payload, t.attempts, t.lost_leases, t.max_attempts,
                  t.backoff_seconds, t.timeout_seconds, t.lease_expires_at
        INTO id, run_id, await_key, name, queue, payload, attempts, lost_leases, max_attempts,
             backoff_seconds, timeout_seconds, lease_expires_at;
    END IF;
    saved := true;
    woke := true;
    RETURN NEXT;
END $$;
