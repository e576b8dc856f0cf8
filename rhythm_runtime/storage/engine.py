"""Advancing runs: what a worker calls during an activation.

`Engine` runs the machine on a locked run and writes what the activation
scheduled (tasks, timers, children, signal waits) and its snapshot.
`WorkerCalls` are the worker's transactions around it, part of every `Store`:
claim and finish tasks, lock and advance a run, fire timers, renew and
reclaim leases; each opens one transaction (see transactions.py).

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

from rhythm_runtime.errors import RhythmError, StorageError
from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution import warm as _warm
from rhythm_runtime.execution.activation import activate
from rhythm_runtime.execution.cancellation import cancelled_error, cancelled_payload, status_after_cancel
from rhythm_runtime.execution.machine import (
    MAX_SNAPSHOT_BYTES, MAX_TRAIL, Settlement, completion_records, new_snapshot, reachable_keys,
)
from rhythm_runtime.storage.queries import (TASK_NAME_LOCK_CLASS, Q, RunIdConflict, UnknownWorkflow, child_run_id,
                                            call_options, error_payload, history_limit, insert_run,
                                            insert_task_as_registered, json_param, json_text, newest_version, notify,
                                            runs_notice, settle, tasks_notice)
from rhythm_runtime.storage.transactions import Database, is_outage

log = logging.getLogger("rhythm")
MAX_LOST_LEASES = 10  # a task whose worker vanishes this often is failing the workers, not flaky
# A worker whose database session is gone is dead once its last heartbeat is this old (seconds): a live
# worker whose session broke has reconnected and heartbeaten on a new one by then.
DEAD_SESSION_GRACE = 1.0

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
    params: dict | None = None  # finish_task_step's, when that statement can save it
    saving: SavedRun | None = None  # what that save writes besides the snapshot (None: a finished run)

    def fits(self, row: dict) -> bool:
        """Whether `row`, locked by the settle of this result, is the row the activation was run for."""
        inbox = dict(row["inbox"])
        return (inbox.pop(self.key, None) is not None and inbox == self.saved.inbox and _stamp(row) == self.stamp
                and row["status"] == "suspended" and row["cancel_requested_at"] is None and not row["signal_waits"])


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
                out, outcome, ahead = ahead.out, ahead.outcome, None
                self.warm.used()
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
        previous step before the row is read. None if there is none, the task is not one the run waits on,
        the activation started a child or waited for a signal (those read and write other rows now), or it
        ran longer than AHEAD_BUDGET steps; code shapes 1-5 are left out too (their combinators record the
        settlement's number, which the database gives). `params` are finish_task_step's when that statement
        can save the outcome (see `_fused`); otherwise the ordinary path may still use the outcome, if the
        row it locks is the one assumed (`fits`)."""
        key = task["await_key"]
        kept = self.warm.take_saved(task["run_id"], lambda saved: key in saved.waiting) \
            if self.warm is not None and task["run_id"] else None
        if kept is None:
            return None
        return self.run_ahead(conn, {"id": task["run_id"], "workflow_name": kept.stamp[1]}, key, kept, text, claim)

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
        ahead = RunAhead(run_id, key, kept.stamp, saved, step, out, outcome)
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
        self.warm.used()
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


def _refused(task: dict) -> None:
    log.warning("refused the result of task %s (%s): this worker no longer holds its lease (another worker runs it "
                "again, or a retry of its run undid it)", task["id"], task["name"])


