"""Advancing runs: what a worker calls during an activation.

`Engine` runs the machine on a locked run and writes what the activation
scheduled (tasks, timers, children, signal waits) and its snapshot; it also
runs a step ahead of its row from the state a worker kept (`step_ahead`).
The worker's transactions around it are `WorkerCalls` (worker_calls.py).

Advancing a run happens inside one transaction that holds the run's row lock:
load the snapshot, run the generated code, write the new snapshot and
everything it scheduled. A crash anywhere in between rolls all of it back,
and the next worker re-runs the activation from the old snapshot; scheduling
is idempotent per await key.

Lock order, so that no two transactions wait on each other: a task row before
its run; a child run before its parent (a child's outcome is delivered while
the child is locked); cancellation (store.py) locks a whole tree deepest first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import psycopg
from psycopg.types.json import Json, Jsonb

from rhythm_runtime.errors import RhythmError
from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution import warm as _warm
from rhythm_runtime.execution.activation import activate
from rhythm_runtime.execution.cancellation import cancelled_error, cancelled_payload, status_after_cancel
from rhythm_runtime.execution.machine import (
    MAX_SNAPSHOT_BYTES, MAX_TRAIL, Settlement, completion_records, new_snapshot, reachable_keys,
)
from rhythm_runtime.storage.queries import (Q, RunIdConflict, UnknownWorkflow, child_run_id, call_options,
                                            error_payload, history_limit, insert_run, insert_task_as_registered,
                                            json_param, json_text, newest_version, runs_notice, settle, tasks_notice)

log = logging.getLogger("rhythm")

# Workflow.run refuses to start a child this many levels below its root run (a workflow that starts
# itself without end fails instead of filling the database). A child's id is its parent's id, '/'
# and the await key, and user ids may not contain '/', so a run's depth is the number of '/' in its id.
MAX_CHILD_DEPTH = 50
# A child started by Workflow.run runs its first activation inside its
# parent's (as JavaScript starts an async function synchronously); deeper
# than this, children wait for a worker instead of growing the Python stack.
MAX_INLINE_CHILD_DEPTH = 8
# save_suspended's task columns when it inserts no task; FLOAT_COLUMNS are float8.
NO_TASK = dict.fromkeys(("await_key", "name", "queue", "payload", "max_attempts", "backoff", "timeout", "worker",
                         "lease_seconds"))
FLOAT_COLUMNS = ("backoff", "timeout", "lease_seconds")
# The text[] columns of the saves, passed to their batch statements as one jsonb array per run.
LIST_COLUMNS = ("waiting", "keep_timers")
# A step run ahead of its row (Engine.step_ahead) is speculative: it holds no lock, and another worker may
# advance the run meanwhile. It gets this many steps of the budget; a longer activation is run again inside
# its transaction, under the run's row lock, as before (so the work a conflict wastes stays small).
AHEAD_BUDGET = 10_000
# Timer.delay of more seconds than this (a thousand years; Infinity too) never fires, as in JavaScript's model.
TIMER_FOREVER = 1000 * 365.25 * 86400


class VersionUnavailable(RhythmError):
    """A run's workflow version cannot be loaded (missing, altered or broken module code)."""


@dataclass
class Scheduled:
    """What one activation asked for, written in its transaction (the outbox)."""

    tasks: list = field(default_factory=list)
    timers: list = field(default_factory=list)
    children: int = 0  # children started but not activated inline: a worker must pick them up
    notices: set = field(default_factory=set)  # what the children activated inline announce (queries.notify)
    new_waits: list = field(default_factory=list)
    old_waits: list = field(default_factory=list)  # Signal.next waits from earlier activations, oldest first
    settled_now: dict = field(default_factory=dict)  # results known during the activation, for the inbox
    log: list = field(default_factory=list)  # [key, kind, name or seconds] of everything scheduled, for the history


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


def internal_error(exc: BaseException) -> dict:
    """The error a run fails with when Rhythm itself broke while advancing it."""
    if isinstance(exc, psycopg.DataError):  # e.g. a \u0000 in an error message (jsonb cannot hold it)
        return error_payload("DataError", f"Postgres cannot store the run's data: {str(exc).strip()}")
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" ({where[0].filename}:{where[0].lineno})" if where else ""
    return error_payload("InternalError", f"Rhythm failed while advancing the run: {type(exc).__name__}: {exc}{at}; "
                                          f"this is a bug in Rhythm, please report it")


