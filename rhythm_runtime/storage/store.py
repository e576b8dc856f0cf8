"""The one module that talks to Postgres for runs, tasks, timers and signals.

Public methods open one transaction each and call small `_name(conn, …)`
helpers; the SQL lives in `sql/queries.sql`. Advancing a run happens inside
one transaction that holds the run's row lock: load the snapshot, run the
generated code, write the new snapshot and everything it scheduled. A crash
anywhere in between rolls all of it back, and the next worker re-runs the
activation from the old snapshot; scheduling is idempotent per await key.

Lock order, so that no two transactions wait on each other: a task row before
its run; a child run before its parent (a child's outcome is delivered while
the child is locked); cancellation locks a whole tree deepest first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Json, Jsonb
from psycopg_pool import PoolTimeout

from rhythm_runtime.execution import values as _js
from rhythm_runtime.storage.db import load_queries, open_pool, storage_errors
from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.execution.machine import MAX_SNAPSHOT_BYTES, MAX_TRAIL, Settlement, activate, leaf_keys, new_snapshot, reachable_keys

Q = load_queries()
MAX_LOST_LEASES = 10  # a task whose worker vanishes this often is failing the workers, not flaky
log = logging.getLogger("rhythm")

# Workflow.run refuses to start a child this many levels below its root run (a workflow that starts
# itself without end fails instead of filling the database). A child's id is its parent's id, '/'
# and the await key, and user ids may not contain '/', so a run's depth is the number of '/' in its id.
MAX_CHILD_DEPTH = 50
# A child started by Workflow.run runs its first activation inside its
# parent's (as JavaScript starts an async function synchronously); deeper
# than this, children wait for a worker instead of growing the Python stack.
MAX_INLINE_CHILD_DEPTH = 8
# A transaction whose BEGIN fails on a dead pooled connection is retried this often (see _Tx).
BEGIN_ATTEMPTS = 3
# While the database is known to be away, a call waits this long for a connection (not the pool's 30 s),
# so callers notice (and a stopping worker stops) soon; the pool keeps reconnecting in the background.
DOWN_CHECKOUT_TIMEOUT = 2.0
# The pool gives up reconnecting after this long and starts over (at once) on the next request, so
# its exponential backoff (1 s, 2 s, 4 s, ...) does not keep a recovered database waiting.
RECONNECT_CYCLE = 3.0
# Timer.delay of more seconds than this (a thousand years; Infinity too) never fires, as in JavaScript's model.
TIMER_FOREVER = 1000 * 365.25 * 86400
# The step history keeps this many activations per run (the newest); RHYTHM_HISTORY_LIMIT overrides, 0 keeps none.
HISTORY_LIMIT = 1000


class UnknownWorkflow(RhythmError):
    pass


class RunNotFound(RhythmError):
    pass


class RunFinished(RhythmError):
    """A signal sent to a run that has already ended."""


class RunIdConflict(RhythmError):
    """A start with a run id that another workflow's run already has, or a malformed id."""


class VersionUnavailable(RhythmError):
    """A run's workflow version cannot be loaded (missing, altered or broken module code)."""


class RetryRefused(RhythmError):
    """`rhythm retry` of a run that has not failed, or onto a version that cannot resume its snapshot."""


@dataclass
class Scheduled:
    """What one activation asked for, written in its transaction (the outbox)."""

    tasks: list = field(default_factory=list)
    timers: list = field(default_factory=list)
    children: int = 0  # children started but not activated inline: a worker must pick them up
    new_waits: list = field(default_factory=list)
    old_waits: list = field(default_factory=list)  # Signal.next waits from earlier activations, oldest first
    settled_now: dict = field(default_factory=dict)  # results known during the activation, for the inbox
    log: list = field(default_factory=list)  # [key, kind, name or seconds] of everything scheduled, for the history


