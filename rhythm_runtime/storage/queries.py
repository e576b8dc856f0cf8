"""The named SQL queries and the few statements both sides run with them inside a transaction.

The client `Store` (store.py) and the worker's `Engine` (engine.py) both
insert runs (a start, or a child started by Workflow.run) and deliver results
to a run's inbox; both write JSON parameters, error payloads and the step
history. Those shared pieces live here, so neither module imports the other's.
The SQL itself lives in `sql/queries.sql`.
"""

from __future__ import annotations

import json
import os
import random
import uuid

from psycopg.types.json import Json, Jsonb

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.storage.db import load_queries

Q = load_queries()
# The step history keeps this many activations per run (the newest); RHYTHM_HISTORY_LIMIT overrides, 0 keeps none.
HISTORY_LIMIT = 1000
# The first key of the advisory locks that order registering a task name against scheduling it unregistered.
TASK_NAME_LOCK_CLASS = 0x52485954


# insert_run raises these, for a client's start and a parent's Workflow.run alike; clients import them from store.py.
class UnknownWorkflow(RhythmError):
    pass


class RunIdConflict(RhythmError):
    """A start with a run id that another workflow's run already has, or a malformed id."""


def json_text(value) -> str:
    """A value as JSON text: what the inbox keeps, so object key order survives jsonb."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def json_param(value, text: str | None = None) -> Json:
    """A json parameter; `text`, when given, is `value` already serialized (and measured) by the machine."""
    return Json(value) if text is None else Json(value, dumps=lambda _value: text)


def text_params(params: dict) -> dict:
    """`params` as Postgres text, for a statement that casts every placeholder (the step's, each task): psycopg
    passes a str as it is, but adapts an int, a float, a Json or a list through its dumpers at several µs each
    (about 20 µs of a 21-parameter statement's 125 µs of client CPU). Other values are left to psycopg."""
    return {name: value if value is None or type(value) is str else _as_text(value) for name, value in params.items()}


def _as_text(value):
    kind = type(value)
    if kind is int or kind is float:
        return repr(value)
    if kind is Json or kind is Jsonb:
        return (value.dumps or json.dumps)(value.obj)
    if kind is list and all(type(v) is str for v in value):
        return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value) + "}"
    return value


def history_limit() -> int:
    """How many history steps to keep per run (RHYTHM_HISTORY_LIMIT, default HISTORY_LIMIT)."""
    text = os.environ.get("RHYTHM_HISTORY_LIMIT", "").strip()
    try:
        return max(0, int(text)) if text else HISTORY_LIMIT
    except ValueError:
        raise RhythmError(f"RHYTHM_HISTORY_LIMIT must be a whole number of steps, not {text!r}") from None


def error_payload(type_: str, message: str, **extra) -> dict:
    return {"type": type_, "message": message, **extra}


def child_run_id(parent_id: str, await_key: str) -> str:
    """The id of the child run a parent's Workflow.run at `await_key` starts (user ids have no '/')."""
    return f"{parent_id}/{await_key}"


def insert_run(conn, name, inputs, run_id, parent_id, parent_key, inputs_json=None, *, key: str | None = None,
               start_at=None, delay: float = 0.0, held: bool = False, queue: str | None = None, priority: int = 0,
               newest: dict | None = None) -> tuple[str, bool]:
    """Insert a run of the newest version of workflow `name` (`newest`: that version's row, when the caller read
    it); (id, created): an existing run with the id is kept. It is runnable at `start_at` or after `delay`
    seconds (now, if past), or (`held`) when its key's turn comes. On a queue (`queue`, else its front matter's)
    with a limit it waits to be admitted from then on (storage/limits.py); workers are told at commit."""
    row = newest or newest_version(conn, name)
    run_id = new_run_id(run_id)
    inserted = conn.execute(Q["insert_run"], dict(
        run_params(row, name, inputs, run_id, inputs_json), parent_run_id=parent_id, parent_await_key=parent_key,
        key=key, start_at=start_at, delay=delay, held=held, queue=queue or row["queue"], priority=priority)).fetchone()
    if inserted is None:
        check_existing_run(conn, run_id, name)
    elif inserted["queued"]:
        conn.execute(Q["notify_admission"])
    return run_id, inserted is not None


def new_run_id(run_id: str | None) -> str:
    """The id a start gives its run: the caller's, or a new random one."""
    return run_id or uuid.uuid4().hex


def check_existing_run(conn, run_id: str, name: str) -> None:
    """A start found a run with its id: RunIdConflict unless that run is of the same workflow (idempotent start)."""
    existing = conn.execute(Q["get_run"], dict(id=run_id)).fetchone()
    if existing is not None and existing["workflow_name"] != name:
        raise RunIdConflict(f"run id {run_id!r} is already used by a run of workflow "
                            f"{existing['workflow_name']!r}, not {name!r}")


def run_params(newest: dict, name: str, inputs, run_id: str, inputs_json=None) -> dict:
    """insert_run's parameters for a run of version `newest` (a newest_version row), started now and at once on
    its front matter's queue; callers replace what they set."""
    return dict(id=run_id, name=name, version=newest["version"], inputs=json_param(inputs, inputs_json),
                parent_run_id=None, parent_await_key=None, key=None, start_at=None, delay=0.0, held=False,
                queue=newest["queue"], priority=0)


def insert_runs(conn, params: list[dict]) -> list[str]:
    """Insert many runs (run_params each) in one round trip; the ids of those created (existing ids are kept)."""
    if not params:
        return []
    cursor = conn.cursor()
    cursor.executemany(Q["insert_run"], params, returning=True)
    created, queued = [], False
    while True:
        row = cursor.fetchone()
        if row is not None:
            created.append(row["id"])
            queued = queued or row["queued"]
        if not cursor.nextset():
            break
    if queued:
        conn.execute(Q["notify_admission"])
    return created


def newest_version(conn, name: str) -> dict:
    """The version (and front matter queue) new runs of workflow `name` start on; UnknownWorkflow if none."""
    row = conn.execute(Q["newest_version"], dict(name=name)).fetchone()
    if row is None:
        known = [r["name"] for r in conn.execute(Q["workflow_names"]).fetchall()]
        raise UnknownWorkflow(f"unknown workflow {name!r}: no worker has registered {name!r} yet (start or restart "
                              f"a worker, or run `rhythm register`); known workflows: "
                              f"{', '.join(known) or 'none registered'}")
    return row


def settle(conn, run_id: str, key: str, kind: str, value) -> bool:
    """Deliver a result to a run's inbox; True when that woke the run."""
    row = conn.execute(Q["settle"], dict(id=run_id, key=key, kind=kind, value=json_text(value))).fetchone()
    return bool(row and row["woke"])



def runs_notice() -> str:
    """The notice of runs made runnable: `runs N`, where N picks the worker that looks at once (see loop.py)."""
    return f"runs {random.randrange(1 << 30)}"


def tasks_notice(queue: str) -> str:
    """The notice of tasks made pending on `queue`: only workers serving it with a free slot look."""
    return f"tasks {queue}"


def notify(conn, notices) -> None:
    """Send the notices (payloads from runs_notice, tasks_notice, or '' for every worker) at commit; one
    `runs N` stands for all (whoever looks advances a batch of runs)."""
    runs = False
    for payload in sorted(notices):
        if not payload.startswith("runs ") or not runs:
            conn.execute(Q["notify"], dict(payload=payload))
        runs = runs or payload.startswith("runs ")


def call_options(options: dict | None) -> dict:
    """The task row parameters of Task.run's options (execution/task_options.py): none given, none applied."""
    options = options or {}
    return dict(key=options.get("key"), priority=options.get("priority", 0), delay=options.get("delay", 0.0))


def insert_task_as_registered(conn, name: str, payload: Json, run_id: str | None = None,
                              await_key: str | None = None, options: dict | None = None) -> dict | None:
    """Schedule a task that this process has no @task for, on the queue (and with the retries) that
    some worker registered for its name; a name nobody registered waits in 'default' until one does.

    The shared lock keeps a registration from committing between the read and
    the insert, so the registering worker's route_pending_tasks sees the row.
    """
    conn.execute(Q["lock_task_name_shared"], dict(lock_class=TASK_NAME_LOCK_CLASS, name=name))
    return conn.execute(Q["insert_task_as_registered"], dict(
        run_id=run_id, await_key=await_key, name=name, payload=payload, timeout=(options or {}).get("timeout"),
        **call_options(options))).fetchone()
