-- 0016_claim_by_wake_at: runnable runs are claimed by wake_at, a column every statement that makes a run runnable
-- (or not) sets with available_at, except a warm step's statement (finish_task_step), whose run is runnable only
-- inside it. available_at still says whether a run is runnable (an activation finds its run runnable, which the
-- no-concurrent-advance test checks on every write), but no index reads it any more: a warm step's two writes of
-- the run row (runnable, then saved) change no indexed column, so they can be HOT updates (no entry in any of the
-- run's indexes, no partial-index predicate tested), given room on the page (fillfactor). Claims read the wake
-- index and check available_at again, so a wake_at an older Rhythm left behind (its saves clear available_at alone)
-- never advances a run that is not runnable. See docs/DESIGN-NOTES.md, "Runnable and claimable", for the upgrade.
ALTER TABLE rhythm.runs ADD COLUMN wake_at timestamptz;
-- The runs already runnable (read off the old claim index while it is still there).
UPDATE rhythm.runs SET wake_at = available_at WHERE status IN ('pending', 'suspended') AND available_at IS NOT NULL;
-- A run inserted without it (by an older client's start, or with every default) is claimable at once, as the
-- default available_at makes it runnable at once; claims wait for a later available_at all the same.
ALTER TABLE rhythm.runs ALTER COLUMN wake_at SET DEFAULT now();
CREATE INDEX runs_wake_idx ON rhythm.runs (wake_at, id) WHERE status IN ('pending', 'suspended') AND wake_at IS NOT NULL;
DROP INDEX rhythm.runs_claim_idx;
-- Room on each page for a run's new versions: a HOT update must fit on the row's own page.
ALTER TABLE rhythm.runs SET (fillfactor = 80);
CREATE OR REPLACE FUNCTION rhythm.finish_task_step(
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
