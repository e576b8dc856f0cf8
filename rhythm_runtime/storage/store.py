"""What clients call: start, read, signal, cancel and retry runs; register versions; queue tasks.

`Store` is what `RhythmClient`, the CLI, inspect and the dashboard hold, with
the errors they see. A worker holds a `Store` too, for its own transactions
(`WorkerCalls` in worker_calls.py, which `Store` inherits: one pool for both).
Public methods open one transaction each and call small `_name(conn, …)`
helpers; the SQL lives in `sql/queries.sql`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Json, Jsonb

from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution.cancellation import CANCELLED_MESSAGE, cancelled_payload
from rhythm_runtime.execution.machine import reachable_keys, waiting_keys
from rhythm_runtime.storage.adoption import Adoption
from rhythm_runtime.storage.worker_calls import WorkerCalls
from rhythm_runtime.storage.queries import (Q, RunIdConflict, UnknownWorkflow, call_options, check_existing_run,
                                            error_payload, history_limit, insert_run, insert_task_as_registered,
                                            json_param, json_text, new_run_id, newest_version, notify, runs_notice,
                                            settle, tasks_notice)

# The errors clients see, with UnknownWorkflow and RunIdConflict from queries.py (beside insert_run, which raises them).
__all__ = ["RetryRefused", "RunFinished", "RunIdConflict", "RunNotFound", "Store", "UnknownWorkflow"]


class RunNotFound(RhythmError):
    pass


class RunFinished(RhythmError):
    """A signal sent to a run that has already ended."""


class RetryRefused(RhythmError):
    """`rhythm retry` of a run that has not failed, or onto a version that cannot resume its snapshot."""


_ENDED = {"completed": "has already completed", "failed": "has already failed", "cancelled": "was already cancelled"}


class Store(WorkerCalls):
    """The calls clients make, each in one transaction; a worker's own calls are inherited from WorkerCalls."""

    def __init__(self, conninfo: str, max_size: int = 10):
        super().__init__(conninfo, max_size)
        self.adoption = Adoption()

    # -- versions ---------------------------------------------------------------------
    def register_version(self, name: str, version: str, source: str, code: str, code_hash: str,
                         queue: str | None = None) -> None:
        """Record a version; `queue`: the queue its front matter puts its runs on."""
        with self.tx() as conn:
            conn.execute(Q["register_version"], dict(name=name, version=version, source=source,
                                                     module_code=code, module_hash=code_hash, queue=queue))

    def load_version(self, name: str, version: str) -> dict | None:
        with self.tx() as conn:
            return conn.execute(Q["load_version"], dict(name=name, version=version)).fetchone()

    # -- starting, reading, signalling, cancelling runs -----------------------------------
    def start_run(self, name: str, inputs: Any, run_id: str | None = None, *, key: str | None = None,
                  on_conflict: str | None = None, start_at=None, delay: float = 0.0, queue: str | None = None,
                  priority: int = 0) -> tuple[str, bool]:
        """(id, created). Starting twice with one id returns the existing run. The run is runnable at
        `start_at` or after `delay` seconds. With a `key`, one run of the workflow per key is active at a
        time: a start while one is active is skipped (its id is returned), replaces it (the old one is
        cancelled, its cleanup runs) or waits its turn ("queue": workers start it when the key is free).
        On a queue (`queue`, or the workflow's front matter's) the key is the queue's: no check is made
        unless `on_conflict` is given ("skip" or "replace"; a queue's key_concurrency makes runs wait)."""
        if run_id is not None and (not isinstance(run_id, str) or not run_id or "/" in run_id):
            raise RunIdConflict(f"invalid run id {run_id!r}: use a non-empty string without '/' "
                                f"('/' is reserved for the ids of child runs)")
        if on_conflict is not None and on_conflict not in ON_CONFLICT:
            raise ValueError(f"on_conflict must be one of {', '.join(ON_CONFLICT)}, not {on_conflict!r}")
        if key is None and on_conflict is None:
            return self._start_unkeyed(name, inputs, new_run_id(run_id), start_at, delay, queue, priority)
        with self.tx() as conn:
            newest = newest_version(conn, name)
            on_queue = queue or newest["queue"]
            if on_queue is not None and on_conflict == "queue":
                raise ValueError(f"on_conflict=\"queue\" cannot be used for a run on queue {on_queue!r}: its runs "
                                 f"already wait their turn there (declare the queue with key_concurrency=1 to run "
                                 f"one per key at a time)")
            held = False
            if key is not None and (on_conflict is not None or on_queue is None):
                active = _active_keyed_runs(conn, name, key)
                if active and on_conflict in (None, "skip"):
                    return active[0]["id"], False
                if on_conflict == "replace":
                    for row in active:
                        conn.execute(Q["lock_run_tree"], dict(id=row["id"])).fetchall()
                        _request_cancel(conn, row["id"])
                held = bool(active) and on_conflict == "queue"
            run_id, created = insert_run(conn, name, inputs, run_id, None, None, key=key, start_at=start_at,
                                         delay=delay, held=held, queue=queue, priority=priority, newest=newest)
            if created and not held:
                notify(conn, [runs_notice()])
            return run_id, created

    def _start_unkeyed(self, name: str, inputs: Any, run_id: str, start_at, delay: float, queue: str | None,
                       priority: int) -> tuple[str, bool]:
        """start_run without a key: one statement (start_run: the newest version, the insert and the notices),
        where a keyed start reads the version and the key's runs first."""
        with self.tx() as conn:
            row = conn.execute(Q["start_run"], dict(
                id=run_id, name=name, inputs=json_param(inputs), start_at=start_at, delay=delay, queue=queue,
                priority=priority, notice=runs_notice())).fetchone()
            if row["version"] is None:
                newest_version(conn, name)  # raises UnknownWorkflow, naming the known ones
            if not row["created"]:
                check_existing_run(conn, run_id, name)
            return run_id, row["created"]

    def release_queued_runs(self) -> list[str]:
        """Start the next waiting run of each key whose active run has ended, and, during the upgrade to
        migration 0016, make claimable the runs an older Rhythm made runnable (one worker at a time)."""
        with self.tx() as conn:
            if not conn.execute(Q["try_lock_releases"], dict(lock_class=RUN_KEY_LOCK_CLASS)).fetchone()["got"]:
                return []
            released = [r["id"] for r in conn.execute(Q["release_queued_runs"]).fetchall()]
            released += self.adoption(conn)
            if released:
                notify(conn, [runs_notice()])
            return released

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
                raise RunFinished(f"run {run_id} {_ENDED.get(run['status'], 'is ' + run['status'])}; signal {name!r} was not delivered")
            conn.execute(Q["insert_signal"], dict(run_id=run_id, name=name, payload=Json(payload)))
            if run["available_at"] is not None:
                return  # the next activation matches it
            waits = run["signal_waits"]
            for i, (key, wanted) in enumerate(waits):
                if wanted == name:
                    taken = conn.execute(Q["take_signal"], dict(key=key, run_id=run_id, name=name)).fetchone()
                    conn.execute(Q["set_signal_waits"], dict(id=run_id, signal_waits=Jsonb(waits[:i] + waits[i + 1:])))
                    if settle(conn, run_id, key, "ok", taken["payload"]):
                        notify(conn, [runs_notice()])
                    break

    def cancel_run(self, run_id: str, force: bool = False) -> bool:
        """Cancel a run; False if it had ended (or, without `force`, is being cancelled already).

        Without `force` the run cleans up first (see `_request_cancel`); with
        it, the run, its unfinished children and their tasks that have not
        started end at once and no more of their code runs (a terminate)."""
        with self.tx() as conn:
            if conn.execute(Q["get_run"], dict(id=run_id)).fetchone() is None:
                raise RunNotFound(f"no run with id {run_id!r}")
            conn.execute(Q["lock_run_tree"], dict(id=run_id)).fetchall()  # deepest first: engine.py's lock order
            return _cancel(conn, run_id) if force else _request_cancel(conn, run_id)

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

    def queue_task(self, name: str, payload: Any, spec=None, options: dict | None = None) -> int:
        """Queue a standalone task; without a local `spec`, with the settings a worker registered for `name`.
        `options`: key, priority, delay and timeout, as Task.run's."""
        with self.tx() as conn:
            if spec is None:
                row = insert_task_as_registered(conn, name, Json(payload), options=options)
            else:
                row = conn.execute(Q["insert_standalone_task"], dict(
                    name=name, queue=spec.queue, payload=Json(payload), max_attempts=spec.retries + 1,
                    backoff=spec.backoff, timeout=(options or {}).get("timeout", spec.timeout),
                    **call_options(options))).fetchone()
            notify(conn, [tasks_notice(row["queue"])])
            return row["id"]

    def task_cancelled(self, task_id: int) -> bool:
        """Whether nobody waits for a running task any more (`current_task().cancelled`)."""
        with self.tx() as conn:
            row = conn.execute(Q["task_cancel_requested"], dict(id=task_id)).fetchone()
            return bool(row and row["cancelled"])

    def get_task(self, task_id: int) -> dict | None:
        with self.tx() as conn:
            return conn.execute(Q["get_task"], dict(id=task_id)).fetchone()

    def list_workers(self) -> list[dict]:
        """Every worker still remembered (an hour after it was last heard from), live ones first."""
        with self.tx() as conn:
            return conn.execute(Q["list_workers"]).fetchall()

    def workflow_names(self) -> list[str]:
        with self.tx() as conn:
            return [r["name"] for r in conn.execute(Q["workflow_names"]).fetchall()]


