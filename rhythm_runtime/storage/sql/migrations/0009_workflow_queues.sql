-- 0009_workflow_queues: runs on queues (start_workflow(queue=), front matter `queue:`, Workflow.run's
-- { queue }): a run is admitted (its first activation may run) only while its queue's limits allow, counted by
-- workers at admission time under the queue's row lock (rhythm_runtime/storage/limits.py).

-- The queue a version's front matter puts its runs on (NULL: none).
ALTER TABLE rhythm.workflow_versions ADD COLUMN queue text;

-- A run's queue and priority (higher admitted first). A run on a queue waits (pending, available_at NULL) until
-- admitted_at is set; it is due for admission from admit_at (its delay or start_at).
ALTER TABLE rhythm.runs ADD COLUMN queue text;
ALTER TABLE rhythm.runs ADD COLUMN priority integer NOT NULL DEFAULT 0;
ALTER TABLE rhythm.runs ADD COLUMN admit_at timestamptz;
ALTER TABLE rhythm.runs ADD COLUMN admitted_at timestamptz;
-- Admission: the runs waiting on a queue, higher priority first, then oldest first.
CREATE INDEX runs_queued_idx ON rhythm.runs (queue, priority DESC, admit_at, id)
    WHERE queue IS NOT NULL AND admitted_at IS NULL AND status = 'pending';
-- The slots: admitted runs of a queue that have not ended, per key.
CREATE INDEX runs_admitted_idx ON rhythm.runs (queue, key)
    WHERE admitted_at IS NOT NULL AND status IN ('pending', 'running', 'suspended');
-- Rate windows: runs admitted on a queue, by admission time.
CREATE INDEX runs_admissions_idx ON rhythm.runs (queue, admitted_at) WHERE admitted_at IS NOT NULL;