def json_text(value) -> str:
    """A value as JSON text: what the inbox keeps, so object key order survives jsonb."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def json_param(value, text: str | None = None) -> Json:
    """A json parameter; `text`, when given, is `value` already serialized (and measured) by the machine."""
    return Json(value) if text is None else Json(value, dumps=lambda _value: text)


def decode_settlement(s: list) -> Settlement:
    seq, kind, text = s
    value = json.loads(text)
    if kind == "ok":
        return Settlement(seq, True, _js.from_json(value))
    if kind == "undefined":
        return Settlement(seq, True, _js.UNDEFINED)
    return Settlement(seq, False, _js.JSError(value.get("type", "Error"), value.get("message", "")))


def claim_number(task: dict) -> int:
    """Which claim of a task this is (every claim adds an attempt or, when it was lost, a lost lease).

    Recording a result requires it, so a worker that hung past its lease and
    then claimed the same task again cannot record the first claim's result.
    """
    return task["attempts"] + task["lost_leases"]


def history_limit() -> int:
    """How many history steps to keep per run (RHYTHM_HISTORY_LIMIT, default HISTORY_LIMIT)."""
    text = os.environ.get("RHYTHM_HISTORY_LIMIT", "").strip()
    try:
        return max(0, int(text)) if text else HISTORY_LIMIT
    except ValueError:
        raise RhythmError(f"RHYTHM_HISTORY_LIMIT must be a whole number of steps, not {text!r}") from None


@dataclass
class Step:
    """One activation as the step history records it (written with the snapshot, in one statement)."""

    start: int | None  # the state it resumed at (None: the run's first activation)
    woke_by: list  # await keys with results that the previous activation waited on
    began: float = field(default_factory=time.monotonic)
    trail: list = field(default_factory=list)
    catches: list = field(default_factory=list)
    scheduled: list = field(default_factory=list)
    kind: str = "activation"

    def details(self, status: str, end: int | None, **extra) -> Jsonb:
        return Jsonb({"kind": self.kind, "status": status, "from": self.start, "to": end, "trail": self.trail,
                      "catches": self.catches, "woke_by": self.woke_by, "scheduled": self.scheduled,
                      "ms": round((time.monotonic() - self.began) * 1000, 3), **extra})


def start_step(row: dict) -> Step:
    snapshot = row["snapshot"]
    inbox = row["inbox"]
    return Step(None if snapshot is None else snapshot["state"], [k for k in row["waiting"] or () if k in inbox])


def error_payload(type_: str, message: str, **extra) -> dict:
    return {"type": type_, "message": message, **extra}


def internal_error(exc: BaseException) -> dict:
    """The error a run fails with when Rhythm itself broke while advancing it."""
    if isinstance(exc, psycopg.DataError):  # e.g. a \u0000 in an error message (jsonb cannot hold it)
        return error_payload("DataError", f"Postgres cannot store the run's data: {str(exc).strip()}")
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" ({where[0].filename}:{where[0].lineno})" if where else ""
    return error_payload("InternalError", f"Rhythm failed while advancing the run: {type(exc).__name__}: {exc}{at}; "
                                          f"this is a bug in Rhythm, please report it")


class Store:
    def __init__(self, conninfo: str, max_size: int = 10):
        self.conninfo = conninfo
        self.health = Health()
        quiet = logging.getLogger("psycopg.pool")  # an INFO line per checkout, a WARNING per reconnect attempt
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.ERROR)  # Health reports an outage once instead
        self.pool = open_pool(conninfo, min_size=1, max_size=max_size, reconnect_timeout=RECONNECT_CYCLE,
                              kwargs={"row_factory": dict_row})

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
        if run_id is not None and (not isinstance(run_id, str) or not run_id or "/" in run_id):
            raise RunIdConflict(f"invalid run id {run_id!r}: use a non-empty string without '/' "
                                f"('/' is reserved for the ids of child runs)")
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
        """Queue a signal; hand it to the oldest Signal.next waiting for it, if the run is idle.

        A run that is about to be activated (something it awaits has resolved)
        may no longer want the signal: a `Promise.race` it was part of may
        have been decided. Then the signal stays queued and the activation
        gives it to whichever Signal.next is still waiting afterwards.
        """
        with self.tx() as conn:
            run = conn.execute(Q["lock_run"], dict(id=run_id)).fetchone()
            if run is None:
                raise RunNotFound(f"no run with id {run_id!r}")
            if run["status"] not in ("pending", "suspended"):
                raise RunFinished(f"run {run_id} has already {run['status']}; signal {name!r} was not delivered")
            conn.execute(Q["insert_signal"], dict(run_id=run_id, name=name, payload=Json(payload)))
            if run["available_at"] is not None:
                return  # the next activation matches it
            waits = run["signal_waits"]
            for i, (key, wanted) in enumerate(waits):
                if wanted == name:
                    taken = conn.execute(Q["take_signal"], dict(key=key, run_id=run_id, name=name)).fetchone()
                    conn.execute(Q["set_signal_waits"], dict(id=run_id, signal_waits=Jsonb(waits[:i] + waits[i + 1:])))
                    if _settle(conn, run_id, key, "ok", taken["payload"]):
                        conn.execute(Q["notify_work"])
                    break

    def cancel_run(self, run_id: str) -> bool:
        """Cancel a run, its unfinished children and their tasks that have not started; False if it had ended."""
        with self.tx() as conn:
            if conn.execute(Q["get_run"], dict(id=run_id)).fetchone() is None:
                raise RunNotFound(f"no run with id {run_id!r}")
            conn.execute(Q["lock_run_tree"], dict(id=run_id)).fetchall()  # deepest first: see the module docstring
            return _cancel(conn, run_id)

    def retry_run(self, run_id: str, version: str | None = None) -> dict:
        """Resume a failed run from the snapshot it failed at; see `_retry`.

        `version`: None keeps the run's own version, "latest" takes the newest
        registered one, anything else names a version; a version other than
        the run's own must have the same resume shape (RESUME_SHAPE).
        """
        for attempt in range(3):
            try:
                with self.tx() as conn:
                    result = _retry(conn, run_id, version, history_limit())
                    conn.execute(Q["notify_work"])
                    return result
            except StorageError as e:  # a worker finishing one of its tasks meanwhile: try again
                if not isinstance(e.__cause__, psycopg.errors.DeadlockDetected) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def retry_problem(self, run_id: str, version: str | None) -> str | None:
        """Why `retry_run(run_id, version)` would be refused, or None; reads only."""
        with self.tx() as conn:
            run = conn.execute(Q["run_for_retry_check"], dict(id=run_id)).fetchone()
            if run is None:
                return f"no run with id {run_id!r}"
            if run["status"] != "failed":
                return f"run {run_id} is {run['status']}: only failed runs can be retried"
            try:
                _retry_version(conn, run, (run["rewind"] or run)["snapshot"], version)
            except RetryRefused as e:
                return str(e)
            return None

    def queue_task(self, name: str, payload: Any, spec) -> int:
        with self.tx() as conn:
            row = conn.execute(Q["insert_standalone_task"], dict(
                name=name, queue=spec.queue, payload=Json(payload), max_attempts=spec.retries + 1,
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
        return self._advance(engine, "lock_runnable_run", {})

    def _advance(self, engine: "Engine", query: str, params: dict) -> bool:
        """Lock a run with `query` and activate it, in one transaction.

        If Rhythm itself fails while advancing (not the workflow: its errors
        are part of its outcome), the transaction is rolled back and the run
        is failed with an InternalError in a new one, instead of being
        retried forever. Lost connections are not the run's fault: those
        roll back, and the run is tried again.
        """
        row = None
        try:
            with self.tx() as conn:
                row = conn.execute(Q[query], params).fetchone()
                if row is None:
                    return False
                if engine.advance(conn, row):
                    conn.execute(Q["notify_work"])
                return True
        except StorageError:
            raise
        except Exception as e:  # a bug, deterministic: failing the run is the only way forward
            if row is None or is_outage(e):  # (a lost connection is not the run's fault)
                raise
            log.exception("advancing run %s failed; failing the run", row["id"])
            claim = getattr(engine.inline, "claim", None)
            if claim is not None:
                claim.taken.clear()  # those rows were rolled back with the activation
            self.fail_run(engine, row["id"], row["activations"], internal_error(e))
            return True

    def fail_run(self, engine: "Engine", run_id: str, activations: int, error: dict) -> None:
        """Fail a run that cannot be advanced, unless it moved on meanwhile."""
        with self.tx() as conn:
            row = conn.execute(Q["lock_run_for_activation"], dict(id=run_id)).fetchone()
            if row is None or row["status"] not in ("pending", "suspended") or row["activations"] != activations:
                return
            kept = (row["inbox"], row["waiting"], row["signal_waits"])
            if engine.finish(conn, row, "failed", None, error, row["snapshot"], kept=kept):
                conn.execute(Q["notify_work"])

    def claim_tasks(self, worker: str, queues: list[str], limit: int, lease: float) -> list[dict]:
        with self.tx() as conn:
            return conn.execute(Q["claim_tasks"], dict(worker=worker, queues=queues, limit=limit,
                                                       lease_seconds=lease)).fetchall()

    def finish_task(self, engine: "Engine", task: dict, worker: str, ok: bool, value: Any,
                    claim: InlineClaim | None = None) -> list[dict]:
        """Record a task's outcome, deliver it to its run and, if that wakes the
        run, advance it in the same transaction: one commit per step.

        The activation runs inside a savepoint, so a Rhythm bug there keeps the
        task's result (the run stays runnable for the loop). A worker killed
        during the activation loses the result with it and the task runs again:
        tasks are at-least-once (docs/GUARANTEES.md).
        """
        with self.tx() as conn:
            if ok:
                row = conn.execute(Q["complete_task_ok"], dict(id=task["id"], worker=worker, claim=claim_number(task),
                                                               result=Json(value))).fetchone()
                kind = "ok"
            else:
                row = conn.execute(Q["fail_task_attempt"], dict(id=task["id"], worker=worker, claim=claim_number(task),
                                                                 error=Jsonb(value))).fetchone()
                kind = "err"
                if row is not None and row["status"] == "pending":
                    if row["run_id"] is None or conn.execute(Q["cancel_task_of_cancelled_run"],
                                                             dict(id=task["id"])).fetchone() is None:
                        conn.execute(Q["notify_work"])
                    return []  # a retry is scheduled; the run keeps waiting
            if row is None:  # the lease expired (a hung or partitioned worker) and another worker has the task
                log.warning("refused the result of task %s (%s): this worker no longer holds its lease (another "
                            "worker runs it again, or a retry of its run undid it)", task["id"], task["name"])
                return []
            if row["run_id"] is None:
                return []  # a standalone task
            if not ok:  # the workflow sees name and message; the exception and traceback stay on the task row
                value = {k: value[k] for k in ("type", "message") if k in value}
            if not _settle(conn, row["run_id"], row["await_key"], kind, value):
                return []
            return self._advance_inline(conn, engine, row["run_id"], claim)

    def _advance_inline(self, conn, engine: "Engine", run_id: str, claim: InlineClaim | None) -> list[dict]:
        engine.inline.claim = claim
        try:
            with conn.transaction():  # a savepoint
                run = conn.execute(Q["lock_run_if_waiting"], dict(id=run_id)).fetchone()
                if run is None:  # another worker has it; the run stays runnable
                    conn.execute(Q["notify_work"])
                    return []
                if engine.advance(conn, run):
                    conn.execute(Q["notify_work"])
            return claim.taken if claim is not None else []
        except (StorageError, psycopg.OperationalError):
            raise
        except Exception:  # a bug while advancing: keep the task's result; the loop retries or fails the run
            log.exception("advancing run %s after its task failed; leaving it to the loop", run_id)
            conn.execute(Q["notify_work"])
            return []
        finally:
            engine.inline.claim = None

    def renew_leases(self, worker: str, ids: list[int], lease: float) -> list[int]:
        """Extend this worker's leases; returns the ids it still holds."""
        with self.tx() as conn:
            rows = conn.execute(Q["renew_task_leases"], dict(worker=worker, ids=ids, lease_seconds=lease)).fetchall()
            return [r["id"] for r in rows]

    def reclaim_expired(self, limit: int = 100) -> int:
        with self.tx() as conn:
            rows = conn.execute(Q["reclaim_expired_tasks"], dict(limit=limit, max_lost=MAX_LOST_LEASES)).fetchall()
            for r in rows:
                if r["status"] == "failed" and r["run_id"] is not None:
                    _settle(conn, r["run_id"], r["await_key"], "err", r["error"])
            if rows:
                conn.execute(Q["notify_work"])
            return len(rows)

    def fire_timers(self, limit: int = 100) -> int:
        with self.tx() as conn:
            rows = conn.execute(Q["fire_due_timers"], dict(limit=limit)).fetchall()
            # RETURNING has no order: settle in due order, so a race sees the earliest timer first
            for r in sorted(rows, key=lambda r: (r["due_at"], r["run_id"], r["await_key"])):
                _settle(conn, r["run_id"], r["await_key"], "undefined", None)
            if rows:
                conn.execute(Q["notify_work"])
            return len(rows)

    def seconds_until_due(self, queues: list[str], with_tasks: bool) -> float | None:
        """Until the next timer (or pending task) is due; None when nothing is scheduled."""
        with self.tx() as conn:
            row = conn.execute(Q["next_due"], dict(queues=queues, with_tasks=with_tasks)).fetchone()
            return None if row["seconds"] is None else max(0.0, float(row["seconds"]))


