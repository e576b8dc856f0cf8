-- Where a failed run failed (for `rhythm inspect` and `rhythm retry`); the history table's purpose.

-- {state, data (the locals, snapshot-encoded), catches: [[from, to, "catch"|"finally", message]]}
-- of the activation that failed; NULL for other runs. json: keeps the workflow's key order.
ALTER TABLE rhythm.runs ADD COLUMN failure json;

-- Where `rhythm retry` resumes a run whose pending error a `finally` block
-- holds while it awaits: {snapshot, inbox, waiting, signal_waits} of the
-- activation that threw it (the snapshot after it would only rethrow).
ALTER TABLE rhythm.runs ADD COLUMN rewind json;

COMMENT ON TABLE rhythm.history IS
    'One row per committed activation (and per retry), written in its transaction; the newest N per run are kept.';

-- The dashboard's runs list: newest first, across workflows, paged by (created_at, id).
CREATE INDEX runs_recent_idx ON rhythm.runs (created_at DESC, id DESC);