# -- helpers inside a transaction ------------------------------------------------------------


TERMINATED = "the run was terminated (cancelled with force: no cleanup ran)"
# start_workflow(key=, on_conflict=): what a start does while a run with its key is active.
ON_CONFLICT = ("skip", "replace", "queue")
# The first key of the advisory locks that serialize the starts of one workflow and key.
RUN_KEY_LOCK_CLASS = 0x52484b59


def _active_keyed_runs(conn, name: str, key: str) -> list[dict]:
    """The runs of `name` with `key` that have not ended, oldest first; the key stays locked until commit."""
    conn.execute(Q["lock_run_key"], dict(lock_class=RUN_KEY_LOCK_CLASS, name=name, key=key))
    return conn.execute(Q["active_keyed_runs"], dict(name=name, key=key)).fetchall()


def _cancel(conn, run_id: str, message: str = TERMINATED) -> bool:
    """End a run and its unfinished descendants now, running none of their code (a terminate)."""
    row = conn.execute(Q["cancel_run"], dict(id=run_id, message=message)).fetchone()
    if row is None:
        return False
    if row["admitted"]:  # its queue's slot is free: workers admit the next run
        conn.execute(Q["notify_admission"])
    conn.execute(Q["cancel_run_tasks"], dict(id=run_id))
    conn.execute(Q["flag_running_tasks"], dict(id=run_id, keys=None))
    conn.execute(Q["drop_pending_timers"], dict(id=run_id, keep=[]))
    for child in conn.execute(Q["child_runs"], dict(id=run_id)).fetchall():
        _cancel(conn, child["id"], message)
    if row["parent_run_id"] is not None:
        settle(conn, row["parent_run_id"], row["parent_await_key"], "err",
               error_payload("WorkflowError", f"child run {run_id} was cancelled"))
    return True