class _Tx:
    """One transaction on a pooled connection; every connection-level error leaves as StorageError.

    Errors are translated wherever they happen: at BEGIN, inside, or at COMMIT.
    A BEGIN that fails has run nothing, so it is retried on a fresh connection:
    after Postgres restarts, the pool still holds connections to the old
    server, and the first transaction on each would otherwise fail.
    """

    def __init__(self, store: Store):
        self.store = store

    def __enter__(self):
        self.began = time.monotonic()
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(storage_errors(self.store.conninfo))
            conn = self._begin(stack)
        except BaseException as e:
            self.store.health.failed(e)
            if not stack.__exit__(type(e), e, e.__traceback__):
                raise
        self.stack = stack
        return conn

    def _begin(self, stack: contextlib.ExitStack):
        for attempt in range(BEGIN_ATTEMPTS):
            inner = contextlib.ExitStack()
            timeout = DOWN_CHECKOUT_TIMEOUT if self.store.health.down_since is not None else None
            conn = inner.enter_context(self.store.pool.connection(timeout))  # PoolTimeout: the database is away
            try:
                inner.enter_context(conn.transaction())
            except psycopg.OperationalError as e:
                inner.__exit__(type(e), e, e.__traceback__)  # the pool replaces the broken connection
                if attempt == BEGIN_ATTEMPTS - 1 or not is_outage(e):
                    raise
                self.store.health.failed(e)  # the next checkout waits less: the server may be away
                self.store.pool.check()  # drop the other connections to a server that went away
                continue
            stack.enter_context(inner)
            return conn

    def __exit__(self, *exc):
        try:
            suppressed = self.stack.__exit__(*exc)
        except BaseException as e:
            self.store.health.failed(e)
            raise
        if exc[0] is None:
            self.store.health.ok(self.began)
        else:
            self.store.health.failed(exc[1])
        return suppressed


