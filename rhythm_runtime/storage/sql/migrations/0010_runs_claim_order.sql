-- 0010_runs_claim_order: runnable runs are locked in (available_at, id) order (lock_runnable_runs), read straight
-- off this index: a batch reads as many entries as it locks. Indexed on available_at alone, runs made runnable at
-- the same moment (a start_many, timers due together) had to be sorted by id, and a planner that expected many
-- of them sorted every runnable run, for every batch.
DROP INDEX rhythm.runs_claim_idx;
CREATE INDEX runs_claim_idx ON rhythm.runs (available_at, id)
    WHERE status IN ('pending', 'suspended') AND available_at IS NOT NULL;
