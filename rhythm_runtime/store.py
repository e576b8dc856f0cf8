"""The one module that talks to Postgres for runs, tasks, timers and signals.

Public methods open one transaction each and call small `_name(conn, …)`
helpers; the SQL lives in `sql/queries.sql`. Advancing a run happens inside
one transaction that holds the run's row lock: load the snapshot, run the
generated code, write the new snapshot and everything it scheduled. A crash
anywhere in between rolls all of it back, and the next worker re-runs the
activation from the old snapshot; scheduling is idempotent per await key.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from . import values as _js
from .db import load_queries, open_pool, storage_errors
from .errors import RhythmError
from .machine import Settlement, activate, new_snapshot

Q = load_queries()


class UnknownWorkflow(RhythmError):
    pass


class RunNotFound(RhythmError):
    pass


@dataclass
class Scheduled:
    """What one activation asked for, written in its transaction (the outbox)."""

    tasks: list = field(default_factory=list)
    timers: list = field(default_factory=list)
    children: int = 0
    new_waits: list = field(default_factory=list)
    settled_now: dict = field(default_factory=dict)  # results known during the activation, for the inbox


def decode_settlement(s: list) -> Settlement:
    seq, kind, value = s
    if kind == "ok":
        return Settlement(seq, True, _js.from_json(value))
    if kind == "undefined":
        return Settlement(seq, True, _js.UNDEFINED)
    return Settlement(seq, False, _js.JSError(value.get("type", "Error"), value.get("message", "")))


def error_payload(type_: str, message: str, **extra) -> dict:
    return {"type": type_, "message": message, **extra}


class Store:
    def __init__(self, conninfo: str, max_size: int = 10):
        self.conninfo = conninfo
        self.pool = open_pool(conninfo, min_size=1, max_size=max_size, kwargs={"row_factory": dict_row})

    def close(self) -> None:
        self.pool.close()

    def tx(self):
        """A pooled connection in a transaction, with storage errors translated."""
        return _Tx(self)

    # -- versions ---------------------------------------------------------------------
    def register_version(self, name: str, version: str, source: str, code: str, code_hash: str) -> None:
        with self.tx() as conn:
            conn.execute(Q["register_version"], dict(name=name, version=version, source=source,
                                                     module_code=code, module_hash=code_hash))

    def load_version(self, name: str, version: str) -> dict | None:
        with self.tx() as conn:
            return conn.execute(Q["load_version"], dict(name=name, version=version)).fetchone()

    # -- starting, reading, signalling, cancelling runs -----------------------------------
    def start_run(self, name: str, inputs: Any, run_id: str | None = None) -> tuple[str, bool]:
        """(id, created). Starting twice with one id returns the existing run."""
        with self.tx() as conn:
            run_id, created = _start_run(conn, name, inputs, run_id, None, None)
            if created:
                conn.execute(Q["notify_work"])
            return run_id, created

    def get_run(self, run_id: str) -> dict | None:
        with self.tx() as conn:
            return conn.execute(Q["get_run"], dict(id=run_id)).fetchone()

    def list_runs(self, status: str | None = None, name: str | None = None, limit: int = 50) -> list[dict]:
        with self.tx() as conn:
            return conn.execute(Q["list_runs"], dict(status=status, name=name, limit=limit)).fetchall()

    def send_signal(self, run_id: str, name: str, payload: Any) -> None:
        with self.tx() as conn:
            run = conn.execute(Q["lock_run"], dict(id=run_id)).fetchone()
            if run is None:
                raise RunNotFound(f"no run with id {run_id!r}")
            conn.execute(Q["insert_signal"], dict(run_id=run_id, name=name, payload=Jsonb(payload)))
            waits = run["signal_waits"]
            for i, (key, wanted) in enumerate(waits):
                if wanted == name:
                    taken = conn.execute(Q["take_signal"], dict(key=key, run_id=run_id, name=name)).fetchone()
                    conn.execute(Q["set_signal_waits"], dict(id=run_id, signal_waits=Jsonb(waits[:i] + waits[i + 1:])))
                    if _settle(conn, run_id, key, "ok", taken["payload"]):
                        conn.execute(Q["notify_work"])
                    break

    def cancel_run(self, run_id: str) -> bool:
        with self.tx() as conn:
            if conn.execute(Q["get_run"], dict(id=run_id)).fetchone() is None:
                raise RunNotFound(f"no run with id {run_id!r}")
            return _cancel(conn, run_id)

    def queue_task(self, name: str, payload: Any, spec) -> int:
        with self.tx() as conn:
            row = conn.execute(Q["insert_standalone_task"], dict(
                name=name, queue=spec.queue, payload=Jsonb(payload), max_attempts=spec.retries + 1,
                backoff=spec.backoff, timeout=spec.timeout)).fetchone()
            conn.execute(Q["notify_work"])
            return row["id"]

    def get_task(self, task_id: int) -> dict | None:
        with self.tx() as conn:
            return conn.execute(Q["get_task"], dict(id=task_id)).fetchone()

    def workflow_names(self) -> list[str]:
        with self.tx() as conn:
            return [r["name"] for r in conn.execute(Q["workflow_names"]).fetchall()]

    # -- the worker's side ------------------------------------------------------------------
    def advance_one(self, engine: "Engine") -> bool:
        """Activate one runnable run, in one transaction. False when none is runnable."""
        with self.tx() as conn:
            row = conn.execute(Q["lock_runnable_run"]).fetchone()
            if row is None:
                return False
            engine.advance(conn, row)
            return True

    def claim_tasks(self, worker: str, queues: list[str], limit: int, lease: float) -> list[dict]:
        with self.tx() as conn:
            return conn.execute(Q["claim_tasks"], dict(worker=worker, queues=queues, limit=limit,
                                                       lease_seconds=lease)).fetchall()

    def finish_task(self, engine: "Engine", task: dict, worker: str, ok: bool, value: Any) -> None:
        """Record a task's outcome; deliver it to its run and, if the run waits on it, advance it here."""
        with self.tx() as conn:
            if ok:
                row = conn.execute(Q["complete_task_ok"], dict(id=task["id"], worker=worker, result=Jsonb(value))).fetchone()
                kind = "ok"
            else:
                row = conn.execute(Q["fail_task_attempt"], dict(id=task["id"], worker=worker, error=Jsonb(value))).fetchone()
                kind = "err"
                if row is not None and row["status"] == "pending":
                    conn.execute(Q["notify_work"])
                    return  # a retry is scheduled; the run keeps waiting
            if row is None or row["run_id"] is None:
                return  # lease lost (another worker has it now) or a standalone task
            if _settle(conn, row["run_id"], row["await_key"], kind, value):
                run = conn.execute(Q["lock_run_if_waiting"], dict(id=row["run_id"])).fetchone()
                if run is not None:
                    engine.advance(conn, run)  # resume in the same transaction: one commit, no second claim
                else:
                    conn.execute(Q["notify_work"])

    def renew_leases(self, worker: str, ids: list[int], lease: float) -> None:
        with self.tx() as conn:
            conn.execute(Q["renew_task_leases"], dict(worker=worker, ids=ids, lease_seconds=lease))

    def reclaim_expired(self, limit: int = 100) -> int:
        with self.tx() as conn:
            rows = conn.execute(Q["reclaim_expired_tasks"], dict(limit=limit)).fetchall()
            for r in rows:
                if r["status"] == "failed" and r["run_id"] is not None:
                    _settle(conn, r["run_id"], r["await_key"], "err",
                            error_payload("TaskError", "the task's worker stopped responding (lease expired) and no attempts are left"))
            if rows:
                conn.execute(Q["notify_work"])
            return len(rows)

    def fire_timers(self, limit: int = 100) -> int:
        with self.tx() as conn:
            rows = conn.execute(Q["fire_due_timers"], dict(limit=limit)).fetchall()
            for r in rows:
                _settle(conn, r["run_id"], r["await_key"], "undefined", None)
            if rows:
                conn.execute(Q["notify_work"])
            return len(rows)