def is_outage(exc: BaseException | None) -> bool:
    """Whether an error means the database is unreachable (down, restarting, network), not a failed statement."""
    if isinstance(exc, StorageError):
        exc = exc.__cause__
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate or ""  # none: the client lost the connection
        return state == "" or state.startswith(("08", "57P"))  # connection exception, operator intervention
    return isinstance(exc, psycopg.InterfaceError)


class Health:
    """Logs the database going away once, and coming back once, however many calls fail in between.

    It is back when a transaction commits that began a while (QUIET seconds) after the last failure:
    while a server shuts down, a connection whose backend has not yet been told may still commit.
    """

    QUIET = 0.5

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.last_failure = 0.0
        self.lock = threading.Lock()

    def failed(self, exc: BaseException | None) -> None:
        if not is_outage(exc):
            return
        with self.lock:
            self.last_failure = time.monotonic()
            if self.down_since is None:
                self.down_since = self.last_failure
                reason = next((x.strip() for x in str(exc).splitlines() if x.strip()), type(exc).__name__)
                log.warning("database unavailable, retrying with backoff until it is back: %s", reason)

    def ok(self, began: float) -> None:
        """A transaction that began at `began` committed."""
        if self.down_since is None or began < self.last_failure + self.QUIET:
            return
        with self.lock:
            if self.down_since is not None and began >= self.last_failure + self.QUIET:
                log.info("database reachable again after %.1fs", time.monotonic() - self.down_since)
                self.down_since = None


# -- helpers inside a transaction ------------------------------------------------------------


