-- 0011_one_statement_step: a task's result, the activation it wakes and the task that activation schedules
-- next, in one statement and one round trip (storage/engine.py, WorkerCalls.finish_task). The worker ran the
-- activation before reading the run, from the state it kept of its own previous step (execution/warm.py);
-- this records the result and settles it as complete_task_and_settle does, and saves that activation only if
-- the run is exactly the row it was computed from. Otherwise the run stays settled and runnable and the caller
-- advances it the ordinary way. The run row is written twice, the settle then the save, so the activation
-- finds its run runnable as every activation does.
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
    p_timeout double precision, p_lease_seconds double precision)
-- No row: the worker no longer holds the task's lease. saved: the activation was saved (id: the next task, if
-- inserted); else woke: the run is runnable for the ordinary path.
RETURNS TABLE (saved boolean, woke boolean, id bigint, run_id text, await_key text, name text, queue text,
               payload json, attempts integer, lost_leases integer, max_attempts integer,
               backoff_seconds double precision, timeout_seconds double precision, lease_expires_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_run text;
    v_key text;
    v_seq integer := p_activations + 1;
    v_woke boolean;
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
    -- The settle, if the run is the row the activation was computed from: waiting on this task with nothing
    -- else settled since, no cancel asked, no signal wait, not advanced by anyone else (and, if it ends, with
    -- no parent to tell).
    UPDATE rhythm.runs AS r
    SET inbox = r.inbox || jsonb_build_object(v_key, jsonb_build_array(nextval('rhythm.settle_seq'), 'ok', p_result)),
        available_at = clock_timestamp(), updated_at = now()
    WHERE r.id = v_run AND r.status = 'suspended' AND r.activations = p_activations AND r.available_at IS NULL
      AND r.cancel_requested_at IS NULL AND v_key = ANY(r.waiting) AND r.signal_waits = '[]'::jsonb
      AND r.inbox = p_inbox_before AND (p_status = 'suspended' OR r.parent_run_id IS NULL);
    IF NOT FOUND THEN
        -- the settle alone, as complete_task_and_settle's
        UPDATE rhythm.runs AS r
        SET inbox = r.inbox || jsonb_build_object(v_key,
                jsonb_build_array(nextval('rhythm.settle_seq'), 'ok', p_result)),
            available_at = CASE WHEN v_key = ANY(r.waiting) THEN coalesce(r.available_at, clock_timestamp())
                                ELSE r.available_at END,
            updated_at = now()
        WHERE r.id = v_run AND r.status IN ('pending', 'suspended')
        RETURNING v_key = ANY(r.waiting) INTO v_woke;
        saved := false;
        woke := coalesce(v_woke, false);
        RETURN NEXT;
        RETURN;
    END IF;
    IF p_status = 'suspended' THEN  -- as save_suspended
        RETURN QUERY
        WITH next_task AS (
            INSERT INTO rhythm.tasks (run_id, await_key, name, queue, payload, max_attempts, backoff_seconds,
                                      timeout_seconds, status, attempts, lease_owner, lease_expires_at, started_at)
            SELECT v_run, p_key, p_name, p_queue, p_payload, p_max_attempts, p_backoff, p_timeout, 'running', 1,
                   p_worker, now() + p_lease_seconds * interval '1 second', now()
            WHERE p_name IS NOT NULL
            ON CONFLICT DO NOTHING
            RETURNING id, run_id, await_key, name, queue, payload, attempts, lost_leases, max_attempts,
                      backoff_seconds, timeout_seconds, lease_expires_at
        ), step AS (
            INSERT INTO rhythm.history (run_id, seq, details)
            SELECT v_run, v_seq, p_step WHERE p_keep > 0
            ON CONFLICT DO NOTHING
        ), trimmed AS (
            DELETE FROM rhythm.history AS h WHERE h.run_id = v_run AND h.seq <= v_seq - p_keep
        ), saving AS (
            UPDATE rhythm.runs AS r
            SET status = 'suspended', snapshot = p_snapshot, inbox = p_inbox, waiting = p_waiting, rewind = NULL,
                available_at = NULL, activations = r.activations + 1, attempts = 0, updated_at = now()
            WHERE r.id = v_run
        )
        SELECT true, true, n.* FROM (SELECT) AS one LEFT JOIN next_task AS n ON true;
        RETURN;
    END IF;
    -- completed, with no parent to tell: as save_finished and drop_pending_timers
    WITH step AS (
        INSERT INTO rhythm.history (run_id, seq, details)
        SELECT v_run, v_seq, p_step WHERE p_keep > 0
        ON CONFLICT DO NOTHING
    ), trimmed AS (
        DELETE FROM rhythm.history AS h WHERE h.run_id = v_run AND h.seq <= v_seq - p_keep
    ), timers AS (
        DELETE FROM rhythm.timers AS t WHERE t.run_id = v_run AND t.fired_at IS NULL
    ), finished AS (
        UPDATE rhythm.runs AS r
        SET status = 'completed', output = p_output, error = 'null', failure = NULL, inbox = '{}', waiting = '{}',
            signal_waits = '[]', available_at = NULL, activations = r.activations + 1, attempts = 0,
            updated_at = now(), finished_at = now()
        WHERE r.id = v_run
        RETURNING r.queue, r.admitted_at
    )
    SELECT f.queue, f.admitted_at INTO v_queue, v_admitted FROM finished AS f;
    IF v_admitted IS NOT NULL AND EXISTS (SELECT 1 FROM rhythm.queues AS q WHERE q.name = v_queue
                                                 AND num_nonnulls(q.concurrency, q.key_concurrency) > 0) THEN
        PERFORM pg_notify('rhythm_work', 'admit');  -- its slot is free: workers admit the next run
    END IF;
    saved := true;
    woke := true;
    RETURN NEXT;
END $$;
