-- Where a failed run failed (for `rhythm inspect` and `rhythm retry`); the history table's purpose.

-- {state, data (the locals, snapshot-encoded), catches: [[from, to, "catch"|"finally", message]]}
-- of the activation that failed; NULL for other runs. json: keeps the workflow's key order.
ALTER TABLE rhythm.runs ADD COLUMN failure json;

COMMENT ON TABLE rhythm.history IS
    'One row per committed activation (and per retry), written in its transaction; the newest N per run are kept.';
