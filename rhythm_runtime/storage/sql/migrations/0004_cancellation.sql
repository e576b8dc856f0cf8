-- Cancellation that runs the workflow's cleanup (docs/GUARANTEES.md, "Cancelling a run").

-- When a cancel was asked for: the next activation throws a CancelledError at
-- the await the run is stopped at; NULL for a run nobody cancelled.
ALTER TABLE rhythm.runs ADD COLUMN cancel_requested_at timestamptz;
-- When that activation committed: from then on the run is cleaning up, and
-- it ends cancelled when its code ends (failed if it throws another error).
ALTER TABLE rhythm.runs ADD COLUMN cancel_delivered_at timestamptz;
-- When the await a running task serves was cancelled (or its run terminated):
-- current_task().cancelled reads it, and a failed attempt is not retried.
ALTER TABLE rhythm.tasks ADD COLUMN cancel_requested_at timestamptz;