class _Tx:
    def __init__(self, store: Store):
        self.store = store

    def __enter__(self):
        self.errors = storage_errors(self.store.conninfo)
        self.errors.__enter__()
        self.cm = self.store.pool.connection()
        conn = self.cm.__enter__()
        self.txcm = conn.transaction()
        self.txcm.__enter__()
        return conn

    def __exit__(self, *exc):
        try:
            self.txcm.__exit__(*exc)
        finally:
            try:
                self.cm.__exit__(*exc)
            finally:
                self.errors.__exit__(*exc)
        return False


# -- helpers inside a transaction ------------------------------------------------------------


def _start_run(conn, name, inputs, run_id, parent_id, parent_key) -> tuple[str, bool]:
    row = conn.execute(Q["newest_version"], dict(name=name)).fetchone()
    if row is None:
        known = [r["name"] for r in conn.execute(Q["workflow_names"]).fetchall()]
        raise UnknownWorkflow(f"unknown workflow {name!r}; known workflows: {', '.join(known) or 'none registered'}")
    run_id = run_id or uuid.uuid4().hex
    inserted = conn.execute(Q["insert_run"], dict(
        id=run_id, name=name, version=row["version"], inputs=Jsonb(inputs),
        parent_run_id=parent_id, parent_await_key=parent_key)).fetchone()
    return run_id, inserted is not None


def _settle(conn, run_id: str, key: str, kind: str, value) -> bool:
    """Deliver a result to a run's inbox; True when that woke the run."""
    row = conn.execute(Q["settle"], dict(id=run_id, key=key, kind=kind, value=Jsonb(value))).fetchone()
    return bool(row and row["woke"])


