-- Schedules: workflows started by cron expressions, fired by any worker on the database clock.

-- One row per schedule: from a workflow's front matter (id = the workflow's name, replaced whenever a
-- version registers) or made at run time by the client (any id). A tick's run has the id
-- '<schedule id>@<tick in UTC>', inserted with ON CONFLICT DO NOTHING: one run per tick.
CREATE TABLE rhythm.schedules (
    id text PRIMARY KEY CHECK (id <> '' AND position('/' IN id) = 0),
    workflow_name text NOT NULL,
    -- Cron expressions, @hourly-style aliases or 'every 15m' intervals (rhythm_runtime/schedules.py).
    crons text[] NOT NULL,
    timezone text NOT NULL DEFAULT 'UTC',
    inputs json NOT NULL DEFAULT '{}',
    overlap text NOT NULL DEFAULT 'skip'
        CHECK (overlap IN ('skip', 'buffer_one', 'allow_all', 'cancel_running')),
    -- Missed ticks this close to now still fire after downtime (the newest due tick always does).
    catchup interval NOT NULL DEFAULT '0',
    origin text NOT NULL CHECK (origin IN ('front matter', 'client')),
    paused boolean NOT NULL DEFAULT false,
    -- Ticks up to here have been handled (fired or skipped); the next due one is next_fire_at.
    handled_until timestamptz NOT NULL DEFAULT now(),
    next_fire_at timestamptz NOT NULL,
    last_run_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Workers look for due schedules every second.
CREATE INDEX schedules_due_idx ON rhythm.schedules (next_fire_at) WHERE NOT paused;