def _start_run(conn, name, inputs, run_id, parent_id, parent_key, inputs_json=None) -> tuple[str, bool]:
    row = conn.execute(Q["newest_version"], dict(name=name)).fetchone()
    if row is None:
        known = [r["name"] for r in conn.execute(Q["workflow_names"]).fetchall()]
        raise UnknownWorkflow(f"unknown workflow {name!r}; known workflows: {', '.join(known) or 'none registered'}")
    run_id = run_id or uuid.uuid4().hex
    inserted = conn.execute(Q["insert_run"], dict(
        id=run_id, name=name, version=row["version"], inputs=json_param(inputs, inputs_json),
        parent_run_id=parent_id, parent_await_key=parent_key)).fetchone()
    if inserted is None:
        existing = conn.execute(Q["get_run"], dict(id=run_id)).fetchone()
        if existing is not None and existing["workflow_name"] != name:
            raise RunIdConflict(f"run id {run_id!r} is already used by a run of workflow "
                                f"{existing['workflow_name']!r}, not {name!r}")
    return run_id, inserted is not None


def _settle(conn, run_id: str, key: str, kind: str, value) -> bool:
    """Deliver a result to a run's inbox; True when that woke the run."""
    row = conn.execute(Q["settle"], dict(id=run_id, key=key, kind=kind, value=json_text(value))).fetchone()
    return bool(row and row["woke"])


def _cancel(conn, run_id: str) -> bool:
    row = conn.execute(Q["cancel_run"], dict(id=run_id)).fetchone()
    if row is None:
        return False
    conn.execute(Q["cancel_run_tasks"], dict(id=run_id))
    conn.execute(Q["drop_pending_timers"], dict(id=run_id, keep=[]))
    for child in conn.execute(Q["child_runs"], dict(id=run_id)).fetchall():
        _cancel(conn, child["id"])
    if row["parent_run_id"] is not None:
        _settle(conn, row["parent_run_id"], row["parent_await_key"], "err",
                error_payload("WorkflowError", f"child run {run_id} was cancelled"))
    return True


def _rewind(row: dict, roots: dict, catches: list) -> Json | None:
    """Where a retry must resume while a `finally` holds a thrown error (see runs.rewind in schema.sql).

    The snapshot inside that `finally` would only rethrow it, so the point
    before the activation that threw it is kept (the oldest, if errors pile
    up) until no `finally` holds one any more, with the catch/finally routes
    taken since (a failure shows them).
    """
    if not any(isinstance(r, list) and r and r[0] == "throw" for r in roots["C"].values()):
        return None
    old = row["rewind"] or {"snapshot": row["snapshot"], "inbox": row["inbox"],
                            "waiting": list(row["waiting"] or []), "signal_waits": row["signal_waits"]}
    return Json({**old, "catches": (old.get("catches", []) + catches)[:MAX_TRAIL]})


def _failure(row: dict, outcome) -> dict | None:
    """Where a run failed (runs.failure), with the routes its error took in earlier activations too."""
    failure = outcome.failure()
    if failure is not None and row["rewind"]:
        failure["catches"] = (row["rewind"].get("catches", []) + failure["catches"])[:MAX_TRAIL]
    return failure


def _retry(conn, run_id: str, version: str | None, keep: int) -> dict:
    """Reset a failed run to its stored snapshot, in one transaction.

    The snapshot is the one the failed activation started from (or, when a
    `finally` held the error across awaits, the rewind point before the
    activation that threw it). What came after it is undone: tasks, timers and children it scheduled are
    deleted and signals it took are put back (the re-run does it again).
    Awaits the snapshot still waits on are brought up to date: a failed or
    cancelled task is re-issued from its first attempt, a failed child is
    retried, results that came after the failure are delivered.
    """
    tasks = conn.execute(Q["lock_run_tasks"], dict(id=run_id)).fetchall()
    run = conn.execute(Q["lock_failed_run"], dict(id=run_id)).fetchone()
    if run is None:
        raise RunNotFound(f"no run with id {run_id!r}")
    if run["status"] != "failed":
        raise RetryRefused(f"run {run_id} is {run['status']}: only failed runs can be retried")
    base = run["rewind"] or run  # the snapshot to resume from, with its inbox and signal waits
    snapshot = base["snapshot"]
    target = _retry_version(conn, run, snapshot, version)
    seq = snapshot.get("seq", {}) if snapshot else {}
    data = _js.decode_snapshot(snapshot["data"]) if snapshot else {"W": None}
    live = reachable_keys(data) if snapshot else set()
    inbox = dict(base["inbox"])
    waiting = leaf_keys(data["W"])
    redo = _Redo(conn, seq, live, set(waiting), inbox)
    redo.tasks(tasks)
    redo.children(conn.execute(Q["run_children_all"], dict(id=run_id)).fetchall())
    redo.timers(run_id, conn.execute(Q["run_timers"], dict(id=run_id)).fetchall())
    undone = [r["await_key"] for r in conn.execute(Q["consumed_signal_keys"], dict(id=run_id)).fetchall()
              if _after(r["await_key"], seq)]
    conn.execute(Q["unconsume_signals"], dict(id=run_id, keys=undone))
    details = {"kind": "retry", "status": "retried", "from_version": run["version"], "to_version": target,
               "reissued": redo.reissued, "undone": redo.undone + undone}
    conn.execute(Q["resume_failed_run"], dict(
        id=run_id, version=target, snapshot=None if snapshot is None else Json(snapshot), inbox=Jsonb(inbox),
        waiting=waiting, signal_waits=Jsonb(base["signal_waits"]), seq=run["activations"] + 1, keep=keep,
        step=Jsonb(details)))
    return {"run_id": run_id, "version": target, "reissued": redo.reissued, "undone": details["undone"]}