def _cancel(conn, run_id: str) -> bool:
    row = conn.execute(Q["cancel_run"], dict(id=run_id)).fetchone()
    if row is None:
        return False
    conn.execute(Q["cancel_run_tasks"], dict(id=run_id))
    for child in conn.execute(Q["child_runs"], dict(id=run_id)).fetchall():
        _cancel(conn, child["id"])
    if row["parent_run_id"] is not None:
        _settle(conn, row["parent_run_id"], row["parent_await_key"], "err",
                error_payload("WorkflowError", f"child run {run_id} was cancelled"))
    return True


class Engine:
    """Advances runs inside a store transaction with the machine, for one app."""

    def __init__(self, modules: Callable[[Any, str, str], Any], task_specs: dict, budget: int):
        self.modules = modules  # (conn, name, version) -> module
        self.task_specs = task_specs
        self.budget = budget

    def advance(self, conn, row: dict) -> None:
        run_id = row["id"]
        module = self.modules(conn, row["workflow_name"], row["version"])
        snapshot = row["snapshot"] or new_snapshot(row["inputs"])
        settled = {k: decode_settlement(v) for k, v in row["inbox"].items()}
        out = Scheduled()
        outcome = activate(module, snapshot, settled, run_id,
                           lambda kind, key, spec: self.schedule(conn, run_id, settled, out, kind, key, spec),
                           self.budget)
        notify = self.write_outbox(conn, run_id, out)
        if outcome.status == "suspended":
            live = outcome.live  # results and signal waits of unreachable promises are garbage
            inbox = {k: v for k, v in {**row["inbox"], **out.settled_now}.items() if k in live}
            waits = [w for w in row["signal_waits"] + out.new_waits if w[0] in live]
            conn.execute(Q["save_suspended"], dict(
                id=run_id, snapshot=Jsonb(outcome.snapshot), inbox=Jsonb(inbox), waiting=outcome.waiting,
                signal_waits=Jsonb(waits)))
        else:
            conn.execute(Q["save_finished"], dict(
                id=run_id, status=outcome.status, output=Jsonb(outcome.output), error=Jsonb(outcome.error),
                snapshot=Jsonb(snapshot)))
            if row["parent_run_id"] is not None:
                if outcome.status == "completed":
                    woke = _settle(conn, row["parent_run_id"], row["parent_await_key"], "ok", outcome.output)
                else:
                    woke = _settle(conn, row["parent_run_id"], row["parent_await_key"], "err",
                                   error_payload("WorkflowError", outcome.error.get("message", "")))
                notify = notify or woke
        if notify:
            conn.execute(Q["notify_work"])

    def schedule(self, conn, run_id, settled, out: Scheduled, kind, key, spec) -> None:
        """The machine's scheduler: signals and children are handled now, the rest goes to the outbox."""
        if kind == "signal":
            taken = conn.execute(Q["take_signal"], dict(key=key, run_id=run_id, name=spec["name"])).fetchone()
            if taken is None:
                out.new_waits.append([key, spec["name"]])
            else:
                self.settle_now(conn, settled, out, key, "ok", taken["payload"])
        elif kind == "task":
            task_spec = self.task_specs.get(spec["name"])
            if task_spec is None:
                known = ", ".join(sorted(self.task_specs)) or "none"
                self.settle_now(conn, settled, out, key, "err",
                                error_payload("TaskError", f"unknown task {spec['name']!r}; known tasks: {known}"))
            else:
                out.tasks.append((key, spec, task_spec))
        elif kind == "timer":
            out.timers.append((key, spec["seconds"]))
        else:
            try:
                _start_run(conn, spec["name"], spec["inputs"], f"{run_id}/{key}", run_id, key)
                out.children += 1
            except UnknownWorkflow as e:
                self.settle_now(conn, settled, out, key, "err", error_payload("WorkflowError", str(e)))

    def settle_now(self, conn, settled, out: Scheduled, key, kind, value) -> None:
        seq = conn.execute(Q["next_settle_seq"]).fetchone()["seq"]
        out.settled_now[key] = [seq, kind, value]
        settled[key] = decode_settlement(out.settled_now[key])

    def write_outbox(self, conn, run_id: str, out: Scheduled) -> bool:
        for key, spec, ts in out.tasks:
            conn.execute(Q["insert_task"], dict(
                run_id=run_id, await_key=key, name=spec["name"], queue=ts.queue, payload=Jsonb(spec["payload"]),
                max_attempts=ts.retries + 1, backoff=ts.backoff, timeout=ts.timeout))
        for key, seconds in out.timers:
            conn.execute(Q["insert_timer"], dict(run_id=run_id, await_key=key, seconds=seconds))
        return bool(out.tasks or out.children)