def _rewind(row: dict, roots: dict, catches: list) -> Json | None:
    """Where a retry must resume while a `finally` holds a thrown error (see runs.rewind in schema.sql).

    The snapshot inside that `finally` would only rethrow it, so the point
    before the activation that threw it is kept (the oldest, if errors pile
    up) until no `finally` holds one any more, with the catch/finally routes
    taken since (a failure shows them).
    """
    if not _holds_throw(roots):
        return None
    old = row["rewind"] or {"snapshot": row["snapshot"], "inbox": row["inbox"],
                            "waiting": list(row["waiting"] or []), "signal_waits": row["signal_waits"]}
    return Json({**old, "catches": (old.get("catches", []) + catches)[:MAX_TRAIL]})


def _holds_throw(roots: dict) -> bool:
    """Whether a `finally` holds a thrown error across the await the run is suspended at."""
    return any(isinstance(r, list) and r and r[0] == "throw" for r in completion_records(roots))


def _failure(row: dict, outcome) -> dict | None:
    """Where a run failed (runs.failure), with the routes its error took in earlier activations too."""
    failure = outcome.failure()
    if failure is not None and row["rewind"]:
        failure["catches"] = (row["rewind"].get("catches", []) + failure["catches"])[:MAX_TRAIL]
    return failure


@dataclass
class _Parent:
    """The activation a child runs inside: where the child's outcome goes if it ends at once."""

    settled: dict
    out: Scheduled


@dataclass
class Batch:
    """Runs advanced in one transaction (advance_runnable): their saves, held back to write them in one
    statement per kind, and the runs of the batch a child's outcome changed after the batch read them."""

    finished: list = field(default_factory=list)  # save_finished's rows
    suspended: list = field(default_factory=list)  # save_suspended's rows
    settled: set = field(default_factory=set)  # ids of runs an outcome was settled into


@dataclass
class InlineClaim:
    """Slots a task thread (or the loop) offers for the tasks its runs schedule next: they are
    inserted already leased to it, so it runs them without a claim or a NOTIFY."""

    worker: str
    lease: float
    names: frozenset  # the tasks this worker runs (its @tasks of the queues it serves), but on limited queues
    slots: int = 1
    # The inserts' cursors: in pipeline mode their rows are read after the commit, not one round trip each.
    pending: list = field(default_factory=list)
    used: int = 0  # slots promised to tasks (inserted, or to be inserted by their run's save)
    # (queues, task names): when a warm step leases no task to this thread, its statement claims a pending one
    # of these for the slot the run leaves (migrations/0014); `refilled` then says whether it found one
    refill: tuple | None = None
    refilled: bool | None = None

    def wants(self, name: str) -> bool:
        """Whether a task of this name takes a free slot (it then has it)."""
        if self.used >= self.slots or name not in self.names:
            return False
        self.used += 1
        return True

    def rolled_back(self) -> None:
        """The transaction that inserted the tasks rolled back: none was taken."""
        self.pending.clear()
        self.used = 0
        self.refilled = None

    def taken(self) -> list[dict]:
        """The tasks inserted leased to this thread (an await key scheduled before inserts none)."""
        return [row for cursor in self.pending for row in cursor.fetchall()]


@dataclass
class SavedRun:
    """What a run's save wrote beside its snapshot, kept with its decoded state (execution/warm.py), so the
    step its next task wakes can run before the row is read (Engine.step_ahead)."""

    inbox: dict
    waiting: list
    parent: str | None  # the parent run a finished run must tell


@dataclass
class RunAhead:
    """An activation run before its row was read (Engine.step_ahead), for the row its kept state was saved as."""

    run_id: str
    key: str  # the await key of the task whose result woke it
    stamp: tuple  # _stamp of the row assumed
    saved: SavedRun  # what that row holds besides the snapshot (its inbox without this result)
    step: Step
    out: Scheduled
    outcome: Any
    warm: bool = True  # resumed from kept values (False: decoded from a state read from the row, StoredState)
    params: dict | None = None  # finish_task_step's, when that statement can save it
    saving: SavedRun | None = None  # what that save writes besides the snapshot (None: a finished run)

    def fits(self, row: dict) -> bool:
        """Whether `row`, locked by the settle of this result, is the row the activation was run for."""
        inbox = dict(row["inbox"])
        return (inbox.pop(self.key, None) is not None and inbox == self.saved.inbox and _stamp(row) == self.stamp
                and row["status"] == "suspended" and row["cancel_requested_at"] is None and not row["signal_waits"])


