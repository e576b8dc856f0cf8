-- 0017_lighter_run_writes: what every write of a run row pays for, less of it (bench/README.md, "Session 11 (`idx`)").
-- A run's version is no longer a foreign key. Its check ran on every start and again on every warm step, whose
-- second write of the run row updates a row version the same transaction made (Postgres checks a foreign key again
-- on such an update whatever it changes): a plan executed, and a key-share lock taken on the one version row every
-- worker's steps share (at several workers, a multixact). Rhythm never deletes a version; a run whose version is
-- missing fails with a VersionError when next activated (storage/engine.py), as one whose stored module was altered.
ALTER TABLE rhythm.runs DROP CONSTRAINT runs_workflow_name_version_fkey;
-- The runs on a queue that have not ended, in one index instead of two (the waiting ones, admitted_at NULL, by
-- admission time; the admitted ones by key): every write of a run opens each of its indexes, HOT or not.
CREATE INDEX runs_on_queue_idx ON rhythm.runs (queue, status, admitted_at, admit_at, key)
    WHERE queue IS NOT NULL AND status IN ('pending', 'running', 'suspended');
DROP INDEX rhythm.runs_queued_idx;
DROP INDEX rhythm.runs_admitted_idx;
-- A start reads its workflow's newest version in the order the index now gives (version breaks a tie of created_at),
-- without a sort after the index scan.
DROP INDEX rhythm.workflow_versions_newest_idx;
CREATE INDEX workflow_versions_newest_idx ON rhythm.workflow_versions (name, created_at DESC, version);