class WorkerCalls(Database):
    """The transactions a worker runs: `Store` inherits them, so a worker's loop uses one pool for all its calls."""

    def advance_one(self, engine: Engine) -> bool:
        """Activate one runnable run, in one transaction. False when none is runnable."""
        return self.advance_runnable(engine, 1) > 0

    def advance_runnable(self, engine: Engine, limit: int, claim: InlineClaim | None = None) -> int:
        """Lock up to `limit` runnable runs and advance them all in one transaction (two round trips and
        one commit for the batch, their saves in one statement per kind); returns how many were advanced.
        Tasks they schedule go to `claim`'s free slots (leased to the caller, read with `claim.taken()`),
        the rest to any worker.

        If advancing one of them fails (a Rhythm bug, or a deadlock with another
        batch over a parent run), the batch rolls back and each run is advanced
        alone, so only a run that breaks Rhythm is failed (see _advance).
        """
        rows: list[dict] = []
        tx = self.tx(pipeline=True)
        try:
            with engine.keeping_saves(), tx as conn:
                cursor = conn.execute(Q["lock_runnable_runs"], dict(limit=limit))
                tx.sync()
                rows = cursor.fetchall()
                engine.inline.claim, engine.inline.batch = claim, Batch()
                try:
                    notify(conn, self._advance_batch(conn, engine, rows))
                finally:
                    engine.inline.claim = engine.inline.batch = None
            return len(rows)
        except Exception as e:
            if claim is not None:
                claim.rolled_back()  # the runs advanced alone below offer no slots
            if not rows or is_outage(e) or (len(rows) == 1 and isinstance(e, StorageError)):
                raise
            if len(rows) == 1:  # a bug, deterministic: failing the run is the only way forward
                self._failed_advancing(engine, rows[0], e)
                return 1
            log.warning("advancing %d runs in one transaction failed (%s); advancing each alone", len(rows),
                        str(e).strip() or type(e).__name__)
            return sum(self._advance_alone(engine, row["id"]) for row in rows)

    @staticmethod
    def _advance_batch(conn, engine: Engine, rows: list[dict]) -> set[str]:
        """Advance the locked runs one after the other, then write their saves; returns the notices other
        workers should get. A run whose row a child's outcome changed since it was locked is read again first."""
        batch = engine.batch()
        notices: set[str] = set()
        for row in rows:
            if row["id"] in batch.settled:
                row = conn.execute(Q["lock_runnable_run_by_id"], dict(id=row["id"])).fetchone()
            notices |= engine.advance(conn, row)
        engine.save_batch(conn)
        return notices

    def _advance_alone(self, engine: Engine, run_id: str) -> bool:
        """Lock one run if it is still runnable and activate it, in one transaction.

        If Rhythm itself fails while advancing (not the workflow: its errors
        are part of its outcome), the transaction is rolled back and the run
        is failed with an InternalError in a new one, instead of being
        retried forever. Lost connections are not the run's fault: those
        roll back, and the run is tried again.
        """
        row = None
        tx = self.tx(pipeline=True)  # BEGIN + lock, then the writes + COMMIT: two round trips
        try:
            with engine.keeping_saves(), tx as conn:
                cursor = conn.execute(Q["lock_runnable_run_by_id"], dict(id=run_id))
                tx.sync()
                row = cursor.fetchone()
                if row is None:
                    return False
                notify(conn, engine.advance(conn, row))
                return True
        except StorageError:
            raise
        except Exception as e:  # a bug, deterministic: failing the run is the only way forward
            if row is None or is_outage(e):  # (a lost connection is not the run's fault)
                raise
            self._failed_advancing(engine, row, e)
            return True

    def _failed_advancing(self, engine: Engine, row: dict, e: Exception) -> None:
        log.error("advancing run %s failed; failing the run", row["id"], exc_info=e)
        claim = getattr(engine.inline, "claim", None)
        if claim is not None:
            claim.rolled_back()
        self.fail_run(engine, row["id"], row["activations"], internal_error(e))

    def fail_run(self, engine: Engine, run_id: str, activations: int, error: dict) -> None:
        """Fail a run that cannot be advanced, unless it moved on meanwhile."""
        with self.tx() as conn:
            row = conn.execute(Q["lock_run_for_activation"], dict(id=run_id)).fetchone()
            if row is None or row["status"] not in ("pending", "suspended") or row["activations"] != activations:
                return
            kept = (row["inbox"], row["waiting"], row["signal_waits"])
            if engine.finish(conn, row, "failed", None, error, row["snapshot"], kept=kept):
                conn.execute(Q["notify_work"])

    def claim_tasks(self, worker: str, queues: list[str], names: list[str], limit: int, lease: float) -> list[dict]:
        """Lease pending tasks of these queues whose names this worker runs: others' tasks stay for them."""
        with self.tx(single=True) as conn:
            return conn.execute(Q["claim_tasks"], dict(worker=worker, queues=queues, names=names, limit=limit,
                                                       lease_seconds=lease)).fetchall()

    def register_tasks(self, worker: str, specs: list) -> int:
        """Record these @task settings as their names' newest registration, and move pending tasks of
        those names that were scheduled before (in 'default', by a worker without the task) to them.
        Returns how many tasks moved."""
        if not specs:
            return 0
        specs = sorted(specs, key=lambda t: t.name)
        names = [t.name for t in specs]
        with self.tx() as conn:
            conn.execute(Q["lock_task_names"], dict(lock_class=TASK_NAME_LOCK_CLASS, names=names))
            conn.execute(Q["register_tasks"], dict(
                names=names, queues=[t.queue for t in specs], max_attempts=[t.retries + 1 for t in specs],
                backoffs=[float(t.backoff) for t in specs],
                timeouts=[None if t.timeout is None else float(t.timeout) for t in specs], worker=worker))
            moved = conn.execute(Q["route_pending_tasks"], dict(names=names)).fetchall()
            if moved:
                conn.execute(Q["notify_work"])
            return len(moved)

    def worker_stopped(self, worker: str) -> None:
        with self.tx() as conn:
            conn.execute(Q["worker_stopped"], dict(id=worker))

    def registered_task_names(self) -> list[str]:
        with self.tx() as conn:
            return [r["name"] for r in conn.execute(Q["registered_task_names"]).fetchall()]

    def finish_task(self, engine: Engine, task: dict, worker: str, ok: bool, value: Any,
                    claim: InlineClaim | None = None, text: str | None = None) -> list[dict]:
        """Record a task's outcome, deliver it to its run and, if that wakes the
        run, advance it: one commit either way. `text` is `value` as JSON when
        the caller has it already (a result is serialized once).

        When this worker kept the run's state from its previous step, the
        activation runs first and one statement records the result and saves
        it (`_finish_ahead`): one round trip. Otherwise, or when that statement
        cannot save it, a transaction of two round trips (BEGIN +
        record-and-settle, which returns the run locked; then the activation's
        writes + COMMIT, pipelined), which uses the activation run ahead if the
        run is the row it was run for.

        No savepoint: if the activation or its writes fail (a Rhythm bug, or a
        statement Postgres refuses at COMMIT), the whole transaction rolls back
        and the outcome is recorded again alone, so the result is kept and the
        run stays runnable for the loop (which retries it, or fails it with an
        InternalError). A worker killed during the activation loses the result
        with it and the task runs again: tasks are at-least-once (GUARANTEES.md).
        """
        text = json_text(value) if ok and text is None else text
        ahead = None
        if ok:
            taken, ahead = self._finish_ahead(engine, task, worker, text, claim)
            if taken is not None:
                return taken
        woke = False
        tx = self.tx(pipeline=True)
        try:
            with engine.keeping_saves(), tx as conn:
                run = self._record_outcome(conn, tx, task, worker, ok, value, text)
                if run is None:
                    return []
                woke = True
                self._advance_woken(conn, engine, run, claim, ahead if ahead is not None and ahead.fits(run) else None)
            return claim.taken() if claim is not None else []
        except StorageError:
            raise
        except Exception as e:
            if not woke or is_outage(e):  # recording the outcome itself failed: the caller decides
                raise
            log.exception("advancing run %s after its task finished failed; keeping the task's result and leaving "
                          "the run to the loop", run["id"])
            with self.tx() as conn:
                if self._record_outcome(conn, None, task, worker, ok, value, text) is not None:
                    conn.execute(Q["notify_work"])
            return []

    def _finish_ahead(self, engine: Engine, task: dict, worker: str, text: str,
                      claim: InlineClaim | None) -> tuple[list[dict] | None, RunAhead | None]:
        """A task's result and the step it wakes in one statement, one round trip and no BEGIN or COMMIT, when
        this worker kept the run's state from its committed previous step: the activation runs first
        (Engine.step_ahead), then finish_task_step (migrations/0011) records the result and saves the step
        only if the run is still the row it was computed from. If it is not, the result is recorded and
        settled all the same, and the run is advanced the ordinary way in a transaction of its own.

        Returns (the tasks leased to the caller, None) when it recorded the result; (None, the activation run
        ahead or None) when it wrote nothing, for the ordinary path.
        """
        if engine.warm is None or task["run_id"] is None:
            return None, None
        with self.tx(single=True) as conn:
            try:
                ahead = engine.step_ahead(conn, task, text, claim)
            except Exception:  # (a bug; the ordinary path runs the step again from the stored snapshot)
                log.exception("running the step of run %s ahead failed; taking the ordinary path", task["run_id"])
                return None, None
            if ahead is None or ahead.params is None:
                return None, ahead
            try:
                row = conn.execute(Q["finish_task_step"], dict(ahead.params, task=task["id"], worker=worker,
                                                               claim=claim_number(task), result=text)).fetchone()
            except psycopg.OperationalError:
                raise
            except psycopg.Error:  # refused as a whole (a value Postgres cannot store?): the ordinary path says why
                if claim is not None:
                    claim.rolled_back()
                return None, None
        if row is None:
            _refused(task)
            return [], None
        if row["saved"]:
            engine.saved_ahead(ahead)
            return ([] if row["id"] is None else [{k: v for k, v in row.items() if k not in ("saved", "woke")}]), None
        if claim is not None:
            claim.rolled_back()
        return (self._advance_settled(engine, ahead.run_id, claim) if row["woke"] else []), None

    def _advance_settled(self, engine: Engine, run_id: str, claim: InlineClaim | None) -> list[dict]:
        """Advance a run whose task's result was recorded and woke it, in a transaction of its own; the next
        task goes to `claim`. A run someone else holds is theirs, or the loop's after a NOTIFY."""
        engine.inline.claim = claim
        try:
            advanced = self._advance_alone(engine, run_id)
        except StorageError as e:  # the result is kept and the run runnable: the loop advances it
            log.warning("advancing run %s after its task's result failed; leaving it to the loop: %s", run_id, e)
            return []
        finally:
            engine.inline.claim = None
        if not advanced:
            with self.tx(single=True) as conn:
                conn.execute(Q["notify_work"])
        return claim.taken() if claim is not None else []

    def _record_outcome(self, conn, tx, task: dict, worker: str, ok: bool, value: Any,
                        text: str | None) -> dict | None:
        """Store the outcome and settle it in the run's inbox; the run row (locked) when that woke it.

        In a pipelined `tx` the first statement is waited for with a Sync: until
        Postgres answers one, psycopg believes no transaction is open (and a
        `conn.transaction()` would then COMMIT instead of releasing a savepoint).
        """
        if ok:
            cursor = conn.execute(Q["complete_task_and_settle"], dict(
                id=task["id"], worker=worker, claim=claim_number(task), result=text, result_text=text))
        else:
            cursor = conn.execute(Q["fail_task_attempt"], dict(id=task["id"], worker=worker, claim=claim_number(task),
                                                                error=Jsonb(value)))
        if tx is not None:
            tx.sync()
        row = cursor.fetchone()
        if not ok and row is not None and row["status"] == "pending":
            if row["run_id"] is None or conn.execute(Q["cancel_task_of_cancelled_run"],
                                                     dict(id=task["id"])).fetchone() is None:
                conn.execute(Q["notify_work"])
            return None  # a retry is scheduled; the run keeps waiting
        run = None
        if ok:
            run = row if row is not None and row["id"] is not None else None
        elif row is not None and row["run_id"] is not None:
            # the workflow sees name and message; the exception and traceback stay on the task row
            seen = {k: value[k] for k in ("type", "message") if k in value}
            run = conn.execute(Q["settle_returning_run"], dict(
                id=row["run_id"], key=row["await_key"], kind="err", value=json_text(seen))).fetchone()
        if row is None:  # the lease expired (a hung or partitioned worker) and another worker has the task
            _refused(task)
            return None
        if run is None or not run["woke"]:
            return None  # a standalone task, a finished run, or one that waits on more
        if run["status"] != "suspended":
            conn.execute(Q["notify_work"])
            return None
        return run

    def _advance_woken(self, conn, engine: Engine, run: dict, claim: InlineClaim | None,
                       ahead: RunAhead | None = None) -> None:
        """Activate a run its task's outcome just woke (locked by the settle); the next task goes to `claim`.
        `ahead`: that activation, run already for this row."""
        engine.inline.claim = claim
        try:
            notify(conn, engine.advance(conn, run, ahead=ahead))
        finally:
            engine.inline.claim = None

    def renew_leases(self, worker: str, ids: list[int], lease: float) -> list[int]:
        """Extend this worker's leases; returns the ids it still holds."""
        with self.tx(single=True) as conn:
            rows = conn.execute(Q["renew_task_leases"], dict(worker=worker, ids=ids, lease_seconds=lease)).fetchall()
            return [r["id"] for r in rows]

    def reclaim_lost(self, releasing: str | None = None, limit: int = 100) -> list[dict]:
        """Requeue the tasks of workers that are gone, and (`releasing`) those a stopping worker gives up.

        A worker is gone when its lease expired, or at once when its database
        session ended (see the worker_states view; DEAD_SESSION_GRACE after
        its last heartbeat, so a worker whose session merely reconnects keeps
        its tasks). Rows say whose task it was, why it was taken, how long it
        was held.
        """
        with self.tx() as conn:
            rows = conn.execute(Q["reclaim_lost_tasks"], dict(
                limit=limit, max_lost=MAX_LOST_LEASES, grace=DEAD_SESSION_GRACE, releasing=releasing)).fetchall()
            for r in rows:
                if r["status"] == "failed" and r["run_id"] is not None:
                    settle(conn, r["run_id"], r["await_key"], "err", r["error"])
            if rows:
                conn.execute(Q["notify_work"])
            return rows

    def pending_work(self, queues: list[str], names: list[str], with_tasks: bool) -> dict:
        """Whether a loop tick has anything to do (due timers, runnable runs, pending tasks of these queues and
        names) and the seconds until the next is due (as `seconds_until_due`), in one read without a transaction:
        most ticks of most workers find nothing, and then sleep without reading again."""
        with self.tx(single=True) as conn:
            return conn.execute(Q["pending_work"], dict(queues=queues, names=names, with_tasks=with_tasks)).fetchone()

    def fire_timers(self, limit: int = 1000) -> int:
        """Fire up to `limit` due timers and wake their runs, in one statement; returns how many fired."""
        with self.tx() as conn:
            fired = conn.execute(Q["fire_due_timers"], dict(limit=limit)).fetchone()["fired"]
            if fired:
                conn.execute(Q["notify_work"])
            return fired

    def seconds_until_due(self, queues: list[str], names: list[str], with_tasks: bool) -> float | None:
        """Until the next timer (or pending task this worker runs) is due; None when nothing is scheduled."""
        with self.tx(single=True) as conn:
            row = conn.execute(Q["next_due"], dict(queues=queues, names=names, with_tasks=with_tasks)).fetchone()
            return None if row["seconds"] is None else max(0.0, float(row["seconds"]))