@dataclass
class StoredState:
    """A run's state read from its row (Engine.stored_state), in the shape of a kept one (execution/warm.py)
    without its decoded values: the activation decodes the snapshot."""

    stamp: tuple
    snapshot: dict
    saved: SavedRun
    data: None = None


def _stamp(row: dict, steps: int = 0) -> tuple:
    """What a kept state must match besides its snapshot (execution/warm.py): the run's version, and its
    activation count `steps` activations after `row`."""
    return row["activations"] + steps, row["workflow_name"], row["version"]


class Engine:
    """Advances runs inside a store transaction with the machine, for one app."""

    def __init__(self, modules: Callable[[Any, str, str], Any], task_specs: dict, budget: int):
        self.modules = modules  # (conn, name, version) -> module; raises VersionUnavailable
        self.task_specs = task_specs
        self.budget = budget
        self.max_snapshot = MAX_SNAPSHOT_BYTES
        self.history_limit = history_limit()
        # .claim: an InlineClaim while a task thread advances its run; .batch: the Batch the loop (or a lent
        # task thread) is advancing
        self.inline = threading.local()
        self.warm: _warm.WarmStates | None = _warm.STATES  # runs' decoded states between their steps
        # (monotonic) when the earliest timer this process wrote since the loop's last read falls due: no
        # NOTIFY announces a timer, so the loop sleeps no longer than this (see hint_timer)
        self.timer_hint: float | None = None
        self._hint_lock = threading.Lock()

    def advance(self, conn, row: dict, depth: int = 0, parent: _Parent | None = None,
                ahead: RunAhead | None = None) -> set[str]:
        """Run one activation of the locked run `row`; returns the notices other workers should get
        (queries.notify). `ahead`: that activation, run already from this worker's kept state of the run
        (step_ahead) for this very row."""
        run_id = row["id"]
        step = start_step(row) if ahead is None else ahead.step
        kept = (row["inbox"], row["waiting"], row["signal_waits"])  # what a retry resumes with
        try:
            module = self.modules(conn, row["workflow_name"], row["version"])
        except VersionUnavailable as e:
            error = error_payload("VersionError", str(e))
            return _run_notices(self.finish(conn, row, "failed", None, error, row["snapshot"], parent, step, kept))
        snapshot = row["snapshot"] or new_snapshot(row["inputs"])
        inbox = dict(row["inbox"])
        waits = list(row["signal_waits"])
        notices: set[str] = set()
        leased = None  # a task leased to this thread, which the save inserts (one statement less per step)
        # A cancel is thrown once, at the await the run is stopped at; its cleanup then runs like any code.
        cancel = cancelled_error() if row["cancel_requested_at"] and row["cancel_delivered_at"] is None else None
        warm = self.warm.take(run_id, _stamp(row), row["snapshot"]) \
            if self.warm and row["snapshot"] and not cancel and ahead is None \
            else None  # the values of the snapshot as this process's last step of the run left them, if it is that
        while True:
            if ahead is not None:
                out, outcome = ahead.out, ahead.outcome
                self.warm.used(ahead.warm)
                ahead = None
            else:
                settled = {k: decode_settlement(v) for k, v in inbox.items()}
                out = Scheduled(old_waits=list(waits), log=step.scheduled)
                def scheduler(kind, key, spec, settled=settled, out=out):
                    self.schedule(conn, run_id, settled, out, kind, key, spec, depth)

                outcome = activate(module, snapshot, settled, run_id, scheduler, self.budget, self.max_snapshot,
                                   cancel, warm)
            cancel = warm = None
            step.trail += outcome.trail
            step.catches += outcome.routes
            self.insert_leased(conn, leased)  # an earlier round's: this round saves
            pushed, leased = self.write_outbox(conn, run_id, out)
            notices |= pushed
            if outcome.status != "suspended":
                self.insert_leased(conn, leased)
                status, error = outcome.status, outcome.error
                if row["cancel_requested_at"]:
                    status = status_after_cancel(status, error)
                    error = error or cancelled_payload()
                return notices | _run_notices(self.finish(conn, row, status, outcome.output, error, snapshot, parent,
                                                          step, kept, _failure(row, outcome), outcome.state))
            inbox.update(out.settled_now)
            waits += out.new_waits
            live = outcome.live  # results and signal waits of unreachable promises are garbage
            inbox = {k: v for k, v in inbox.items() if k in live}
            waits = [w for w in waits if w[0] in live]
            snapshot, snapshot_json = outcome.snapshot, outcome.snapshot_json
            warm = _warm.reusable(outcome) if self.warm and snapshot_json else None
            # Signals that came while the run was about to be activated go to the waits still alive.
            matched = self.match_signals(conn, run_id, waits, inbox) if waits else []
            if not set(matched) & set(outcome.waiting):
                break
            kept = (dict(inbox), list(outcome.waiting), list(waits))
        history = self.step_params(row, step, "suspended", outcome.state)
        saving = dict(id=run_id, snapshot=json_param(snapshot, snapshot_json), inbox=Jsonb(inbox),
                      waiting=list(outcome.waiting), signal_waits=Jsonb(waits),
                      rewind=_rewind(row, outcome.roots, step.catches), seq=history["seq"], step=history["step"],
                      **_task_columns(leased))
        batch = self.batch() if parent is None else None
        if batch is not None:  # a batch's run: saved with the others when the batch is done (see advance_runnable)
            batch.suspended.append(saving)
        else:
            self.save_suspended(conn, [saving])
        if warm is not None:  # (kept even if this transaction then rolls back: see execution/warm.py)
            entry = self.warm.keep(run_id, _stamp(row, 1), snapshot, snapshot_json, warm)
            saves = getattr(self.inline, "saves", None)
            if entry is not None and saves is not None and parent is None and not waits:
                saves.append((run_id, entry, SavedRun(inbox, list(outcome.waiting), row["parent_run_id"])))
        return notices

    @contextlib.contextmanager
    def keeping_saves(self):
        """Around a transaction that advances runs: once it commits, the states kept of the runs it saved
        (their own, not children's started inline) also keep what was saved, so their next steps may run
        ahead (step_ahead); a state kept by a step that rolled back has none, so it never runs ahead."""
        saves = self.inline.saves = []
        try:
            yield
        finally:
            self.inline.saves = None
        for run_id, entry, saved in saves:  # (reached only when the block, its transaction, committed)
            self.warm.saved(run_id, entry, saved)

    def step_ahead(self, conn, task: dict, text: str, claim: InlineClaim | None) -> RunAhead | None:
        """The activation a task's result wakes, run from this worker's kept state of the run's committed
        previous step before the row is read; from the row, read unlocked (`stored_state`), when this worker
        keeps nothing of the run (another worker ran its previous step). None if there is neither, the task
        is not one the run waits on, the activation started a child or waited for a signal (those read and
        write other rows now), or it ran longer than AHEAD_BUDGET steps; code shapes 1-5 are left out too
        (their combinators record the settlement's number, which the database gives). `params` are
        finish_task_step's when that statement can save the outcome (see `_fused`); otherwise the ordinary
        path may still use the outcome, if the row it locks is the one assumed (`fits`)."""
        run_id, key = task["run_id"], task["await_key"]
        if self.warm is None or not run_id:
            return None
        kept = self.warm.take_saved(run_id, lambda saved: key in saved.waiting)
        if kept is None and not self.warm.keeps(run_id):
            kept = self.stored_state(conn, run_id, key)
        if kept is None:
            return None
        return self.run_ahead(conn, {"id": run_id, "workflow_name": kept.stamp[1]}, key, kept, text, claim)

    @staticmethod
    def stored_state(conn, run_id: str, key: str) -> StoredState | None:
        """A run's state as its row stores it, for a step run ahead by a worker that kept none (the first
        task of a run another worker started, claimed from the pending ones): one read instead of the
        ordinary step's transaction, and the step is then saved by the one statement of a warm step, which
        checks the row is still this one. None unless that statement could save it (run_to_step_ahead)."""
        row = conn.execute(Q["run_to_step_ahead"], dict(id=run_id, key=key)).fetchone()
        if row is None:
            return None
        return StoredState(_stamp(row), row["snapshot"], SavedRun(row["inbox"], row["waiting"], row["parent_run_id"]))

    def run_ahead(self, conn, row: dict, key: str, kept, text: str, claim: InlineClaim | None) -> RunAhead | None:
        """step_ahead's activation of run `row` (its id and workflow: what the worker's observer sees of it, as
        of `advance`'s row) from the `kept` state, woken by `key`'s result `text`."""
        run_id, saved = row["id"], kept.saved
        try:
            module = self.modules(conn, kept.stamp[1], kept.stamp[2])
        except VersionUnavailable:
            return None
        if getattr(module, "SHAPE", 5) < 6:
            return None
        # numbered after every result in the inbox, as the settle will number it: only the order counts (shape 6)
        inbox = {**saved.inbox, key: [max((v[0] for v in saved.inbox.values()), default=0) + 1, "ok", text]}
        step = Step(kept.snapshot["state"], [k for k in saved.waiting if k in inbox])
        settled = {k: decode_settlement(v) for k, v in inbox.items()}
        out = Scheduled(log=step.scheduled)
        others = []  # a child or a signal: they read and write other rows as they are scheduled

        def scheduler(kind, await_key, spec):
            if kind in ("task", "timer"):  # (noted in `out`, written with the save)
                self.schedule(conn, run_id, settled, out, kind, await_key, spec)
            else:
                others.append(kind)

        budget = min(self.budget, AHEAD_BUDGET)
        outcome = activate(module, kept.snapshot, settled, run_id, scheduler, budget, self.max_snapshot, None,
                           kept.data)
        if others or (budget < self.budget and outcome.status == "failed"
                      and outcome.error.get("type") == "StepBudgetExceeded"):
            return None
        ahead = RunAhead(run_id, key, kept.stamp, saved, step, out, outcome, warm=kept.data is not None)
        ahead.params = self._fused(ahead, {k: v for k, v in inbox.items() if k in outcome.live}, claim)
        return ahead

    def _fused(self, ahead: RunAhead, inbox: dict, claim: InlineClaim | None) -> dict | None:
        """finish_task_step's parameters for an activation run ahead, if that statement can save it: suspended
        with at most one task, leased to `claim`, and nothing else scheduled, no `finally` holding an error (a
        retry's rewind point), the result consumed; or completed with nothing scheduled and no parent run."""
        outcome, out, step = ahead.outcome, ahead.out, ahead.step
        if out.timers or len(out.tasks) > 1:
            return None
        if outcome.status == "completed" and not out.tasks and ahead.saved.parent is None:
            fields = dict(status="completed", snapshot=None, inbox=None, waiting=None, output=Json(outcome.output),
                          **_task_columns(None))
        elif (outcome.status == "suspended" and ahead.key not in inbox and outcome.snapshot_json
              and not _holds_throw(outcome.roots)):
            leased = None
            if out.tasks:
                [(key, spec, ts)] = out.tasks
                if ts is None or spec.get("options") is not None or claim is None or not claim.wants(ts.name):
                    return None
                leased = dict(self.task_params(ahead.run_id, key, spec, ts), worker=claim.worker,
                              lease_seconds=claim.lease)
            fields = dict(status="suspended", snapshot=json_param(outcome.snapshot, outcome.snapshot_json),
                          inbox=Jsonb(inbox), waiting=list(outcome.waiting), output=None, **_task_columns(leased))
            ahead.saving = SavedRun(inbox, list(outcome.waiting), ahead.saved.parent)
        else:
            return None
        step.trail += outcome.trail
        step.catches += outcome.routes
        extra = dict(line=None) if outcome.status == "completed" else {}  # (as finish writes it)
        return dict(fields, activations=ahead.stamp[0], inbox_before=Jsonb(ahead.saved.inbox),
                    keep=self.history_limit, step=step.details(outcome.status, outcome.state, **extra))

    def saved_ahead(self, ahead: RunAhead) -> None:
        """An activation run ahead was saved (committed): keep its state, and what was saved, for the next step."""
        self.warm.used(ahead.warm)
        outcome = ahead.outcome
        if ahead.saving is not None:
            activations, name, version = ahead.stamp
            entry = self.warm.keep(ahead.run_id, (activations + 1, name, version), outcome.snapshot,
                                   outcome.snapshot_json, _warm.reusable(outcome))
            if entry is not None:
                self.warm.saved(ahead.run_id, entry, ahead.saving)

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
        live = reachable_keys(_js.decode_snapshot(snapshot["data"])) if status == "failed" and snapshot else ()
        history = self.step_params(row, step, status, end, line=(error or {}).get("line"))
        outcome = dict(id=row["id"], status=status, output=Json(output), error=Jsonb(error),
                       snapshot=None if snapshot is None else Json(snapshot),
                       failure=None if failure is None else Json(failure), inbox=Jsonb(inbox),
                       waiting=list(waiting), signal_waits=Jsonb(waits), keep_timers=list(live),
                       seq=history["seq"], step=history["step"])
        batch = self.batch() if parent is None else None
        if batch is not None:  # a batch's run: saved with the others when the batch is done (see advance_runnable)
            batch.finished.append(outcome)
        else:
            self.save_finished(conn, [outcome])
        if row["parent_run_id"] is None:
            return False
        if status == "completed":
            kind, value = "ok", output
        elif status == "cancelled":
            kind, value = "err", error_payload("WorkflowError", f"child run {row['id']} was cancelled")
        else:
            kind, value = "err", error_payload("WorkflowError", (error or {}).get("message", ""))
        if parent is not None:  # the parent is mid-activation, in this transaction
            self.settle_now(conn, parent.settled, parent.out, row["parent_await_key"], kind, value)
            return False
        batch = self.batch()
        if batch is not None:  # the parent may be a run of this batch: its save goes first, its row is read again
            self.save_batch(conn)
            batch.settled.add(row["parent_run_id"])
        return settle(conn, row["parent_run_id"], row["parent_await_key"], kind, value)

    def batch(self) -> Batch | None:
        return getattr(self.inline, "batch", None)

    def save_finished(self, conn, rows: list[dict]) -> None:
        """Store runs' outcomes (finish's rows) and forget their pending timers; several in one statement."""
        if len(rows) > 1:
            conn.execute(Q["save_finished_batch"], self.batch_params(rows), prepare=False)
            return
        [row] = rows
        conn.execute(Q["save_finished"], dict(row, keep=self.history_limit))
        conn.execute(Q["drop_pending_timers"], dict(id=row["id"], keep=row["keep_timers"]))

    def save_suspended(self, conn, rows: list[dict]) -> None:
        """Store waiting runs' snapshots (advance's rows), with the tasks leased to this thread; several in one
        statement."""
        if len(rows) > 1:
            saved = conn.execute(Q["save_suspended_batch"], self.batch_params(rows), prepare=False)
        else:
            saved = conn.execute(Q["save_suspended"], dict(rows[0], keep=self.history_limit))
        if any(row["name"] is not None for row in rows):
            self.inline.claim.pending.append(saved)

    def batch_params(self, rows: list[dict]) -> dict:
        """A batch statement's parameters: one array per column (rows are one dict per run; an array of arrays
        must be rectangular in Postgres, so a run's list of keys goes as one jsonb value)."""
        columns = {name: [Jsonb(row[name]) if name in LIST_COLUMNS else row[name] for row in rows]
                   for name in rows[0]}
        return dict(columns, keep=self.history_limit, trim=max(columns["seq"]) > self.history_limit)

    def save_batch(self, conn) -> None:
        """Write the saves the batch holds back: one statement per kind for all its runs so far."""
        batch = self.batch()
        if batch.finished:
            self.save_finished(conn, batch.finished)
            batch.finished.clear()
        if batch.suspended:
            self.save_suspended(conn, batch.suspended)
            batch.suspended.clear()

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
        elif kind == "task":  # a task this worker does not run is scheduled all the same (see write_outbox)
            out.tasks.append((key, spec, self.task_specs.get(spec["name"])))
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
        options = spec.get("options") or {}
        try:
            newest = newest_version(conn, spec["name"])
            child_id, created = insert_run(conn, spec["name"], spec["inputs"], child_run_id(run_id, key), run_id, key,
                                           spec.get("inputs_json"), key=options.get("key"),
                                           priority=options.get("priority", 0), delay=options.get("delay", 0.0),
                                           queue=options.get("queue"), newest=newest)
        except (UnknownWorkflow, RunIdConflict) as e:
            self.settle_now(conn, settled, out, key, "err", error_payload("WorkflowError", str(e)))
            return
        if not created:
            return  # it exists already; its outcome reaches the inbox
        # deep, delayed or on a queue (admitted by its limits, possibly later): a worker starts it
        if depth >= MAX_INLINE_CHILD_DEPTH or options.get("delay") or options.get("queue") or newest["queue"]:
            out.children += 1
            return
        child = conn.execute(Q["lock_run_for_activation"], dict(id=child_id)).fetchone()
        try:
            with conn.transaction():  # a savepoint: a child that breaks Rhythm is left to a worker
                out.notices |= self.advance(conn, child, depth + 1, _Parent(settled, out))
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

    def write_outbox(self, conn, run_id: str, out: Scheduled) -> tuple[set[str], dict | None]:
        """Insert what an activation scheduled: (the notices other workers should get, the parameters of
        one task leased to this thread that the caller inserts with the run's save, or None)."""
        claim = getattr(self.inline, "claim", None)
        notices: set[str] = set(out.notices)
        leased = None
        for key, spec, ts in out.tasks:
            options = spec.get("options")
            if ts is None:  # another service's task (or one not deployed yet): routed by its registration
                row = insert_task_as_registered(conn, spec["name"], json_param(spec["payload"], spec.get("payload_json")),
                                                run_id, key, options)
                if row is not None:
                    notices.add(tasks_notice(row["queue"]))
                continue
            params = self.task_params(run_id, key, spec, ts)
            if claim is not None and options is None and claim.wants(ts.name):
                self.insert_leased(conn, leased)
                leased = dict(params, worker=claim.worker, lease_seconds=claim.lease)
                continue
            conn.execute(Q["insert_task"], params)
            notices.add(tasks_notice(ts.queue))
        for key, seconds in out.timers:
            conn.execute(Q["insert_timer"], dict(run_id=run_id, await_key=key, seconds=seconds,
                                                 forever=TIMER_FOREVER))
            self.hint_timer(seconds)
        if out.children:
            notices.add(runs_notice())
        return notices, leased

    def hint_timer(self, seconds: float) -> None:
        """Remember when a timer written now falls due (if its transaction rolls back, the loop just looks once
        for nothing)."""
        due = time.monotonic() + max(0.0, min(seconds, TIMER_FOREVER))
        with self._hint_lock:
            if self.timer_hint is None or due < self.timer_hint:
                self.timer_hint = due

    def timers_read(self, now: float) -> None:
        """The loop reads the timers now: a hinted one due by now is in what it reads (or fires)."""
        with self._hint_lock:
            if self.timer_hint is not None and self.timer_hint <= now:
                self.timer_hint = None

    @staticmethod
    def task_params(run_id: str, key: str, spec: dict, ts) -> dict:
        """insert_task's parameters for a task this worker has a @task (`ts`) for."""
        options = spec.get("options")
        return dict(run_id=run_id, await_key=key, name=spec["name"], queue=ts.queue,
                    payload=json_param(spec["payload"], spec.get("payload_json")), max_attempts=ts.retries + 1,
                    backoff=ts.backoff, timeout=(options or {}).get("timeout", ts.timeout), **call_options(options))

    def insert_leased(self, conn, leased: dict | None) -> None:
        """Insert a task leased to this thread on its own (its run's save does not insert it)."""
        if leased is not None:
            self.inline.claim.pending.append(conn.execute(Q["insert_task_claimed"], leased))


def _run_notices(woke_parent: bool) -> set[str]:
    """The notices of a run's end (Engine.finish): its parent's, if that woke it."""
    return {runs_notice()} if woke_parent else set()


def _task_columns(leased: dict | None) -> dict:
    """save_suspended's columns of the task leased to this thread (NULLs: none); the float8 ones as floats,
    since a batch's array parameter holds values of one Python type."""
    task = leased or NO_TASK
    return {name: float(task[name]) if name in FLOAT_COLUMNS and task[name] is not None else task[name]
            for name in NO_TASK}
