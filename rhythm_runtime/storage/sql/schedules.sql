-- The queries of rhythm_runtime/storage/schedules.py (one named block each, as queries.sql).

-- name: upsert_schedule
-- Create or replace a schedule; a changed spec starts counting ticks from now.
INSERT INTO rhythm.schedules AS s (id, workflow_name, crons, timezone, inputs, overlap, catchup, origin,
                                   handled_until, next_fire_at)
VALUES (%(id)s, %(workflow)s, %(crons)s, %(timezone)s, %(inputs)s, %(overlap)s, %(catchup)s, %(origin)s,
        %(now)s, %(next_fire_at)s)
ON CONFLICT (id) DO UPDATE SET
    workflow_name = EXCLUDED.workflow_name, crons = EXCLUDED.crons, timezone = EXCLUDED.timezone,
    inputs = EXCLUDED.inputs, overlap = EXCLUDED.overlap, catchup = EXCLUDED.catchup, origin = EXCLUDED.origin,
    handled_until = CASE WHEN (s.crons, s.timezone) IS DISTINCT FROM (EXCLUDED.crons, EXCLUDED.timezone)
                         THEN EXCLUDED.handled_until ELSE s.handled_until END,
    next_fire_at = CASE WHEN (s.crons, s.timezone) IS DISTINCT FROM (EXCLUDED.crons, EXCLUDED.timezone)
                        THEN EXCLUDED.next_fire_at ELSE s.next_fire_at END,
    updated_at = now()
RETURNING (xmax = 0) AS created;

-- name: delete_front_matter_schedule
-- A workflow whose newest version has no schedule loses the one its front matter declared.
DELETE FROM rhythm.schedules WHERE id = %(id)s AND origin = 'front matter';

-- name: clock
-- The time ticks are judged by: the database clock, or the caller's (tests).
SELECT coalesce(%(at)s::timestamptz, now()) AS now;

-- name: lock_due_schedules
-- Schedules with a due tick, each locked by one worker only, and whether each one's last run has not finished (for the overlap policy).
SELECT s.*, EXISTS (SELECT 1 FROM rhythm.runs AS r
                    WHERE r.id = s.last_run_id AND r.status NOT IN ('completed', 'failed', 'cancelled'))
                AS last_run_active
FROM rhythm.schedules AS s
WHERE NOT s.paused AND s.next_fire_at <= %(now)s
ORDER BY s.next_fire_at
LIMIT %(limit)s
FOR UPDATE OF s SKIP LOCKED;

-- name: run_is_active
-- Whether a schedule's last run has not finished (for the overlap policy).
SELECT EXISTS (SELECT 1 FROM rhythm.runs
               WHERE id = %(id)s AND status NOT IN ('completed', 'failed', 'cancelled')) AS active;

-- name: schedules_handled
-- Record what a firing pass did with its schedules (one element of each array per schedule).
UPDATE rhythm.schedules AS s
SET handled_until = h.handled_until, next_fire_at = h.next_fire_at,
    last_run_id = coalesce(h.last_run_id, s.last_run_id), updated_at = now()
FROM unnest(%(ids)s::text[], %(handled_until)s::timestamptz[], %(next_fire_at)s::timestamptz[],
            %(last_run_id)s::text[]) AS h (id, handled_until, next_fire_at, last_run_id)
WHERE s.id = h.id;

-- name: list_schedules
-- Every schedule, with its last run's status.
SELECT s.*, r.status AS last_run_status
FROM rhythm.schedules s LEFT JOIN rhythm.runs r ON r.id = s.last_run_id
ORDER BY s.id;

-- name: get_schedule
-- One schedule, locked for a change by the client.
SELECT * FROM rhythm.schedules WHERE id = %(id)s FOR UPDATE;

-- name: set_schedule_paused
-- Pause or resume; resuming skips what passed while paused.
UPDATE rhythm.schedules
SET paused = %(paused)s, updated_at = now(),
    handled_until = CASE WHEN %(paused)s THEN handled_until ELSE %(now)s END,
    next_fire_at = CASE WHEN %(paused)s THEN next_fire_at ELSE %(next_fire_at)s END
WHERE id = %(id)s
RETURNING id;

-- name: delete_schedule
-- Delete a schedule (its runs stay).
DELETE FROM rhythm.schedules WHERE id = %(id)s RETURNING id;