_RESUME_SHAPE = re.compile(r'^RESUME_SHAPE = "([0-9a-f]+)"$', re.M)


def _retry_version(conn, run: dict, snapshot: dict | None, version: str | None) -> str:
    """The version a retry resumes `snapshot` on; RetryRefused when its resume shape differs from the run's own."""
    name, own = run["workflow_name"], run["version"]
    if version in (None, own):
        return own
    if version == "latest":
        version = conn.execute(Q["newest_version"], dict(name=name)).fetchone()["version"]
        if version == own:
            return own
    new = conn.execute(Q["load_version"], dict(name=name, version=version)).fetchone()
    if new is None:
        raise RetryRefused(f"workflow {name!r} has no version {version!r}")
    if snapshot is None or (snapshot["state"] == 0 and not snapshot.get("seq")):
        return version  # it failed before its first await: any version can start it afresh
    old = conn.execute(Q["load_version"], dict(name=name, version=own)).fetchone()
    shapes = [_RESUME_SHAPE.search(r["module_code"]) if r else None for r in (old, new)]
    if None in shapes:
        raise RetryRefused(f"version {own if shapes[0] is None else version} of {name!r} was compiled by a Rhythm "
                           f"without resume shapes, so it cannot be checked; retry run {run['id']} on its own version")
    if shapes[0].group(1) != shapes[1].group(1):
        raise RetryRefused(
            f"version {version} of {name!r} cannot resume run {run['id']} (on version {own}): their awaits, loops, "
            f"try blocks or variables differ, so the saved state means something else there; retry it on its own "
            f"version, or start a new run")
    return version


def _after(key: str, seq: dict) -> bool:
    """Whether an await key was made after the snapshot whose per-site counters are `seq`."""
    site, _, n = key.partition(".")
    return int(n) > seq.get(site, 0)


@dataclass
class _Redo:
    """What a retry does to the things a run awaited (see `_retry`)."""

    conn: Any
    seq: dict
    live: set  # keys the snapshot can still reach
    waiting: set  # keys the snapshot awaits: only these are re-run
    inbox: dict
    reissued: list = field(default_factory=list)
    undone: list = field(default_factory=list)

    def deliver(self, key: str, kind: str, value) -> None:
        seq = self.conn.execute(Q["next_settle_seq"]).fetchone()["seq"]
        self.inbox[key] = [seq, kind, json_text(value)]

    def again(self, key: str, failed: bool) -> bool:
        """Whether an awaited thing must run again: the snapshot awaits it and it failed (its failure is
        dropped from the inbox)."""
        if key not in self.waiting or not failed:
            return False
        self.inbox.pop(key, None)
        return True

    def late(self, key: str) -> bool:
        """Whether a reachable result arrived after the failure (a failed run's inbox takes nothing)."""
        return key in self.live and key not in self.inbox

    def tasks(self, rows: list[dict]) -> None:
        gone, again = [], []
        for t in rows:
            key, failed = t["await_key"], t["status"] in ("failed", "cancelled")
            if _after(key, self.seq):
                gone.append(t["id"])
                self.undone.append(key)
            elif self.again(key, failed):
                again.append(t["id"])
                self.reissued.append({"await_key": key, "kind": "task", "name": t["name"], "task_id": t["id"]})
            elif self.late(key) and t["status"] == "completed":
                self.deliver(key, "ok", t["result"])
            elif self.late(key) and failed:
                error = t["error"] or error_payload("TaskError", "the task was cancelled")
                self.deliver(key, "err", {k: error[k] for k in ("type", "message") if k in error})
        self.conn.execute(Q["delete_tasks"], dict(ids=gone))
        self.conn.execute(Q["reissue_tasks"], dict(ids=again))

    def children(self, rows: list[dict]) -> None:
        gone = []
        for c in rows:
            key = c["await_key"]
            if _after(key, self.seq):
                gone.append(c["id"])
                self.undone.append(key)
            elif self.again(key, c["status"] == "failed"):
                _retry(self.conn, c["id"], None, history_limit())
                self.reissued.append({"await_key": key, "kind": "child", "run_id": c["id"]})
            elif key in self.waiting and self.inbox.get(key, [None, None])[1] == "err" and c["status"] != "cancelled":
                del self.inbox[key]  # the child was retried on its own since: its new outcome counts
                if c["status"] == "completed":
                    self.deliver(key, "ok", c["output"])
            elif self.late(key) and c["status"] == "completed":
                self.deliver(key, "ok", c["output"])
            elif self.late(key) and c["status"] in ("failed", "cancelled"):
                self.deliver(key, "err", error_payload("WorkflowError", (c["error"] or {}).get("message", "")))
        self.conn.execute(Q["delete_runs"], dict(ids=gone))

    def timers(self, run_id: str, rows: list[dict]) -> None:
        gone = [r["await_key"] for r in rows if _after(r["await_key"], self.seq)]
        self.conn.execute(Q["delete_timers"], dict(id=run_id, keys=gone))
        self.undone += gone
        for r in rows:
            key = r["await_key"]
            if key in self.live and key not in self.inbox and r["fired_at"] is not None:
                self.deliver(key, "undefined", None)


