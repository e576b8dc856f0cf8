-- The queries of rhythm_runtime/storage/limits.py (one named block each, as queries.sql).

-- name: register_queues
-- Record these queue declarations as the newest of their names (NULL: no such limit).
INSERT INTO rhythm.queues AS q (name, concurrency, key_concurrency, rate_limit, rate_seconds, key_rate_limit,
                                key_rate_seconds, registered_by)
SELECT * FROM unnest(%(names)s::text[], %(concurrency)s::int[], %(key_concurrency)s::int[], %(rate_limit)s::int[],
                     %(rate_seconds)s::float8[], %(key_rate_limit)s::int[], %(key_rate_seconds)s::float8[],
                     array_fill(%(worker)s::text, ARRAY[cardinality(%(names)s::text[])]))
ON CONFLICT (name) DO UPDATE
SET concurrency = excluded.concurrency, key_concurrency = excluded.key_concurrency,
    rate_limit = excluded.rate_limit, rate_seconds = excluded.rate_seconds,
    key_rate_limit = excluded.key_rate_limit, key_rate_seconds = excluded.key_rate_seconds,
    registered_by = excluded.registered_by, registered_at = now();

-- name: limited_queues
-- Which of these queues have a limit (their tasks are claimed one queue at a time, under the queue's lock), and whether concurrency is the only one.
SELECT name, num_nonnulls(key_concurrency, rate_limit, key_rate_limit) = 0 AS slots_only FROM rhythm.queues
WHERE name = ANY(%(queues)s) AND num_nonnulls(concurrency, key_concurrency, rate_limit, key_rate_limit) > 0;

-- name: lock_queue
-- Take a limited queue's row (claims on it happen one at a time, each counting what the last one committed), and forget keys not served for an hour.
WITH locked AS (
    SELECT name FROM rhythm.queues WHERE name = %(queue)s FOR UPDATE
), forgotten AS (
    DELETE FROM rhythm.queue_turns
    WHERE queue IN (SELECT name FROM locked) AND served_at < now() - interval '1 hour'
)
SELECT name FROM locked;

-- name: claim_limited_tasks
-- Lease up to limit tasks of one locked queue within its limits: higher priority first, then fair turns among keys (fewest running, then served longest ago, first), then oldest first.
WITH q AS (
    SELECT *, clock_timestamp() AS now FROM rhythm.queues WHERE name = %(queue)s
), pruned AS (
    DELETE FROM rhythm.queue_starts AS s USING q
    WHERE s.queue = q.name
      AND s.at <= q.now - greatest(q.rate_seconds, q.key_rate_seconds, 0) * interval '1 second'
), running AS (
    SELECT t.key, count(*) AS n FROM rhythm.tasks AS t
    WHERE t.status = 'running' AND t.queue = %(queue)s
    GROUP BY t.key
), started AS (
    SELECT s.key,
           count(*) FILTER (WHERE s.at > q.now - q.rate_seconds * interval '1 second') AS on_queue,
           count(*) FILTER (WHERE s.at > q.now - q.key_rate_seconds * interval '1 second') AS on_key
    FROM rhythm.queue_starts AS s, q WHERE s.queue = q.name
    GROUP BY s.key
), budget AS (
    SELECT greatest(least(%(limit)s::int,
                          q.concurrency - (SELECT coalesce(sum(n), 0) FROM running),
                          q.rate_limit - (SELECT coalesce(sum(on_queue), 0) FROM started)), 0) AS n
    FROM q
), candidates AS (
    SELECT t.id, t.key, t.priority, t.available_at,
           row_number() OVER (PARTITION BY t.key ORDER BY t.priority DESC, t.available_at, t.id) AS turn
    FROM rhythm.tasks AS t, q
    WHERE t.status = 'pending' AND t.queue = q.name AND t.name = ANY(%(names)s) AND t.available_at <= q.now
), chosen AS (
    SELECT c.id FROM candidates AS c CROSS JOIN q
    LEFT JOIN running AS r ON r.key = c.key
    LEFT JOIN started AS s ON s.key = c.key
    LEFT JOIN rhythm.queue_turns AS v ON v.queue = q.name AND v.key = coalesce(c.key, '')
    WHERE c.key IS NULL
       OR ((q.key_concurrency IS NULL OR c.turn + coalesce(r.n, 0) <= q.key_concurrency)
           AND (q.key_rate_limit IS NULL OR c.turn + coalesce(s.on_key, 0) <= q.key_rate_limit))
    ORDER BY c.priority DESC, c.turn + coalesce(r.n, 0), v.served_at NULLS FIRST, c.available_at, c.id
    LIMIT (SELECT n FROM budget)
), claimed AS (
    UPDATE rhythm.tasks AS t
    SET status = 'running', attempts = t.attempts + 1, lease_owner = %(worker)s,
        lease_expires_at = q.now + %(lease_seconds)s * interval '1 second', started_at = q.now, updated_at = q.now
    FROM q
    WHERE t.id IN (SELECT id FROM chosen) AND t.status = 'pending'
    RETURNING t.id, t.run_id, t.await_key, t.name, t.queue, t.payload, t.attempts, t.lost_leases, t.max_attempts,
              t.backoff_seconds, t.timeout_seconds, t.lease_expires_at, t.key
), logged AS (
    INSERT INTO rhythm.queue_starts (queue, key, at)
    SELECT claimed.queue, claimed.key, q.now FROM claimed, q
    WHERE num_nonnulls(q.rate_limit, q.key_rate_limit) > 0
), turned AS (
    INSERT INTO rhythm.queue_turns AS v (queue, key, served_at)
    SELECT DISTINCT ON (coalesce(claimed.key, '')) claimed.queue, coalesce(claimed.key, ''), q.now
    FROM claimed, q
    ON CONFLICT (queue, key) DO UPDATE SET served_at = excluded.served_at
)
SELECT * FROM claimed;

-- name: queue_next_chance
-- Seconds until a claim on a throttled queue may find more: its next delayed task, or, while tasks wait, the next start leaving a rate window; NULL: only a finishing task frees a slot.
WITH q AS (
    SELECT *, clock_timestamp() AS now FROM rhythm.queues WHERE name = %(queue)s
), pending AS (
    SELECT min(t.available_at) FILTER (WHERE t.available_at > q.now) AS next_due,
           coalesce(bool_or(t.available_at <= q.now), false) AS ready
    FROM rhythm.tasks AS t, q
    WHERE t.status = 'pending' AND t.queue = q.name AND t.name = ANY(%(names)s)
), leaving AS (
    SELECT min(x.at) AS at FROM (
        SELECT s.at + q.rate_seconds * interval '1 second' AS at FROM rhythm.queue_starts AS s, q
        WHERE s.queue = q.name
        UNION ALL
        SELECT s.at + q.key_rate_seconds * interval '1 second' FROM rhythm.queue_starts AS s, q
        WHERE s.queue = q.name AND s.key IS NOT NULL
    ) AS x, q
    WHERE x.at > q.now
)
SELECT extract(epoch FROM least(pending.next_due, CASE WHEN pending.ready THEN leaving.at END) - q.now) AS seconds
FROM pending, leaving, q;

-- name: queues_with_waiting_runs
-- The declared queues that have runs waiting for admission, in name order (the order their locks are taken), and whether one's start time has come.
SELECT q.name, bool_or(r.admit_at <= clock_timestamp()) AS due
FROM rhythm.queues AS q JOIN rhythm.runs AS r ON r.queue = q.name
WHERE r.queue IS NOT NULL AND r.admitted_at IS NULL AND r.status = 'pending'
GROUP BY q.name
ORDER BY q.name;

-- name: admit_runs
-- Admit up to limit waiting runs of one locked queue within its limits (counting admitted runs that have not ended, and admissions inside the rate windows): higher priority first, then the key with fewest admitted runs, then oldest first; they become runnable now.
WITH q AS (
    SELECT *, clock_timestamp() AS now FROM rhythm.queues WHERE name = %(queue)s
), active AS (
    SELECT r.key, count(*) AS n FROM rhythm.runs AS r
    WHERE r.queue = %(queue)s AND r.admitted_at IS NOT NULL AND r.status IN ('pending', 'running', 'suspended')
    GROUP BY r.key
), started AS (
    SELECT r.key,
           count(*) FILTER (WHERE r.admitted_at > q.now - q.rate_seconds * interval '1 second') AS on_queue,
           count(*) FILTER (WHERE r.admitted_at > q.now - q.key_rate_seconds * interval '1 second') AS on_key
    FROM rhythm.runs AS r, q
    WHERE r.queue = q.name
      AND r.admitted_at > q.now - greatest(q.rate_seconds, q.key_rate_seconds, 0) * interval '1 second'
    GROUP BY r.key
), budget AS (
    SELECT greatest(least(%(limit)s::int,
                          q.concurrency - (SELECT coalesce(sum(n), 0) FROM active),
                          q.rate_limit - (SELECT coalesce(sum(on_queue), 0) FROM started)), 0) AS n
    FROM q
), candidates AS (
    SELECT r.id, r.key, r.priority, r.admit_at,
           row_number() OVER (PARTITION BY r.key ORDER BY r.priority DESC, r.admit_at, r.id) AS turn
    FROM rhythm.runs AS r, q
    WHERE r.queue = q.name AND r.admitted_at IS NULL AND r.status = 'pending' AND r.admit_at <= q.now
), chosen AS (
    SELECT c.id FROM candidates AS c CROSS JOIN q
    LEFT JOIN active AS a ON a.key = c.key
    LEFT JOIN started AS s ON s.key = c.key
    WHERE c.key IS NULL
       OR ((q.key_concurrency IS NULL OR c.turn + coalesce(a.n, 0) <= q.key_concurrency)
           AND (q.key_rate_limit IS NULL OR c.turn + coalesce(s.on_key, 0) <= q.key_rate_limit))
    ORDER BY c.priority DESC, c.turn + coalesce(a.n, 0), c.admit_at, c.id
    LIMIT (SELECT n FROM budget)
)
UPDATE rhythm.runs AS r
SET admitted_at = q.now, available_at = q.now, wake_at = q.now, updated_at = q.now
FROM q
WHERE r.id IN (SELECT id FROM chosen) AND r.admitted_at IS NULL AND r.status = 'pending'
RETURNING r.id;

-- name: admission_next_chance
-- Seconds until a run waiting on a queue may be admitted without a run ending first: the next delayed one, or, while due runs wait on a rate-limited queue, the next admission leaving its window; NULL: none.
WITH q AS (
    SELECT *, clock_timestamp() AS now FROM rhythm.queues
), waiting AS (
    SELECT q.name, min(r.admit_at) FILTER (WHERE r.admit_at > q.now) AS next_due,
           coalesce(bool_or(r.admit_at <= q.now), false) AS ready
    FROM rhythm.runs AS r JOIN q ON q.name = r.queue
    WHERE r.queue IS NOT NULL AND r.admitted_at IS NULL AND r.status = 'pending'
    GROUP BY q.name
), leaving AS (
    SELECT x.queue AS name, min(x.at) AS at FROM (
        SELECT r.queue, r.admitted_at + q.rate_seconds * interval '1 second' AS at
        FROM rhythm.runs AS r JOIN q ON q.name = r.queue
        WHERE r.admitted_at > q.now - q.rate_seconds * interval '1 second'
        UNION ALL
        SELECT r.queue, r.admitted_at + q.key_rate_seconds * interval '1 second'
        FROM rhythm.runs AS r JOIN q ON q.name = r.queue
        WHERE r.key IS NOT NULL AND r.admitted_at > q.now - q.key_rate_seconds * interval '1 second'
    ) AS x
    WHERE x.queue IN (SELECT name FROM waiting WHERE ready)
    GROUP BY x.queue
)
SELECT extract(epoch FROM min(least(w.next_due, l.at)) - min(q.now)) AS seconds
FROM waiting AS w JOIN q ON q.name = w.name LEFT JOIN leaving AS l ON l.name = w.name;