def _request_cancel(conn, run_id: str) -> bool:
    """Ask a run to cancel itself; the caller holds the locks of its tree.

    Its next activation throws a CancelledError at the await it is stopped at.
    What that await waits for is cancelled with it: tasks that have not
    started, timers and signal waits end with the same error (a `finally`
    that awaits them again gets it too), and the children it awaits are asked
    to cancel in turn (they run their own cleanup). A task already running
    finishes (`current_task().cancelled` tells it) and is not retried; its
    result goes to an await nobody waits at any more. A run
    that has run no code yet has nothing to clean up: it just ends.
    """
    row = conn.execute(Q["request_cancel"], dict(id=run_id)).fetchone()
    if row is None:
        run = conn.execute(Q["get_run"], dict(id=run_id)).fetchone()
        return run["status"] == "pending" and run["activations"] == 0 and _cancel(conn, run_id, CANCELLED_MESSAGE)
    keys = list(row["waiting"])
    ended = [r["await_key"] for r in conn.execute(Q["cancel_awaited_tasks"], dict(id=run_id, keys=keys))]
    conn.execute(Q["flag_running_tasks"], dict(id=run_id, keys=keys))
    ended += [r["await_key"] for r in conn.execute(Q["drop_awaited_timers"], dict(id=run_id, keys=keys))]
    waits = row["signal_waits"]
    kept = [w for w in waits if w[0] not in keys]
    if len(kept) < len(waits):
        conn.execute(Q["set_signal_waits"], dict(id=run_id, signal_waits=Jsonb(kept)))
        ended += [w[0] for w in waits if w[0] in keys]
    for key in ended:
        settle(conn, run_id, key, "err", cancelled_payload())
    for child in conn.execute(Q["awaited_children"], dict(id=run_id, keys=keys)).fetchall():
        _request_cancel(conn, child["id"])
    conn.execute(Q["notify_work"])
    return True


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
    waiting = waiting_keys(data)
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