@dataclass
class _Parent:
    """The activation a child runs inside: where the child's outcome goes if it ends at once."""

    settled: dict
    out: Scheduled


@dataclass
class InlineClaim:
    """Slots a task thread offers for the tasks its run schedules next: they are
    inserted already leased to it, so it runs them without a claim or a NOTIFY."""

    worker: str
    lease: float
    queues: list
    slots: int = 1
    taken: list = field(default_factory=list)

    def wants(self, queue: str) -> bool:
        return len(self.taken) < self.slots and queue in self.queues


class Engine:
    """Advances runs inside a store transaction with the machine, for one app."""

    def __init__(self, modules: Callable[[Any, str, str], Any], task_specs: dict, budget: int):
        self.modules = modules  # (conn, name, version) -> module; raises VersionUnavailable
        self.task_specs = task_specs
        self.budget = budget
        self.max_snapshot = MAX_SNAPSHOT_BYTES
        self.history_limit = history_limit()
        self.inline = threading.local()  # .claim: an InlineClaim while a task thread advances its run

    def advance(self, conn, row: dict, depth: int = 0, parent: _Parent | None = None) -> bool:
        """Run one activation of the locked run `row`; True if other workers should be notified."""
        run_id = row["id"]
        step = start_step(row)
        kept = (row["inbox"], row["waiting"], row["signal_waits"])  # what a retry resumes with
        try:
            module = self.modules(conn, row["workflow_name"], row["version"])
        except VersionUnavailable as e:
            error = error_payload("VersionError", str(e))
            return self.finish(conn, row, "failed", None, error, row["snapshot"], parent, step, kept)
        snapshot = row["snapshot"] or new_snapshot(row["inputs"])
        inbox = dict(row["inbox"])
        waits = list(row["signal_waits"])
        notify = False
        while True:
            settled = {k: decode_settlement(v) for k, v in inbox.items()}
            out = Scheduled(old_waits=list(waits), log=step.scheduled)
            def scheduler(kind, key, spec, settled=settled, out=out):
                self.schedule(conn, run_id, settled, out, kind, key, spec, depth)

            outcome = activate(module, snapshot, settled, run_id, scheduler, self.budget, self.max_snapshot)
            step.trail += outcome.trail
            step.catches += outcome.routes
            notify = self.write_outbox(conn, run_id, out) or notify
            if outcome.status != "suspended":
                return self.finish(conn, row, outcome.status, outcome.output, outcome.error, snapshot, parent,
                                   step, kept, _failure(row, outcome), outcome.state) or notify
            inbox.update(out.settled_now)
            waits += out.new_waits
            live = outcome.live  # results and signal waits of unreachable promises are garbage
            inbox = {k: v for k, v in inbox.items() if k in live}
            waits = [w for w in waits if w[0] in live]
            snapshot, snapshot_json = outcome.snapshot, outcome.snapshot_json
            # Signals that came while the run was about to be activated go to the waits still alive.
            matched = self.match_signals(conn, run_id, waits, inbox) if waits else []
            if not set(matched) & set(outcome.waiting):
                break
            kept = (dict(inbox), list(outcome.waiting), list(waits))
        conn.execute(Q["save_suspended"], dict(
            id=run_id, snapshot=json_param(snapshot, snapshot_json), inbox=Jsonb(inbox), waiting=outcome.waiting,
            signal_waits=Jsonb(waits), rewind=_rewind(row, outcome.roots, step.catches),
            **self.step_params(row, step, "suspended", outcome.state)))
        return notify

    def step_params(self, row: dict, step: Step | None, status: str, end: int | None, **extra) -> dict:
        """The history parameters of save_suspended and save_finished."""
        if step is None:
            step = start_step(row)
        return dict(seq=row["activations"] + 1, keep=self.history_limit, step=step.details(status, end, **extra))

    def finish(self, conn, row: dict, status: str, output, error, snapshot, parent: _Parent | None = None,
               step: Step | None = None, kept: tuple | None = None, failure: dict | None = None,
               end: int | None = None) -> bool:
        """Store a run's outcome and deliver it to its parent; True if other workers should be notified.

        A failed run keeps `kept` (inbox, waiting keys, signal waits of `snapshot`) and the timers that
        snapshot can reach, for a retry."""
        inbox, waiting, waits = kept if status == "failed" and kept is not None else ({}, [], [])
        conn.execute(Q["save_finished"], dict(
            id=row["id"], status=status, output=Json(output), error=Jsonb(error),
            snapshot=None if snapshot is None else Json(snapshot), failure=None if failure is None else Json(failure),
            inbox=Jsonb(inbox), waiting=list(waiting), signal_waits=Jsonb(waits),
            **self.step_params(row, step, status, end, line=(error or {}).get("line"))))
        live = reachable_keys(_js.decode_snapshot(snapshot["data"])) if status == "failed" and snapshot else ()
        conn.execute(Q["drop_pending_timers"], dict(id=row["id"], keep=list(live)))
        if row["parent_run_id"] is None:
            return False
        if status == "completed":
            kind, value = "ok", output
        else:
            kind, value = "err", error_payload("WorkflowError", (error or {}).get("message", ""))
        if parent is not None:  # the parent is mid-activation, in this transaction
            self.settle_now(conn, parent.settled, parent.out, row["parent_await_key"], kind, value)
            return False
        return _settle(conn, row["parent_run_id"], row["parent_await_key"], kind, value)

    def schedule(self, conn, run_id, settled, out: Scheduled, kind, key, spec, depth: int = 0) -> None:
        """The machine's scheduler: signals and children are handled now, the rest goes to the outbox."""
        what = spec["name"] if kind != "timer" else min(spec["seconds"], TIMER_FOREVER)  # history JSON: finite
        out.log.append([key, kind, what])
        if kind == "signal":
            name = spec["name"]
            if any(w[1] == name for w in out.old_waits + out.new_waits):
                # An older Signal.next of this name may still want the next signal: waits are served
                # oldest first, after the activation, once it is known which of them are still alive.
                out.new_waits.append([key, name])
                return
            taken = conn.execute(Q["take_signal"], dict(key=key, run_id=run_id, name=name)).fetchone()
            if taken is None:
                out.new_waits.append([key, name])
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
            self.start_child(conn, run_id, settled, out, key, spec, depth)

    def start_child(self, conn, run_id, settled, out: Scheduled, key, spec, depth: int) -> None:
        """Workflow.run: insert the child and run its first activation right here, as JavaScript would."""
        if run_id.count("/") >= MAX_CHILD_DEPTH:  # see MAX_CHILD_DEPTH: this run is that deep already
            self.settle_now(conn, settled, out, key, "err", error_payload(
                "WorkflowError", f"Workflow.run({spec['name']!r}) would start a child {MAX_CHILD_DEPTH + 1} levels "
                                 f"deep; the limit is {MAX_CHILD_DEPTH} (does a workflow start itself without end?)"))
            return
        try:
            child_id, created = _start_run(conn, spec["name"], spec["inputs"], f"{run_id}/{key}", run_id, key,
                                           spec.get("inputs_json"))
        except (UnknownWorkflow, RunIdConflict) as e:
            self.settle_now(conn, settled, out, key, "err", error_payload("WorkflowError", str(e)))
            return
        if not created:
            return  # it exists already; its outcome reaches the inbox
        if depth >= MAX_INLINE_CHILD_DEPTH:
            out.children += 1
            return
        child = conn.execute(Q["lock_run_for_activation"], dict(id=child_id)).fetchone()
        try:
            with conn.transaction():  # a savepoint: a child that breaks Rhythm is left to a worker
                if self.advance(conn, child, depth + 1, _Parent(settled, out)):
                    out.children += 1
        except psycopg.OperationalError:
            raise
        except Exception:
            log.exception("the first activation of child run %s failed; leaving it to a worker", child_id)
            out.children += 1

    def settle_now(self, conn, settled, out: Scheduled, key, kind, value) -> None:
        seq = conn.execute(Q["next_settle_seq"]).fetchone()["seq"]
        out.settled_now[key] = [seq, kind, json_text(value)]
        settled[key] = decode_settlement(out.settled_now[key])

    def match_signals(self, conn, run_id: str, waits: list, inbox: dict) -> list[str]:
        """Give queued signals to the waits (oldest first, FIFO per name); returns the keys that got one."""
        queued = {r["name"] for r in conn.execute(Q["unread_signal_names"], dict(run_id=run_id)).fetchall()}
        matched: list[str] = []
        for key, name in list(waits):
            if name not in queued:
                continue
            taken = conn.execute(Q["take_signal"], dict(key=key, run_id=run_id, name=name)).fetchone()
            if taken is None:
                queued.discard(name)
                continue
            seq = conn.execute(Q["next_settle_seq"]).fetchone()["seq"]
            inbox[key] = [seq, "ok", json_text(taken["payload"])]
            waits.remove([key, name])
            matched.append(key)
        return matched

    def write_outbox(self, conn, run_id: str, out: Scheduled) -> bool:
        claim = getattr(self.inline, "claim", None)
        pending = False
        for key, spec, ts in out.tasks:
            params = dict(run_id=run_id, await_key=key, name=spec["name"], queue=ts.queue,
                          payload=json_param(spec["payload"], spec.get("payload_json")),
                          max_attempts=ts.retries + 1, backoff=ts.backoff, timeout=ts.timeout)
            if claim is not None and claim.wants(ts.queue):
                row = conn.execute(Q["insert_task_claimed"], dict(
                    params, worker=claim.worker, lease_seconds=claim.lease)).fetchone()
                if row is not None:
                    claim.taken.append(row)
                continue
            conn.execute(Q["insert_task"], params)
            pending = True
        for key, seconds in out.timers:
            conn.execute(Q["insert_timer"], dict(run_id=run_id, await_key=key, seconds=seconds,
                                                 forever=TIMER_FOREVER))
        return pending or bool(out.children)
