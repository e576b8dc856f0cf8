-- 0006_queues: queue limits (concurrency, per-key concurrency, rate windows), and the per-call key and
-- priority of tasks, enforced by workers at claim time (rhythm_runtime/storage/limits.py).

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
