-- 0013_attempt_limit: a task's attempt limit is a domain instead of a table CHECK constraint, for the reason the
-- statuses became domains in 0012 (Postgres parses a table's CHECK constraints again in every statement that
-- writes the table; a domain's check is cached per session and runs only where the value is written): about
-- 1.5% of a warm step's backend instructions. Same rule, same SQLSTATE (23514); no table is rewritten.
CREATE DOMAIN rhythm.attempt_limit AS integer;
ALTER TABLE rhythm.tasks ALTER COLUMN max_attempts TYPE rhythm.attempt_limit;
ALTER TABLE rhythm.task_registrations ALTER COLUMN max_attempts TYPE rhythm.attempt_limit;
ALTER TABLE rhythm.tasks DROP CONSTRAINT tasks_max_attempts_check;
ALTER TABLE rhythm.task_registrations DROP CONSTRAINT task_registrations_max_attempts_check;
ALTER DOMAIN rhythm.attempt_limit ADD CONSTRAINT attempt_limit_check CHECK (VALUE >= 1);
