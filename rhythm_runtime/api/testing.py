"""Run a workflow in-process: no database, virtual time, real generated code.

`run_workflow` compiles the `.flow` source, then drives the very machine the
Postgres worker uses, round-tripping every snapshot through JSON. One event
queue orders the world the way Node's event loop would: tasks and signals
settle in the order they were created, timers when the virtual clock reaches
them, and the clock jumps forward whenever nothing else can run, so
`await Timer.delay(86400)` takes no real time.

Tasks run as a worker runs them: the `@task` functions registered in the
process (or the `tasks=` given by name), through the same `call_task`, with
`current_task()`, their timeouts, and their retries after their backoff on
the virtual clock. Task.run's options apply as on workers: `delay` on the
virtual clock, `priority` among tasks due at the same moment, `timeout`
instead of the @task's, and the rate limits of declared queues (app.queue)
postpone a start until its window has room. Tasks take no virtual time, so
concurrency limits always hold. Workflow.run's options apply too: `delay`
on the virtual clock, `priority` among children due at the same moment, and
a child on a queue (`queue`, or its front matter's) waits while the queue's
concurrency, key_concurrency or rate limits are full, as workers admit runs.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from rhythm_compiler import compile_source

from rhythm_runtime.api.queues import QUEUES
from rhythm_runtime.api.tasks import REGISTRY, TaskContext, TaskSpec, call_task
from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution.cancellation import cancelled_error, cancelled_payload, status_after_cancel
from rhythm_runtime.execution.activation import activate
from rhythm_runtime.execution.machine import Outcome, Settlement, clip, new_snapshot
from rhythm_runtime.execution.modules import load_module
from rhythm_runtime.execution.warm import WarmStates, reusable
from rhythm_runtime.schedules import front_matter_or_none


@dataclass
class RunResult:
    status: str  # "completed" | "failed" | "cancelled" | "suspended"
    output: Any = None
    error: dict | None = None
    run_id: str = ""
    activations: int = 0
    snapshots: list = field(default_factory=list, repr=False)


@dataclass
class _Run:
    id: str
    module: Any
    snapshot: dict
    parent: tuple[str, str] | None = None
    waiting: set = field(default_factory=set)
    settled: dict = field(default_factory=dict)
    outcome: Outcome | None = None
    active: bool = False
    cancelled: bool = False
    queue: str | None = None  # the queue it was admitted on, and its key there
    key: str | None = None


@lru_cache(maxsize=256)
def _module_for(source: str, name: str):
    return load_module(compile_source(source, f"{name}.flow", name=name).code, name)


def _path(source: str | Path) -> Path | None:
    """The .flow file `source` names, if it is a path rather than .flow text."""
    if isinstance(source, Path) or (isinstance(source, str) and source.endswith(".flow") and "\n" not in source
                                    and Path(source).is_file()):
        return Path(source)
    return None


def _read(source: str | Path) -> tuple[str, str]:
    """(text, name) from .flow text or a path to a .flow file."""
    path = _path(source)
    return (path.read_text(encoding="utf-8"), path.stem) if path else (source, "workflow")


def _task_specs(overrides: dict | None) -> dict[str, TaskSpec]:
    """The @task-registered tasks, replaced by name by `overrides`: a TaskSpec as it is, a plain
    function with @task's defaults (no retries, no timeout)."""
    specs = dict(REGISTRY)
    for name, given in (overrides or {}).items():
        specs[name] = given if isinstance(given, TaskSpec) else TaskSpec(name, given)
    return specs


def _neighbours(source: str | Path) -> dict[str, Path]:
    """The workflows in the directory of a .flow file, by name (what its Workflow.run calls find)."""
    path = _path(source)
    return {p.stem: p for p in sorted(path.parent.glob("*.flow"))} if path else {}


class InProcessWorld:
    """The event loop shared by a run and its children."""

    # Where runs keep their decoded state between activations, as a worker does (execution/warm.py);
    # None: every activation decodes the snapshot it resumes from, the stricter test of a workflow.
    warm: WarmStates | None = None

    def __init__(self, tasks, workflows, signals):
        self.tasks = _task_specs(tasks)
        self.task_ids = itertools.count(1)
        self.workflows = dict(workflows or {})
        self.signals: dict[str, deque] = defaultdict(deque)
        for name, payload in signals or ():
            self.signals[name].append(json.loads(json.dumps(payload)))
        self.queue: list = []
        self.counter = itertools.count()
        self.settle_seq = itertools.count()
        self.now = 0.0
        self.runs: dict[str, _Run] = {}
        self.activations = 0
        self.snapshots: list = []
        self.dropped: set[tuple[str, str]] = set()  # (run id, await key) of events a cancel made moot
        self.starts: dict[tuple, list[float]] = defaultdict(list)  # ((kind, queue), key or None) -> start times
        self.waiting: dict[str, list] = defaultdict(list)  # queue -> children waiting for admission

    # -- runs ------------------------------------------------------------------
    def start(self, module, inputs, parent=None, queue: str | None = None, key: str | None = None) -> _Run:
        run = _Run(f"run-{len(self.runs) + 1}", module, new_snapshot(inputs), parent, queue=queue, key=key)
        self.runs[run.id] = run
        self.activate(run)
        return run

    def activate(self, run: _Run, cancel: _js.JSError | None = None) -> None:
        run.active = True
        self.activations += 1
        data = self.warm.take(run.id, None, run.snapshot) if self.warm is not None and cancel is None else None
        outcome = activate(run.module, run.snapshot, run.settled, run.id, lambda *a: self.schedule(run, *a),
                           cancel=cancel, data=data)
        run.active = False
        if run.cancelled and outcome.status != "suspended":
            outcome.status = status_after_cancel(outcome.status, outcome.error)
            outcome.error = outcome.error or cancelled_payload()
        if outcome.status == "suspended":
            # what is stored is what resumes: JSON in, JSON out
            text = outcome.snapshot_json or json.dumps(outcome.snapshot, allow_nan=False)
            run.snapshot = json.loads(text)
            self.snapshots.append(run.snapshot)
            if self.warm is not None and outcome.snapshot_json:
                self.warm.keep(run.id, None, run.snapshot, text, reusable(outcome))
            run.waiting = set(outcome.waiting)
            return
        run.outcome = outcome
        if run.queue is not None:  # its slot is free: the children waiting on its queue are tried again
            for event in self.waiting.pop(run.queue, []):
                self.push(self.now, event[0], event[1])
        if run.parent is not None:
            parent_id, key = run.parent
            if outcome.status == "completed":
                self.settle(self.runs[parent_id], key, True, _js.from_json(outcome.output))
            elif outcome.status == "cancelled":
                self.settle(self.runs[parent_id], key, False, _js.JSError("WorkflowError", f"child run {run.id} was cancelled"))
            else:
                self.settle(self.runs[parent_id], key, False,
                            _js.JSError("WorkflowError", outcome.error.get("message", "")))

    def cancel(self, run: _Run) -> None:
        """What `rhythm cancel` does (store.py's _request_cancel, then the next activation): the await the
        run is stopped at throws a CancelledError; what it waited for is cancelled, children cleaning up."""
        if run.outcome is not None or run.cancelled:
            return
        run.cancelled = True
        children = {r.parent[1]: r for r in self.runs.values() if r.parent and r.parent[0] == run.id}
        for key in run.waiting - set(run.settled):
            if key in children:
                self.cancel(children[key])
            else:  # a task not yet run, a timer, a signal wait: dropped, and ended with the same error
                self.dropped.add((run.id, key))
                run.settled[key] = Settlement(next(self.settle_seq), False, cancelled_error())
        self.activate(run, cancelled_error())

    def settle(self, run: _Run, key: str, ok: bool, value) -> None:
        run.settled[key] = Settlement(next(self.settle_seq), ok, value)
        if not run.active and run.outcome is None and key in run.waiting:
            self.activate(run)

    # -- the scheduler the machine calls -----------------------------------------------
    def schedule(self, run: _Run, kind: str, key: str, spec: dict) -> None:
        if kind == "task":
            options = spec.get("options", {})
            self.push(self.now + options.get("delay", 0.0),
                      ("task", run, key, {**spec, "task_id": next(self.task_ids), "attempt": 1}),
                      options.get("priority", 0))
        elif kind == "timer":
            self.push(self.now + spec["seconds"], ("timer", run, key, spec))
        elif kind == "signal":
            queued = self.signals.get(spec["name"])
            if queued:
                self.push(self.now, ("signal", run, key, queued.popleft()))
        elif kind == "child":  # started now, as JavaScript would, unless delayed or admitted by a queue's limits
            options = spec.get("options", {})
            if options.get("delay") or self.child_queue(spec)[1] in QUEUES:
                self.push(self.now + options.get("delay", 0.0), ("child", run, key, spec), options.get("priority", 0))
            else:
                self.start_child(run, key, spec)

    def child_queue(self, spec: dict) -> tuple[Any, str | None]:
        """(module, queue) of Workflow.run's child: its `queue` option, else its front matter's; (None, None) for
        a workflow nobody gave."""
        name = spec["name"]
        if name not in self.workflows:
            return None, None
        module = _module_for(_read(self.workflows[name])[0], name)
        queue = spec.get("options", {}).get("queue")
        return module, queue or front_matter_or_none(getattr(module, "FRONT_MATTER", None)).queue

    def start_child(self, run: _Run, key: str, spec: dict) -> None:
        """Workflow.run's child, started once its queue (if it has one) admits it (see `admitted`)."""
        module, queue = self.child_queue(spec)
        if module is None:
            known = ", ".join(sorted(self.workflows)) or "none"
            self.settle(run, key, False, _js.JSError("WorkflowError", f"unknown workflow {spec['name']!r} "
                                                                      f"(known: {known})"))
            return
        options = spec.get("options", {})
        if not self.admitted(queue, options.get("key"), ("child", run, key, spec), options.get("priority", 0)):
            return
        self.start(module, spec["inputs"], parent=(run.id, key), queue=queue, key=options.get("key"))

    def admitted(self, queue: str | None, key: str | None, event, priority: int) -> bool:
        """Whether a run may start on `queue` now (its start counted); if not, `event` waits for a run of the
        queue to end or, when a rate window is full, for the window to have room."""
        limits = QUEUES.get(queue) if queue else None
        if limits is None:
            return True
        active = [r for r in self.runs.values() if r.queue == queue and r.outcome is None]
        full = (limits.concurrency is not None and len(active) >= limits.concurrency) or (
            key is not None and limits.key_concurrency is not None
            and sum(r.key == key for r in active) >= limits.key_concurrency)
        if full:
            self.waiting[queue].append((event, priority))
            return False
        room = self.rate_room(queue, key, "run")
        if room > self.now:
            self.push(room, event, priority)
            return False
        return True

    def push(self, due: float, event, priority: int = 0) -> None:
        heapq.heappush(self.queue, (due, -priority, next(self.counter), event))

    # -- the loop ------------------------------------------------------------------------------
    def drain(self) -> None:
        while self.queue:
            due, _, _, (kind, run, key, data) = heapq.heappop(self.queue)
            if (run.id, key) in self.dropped:
                continue
            self.now = max(self.now, due)
            if kind == "cancel":
                self.cancel(run)
            elif kind == "task":
                self.attempt(run, key, data)
            elif kind == "timer":
                self.settle(run, key, True, _js.UNDEFINED)
            elif kind == "child":
                self.start_child(run, key, data)
            else:
                self.settle(run, key, True, _js.from_json(data))

    def attempt(self, run: _Run, key: str, data: dict) -> None:
        """One attempt of a task; a failed one is tried again after its backoff while retries are left."""
        spec = self.tasks.get(data["name"])
        if spec is None:
            known = ", ".join(sorted(self.tasks)) or "none"
            self.settle(run, key, False, _js.JSError("TaskError", f"unknown task {data['name']!r} (known: {known})"))
            return
        options = data.get("options", {})
        room = self.rate_room(spec.queue, options.get("key"))
        if room > self.now:  # the queue's rate window is full: start when its oldest start leaves it
            self.push(room, ("task", run, key, data), options.get("priority", 0))
            return
        if "timeout" in options:
            spec = replace(spec, timeout=options["timeout"])
        ok, value = self.run_task(spec, data, TaskContext(data["task_id"], spec.name, data["attempt"], run.id, key))
        if not ok and data["attempt"] <= spec.retries:
            # the worker waits backoff * 2^(n-1) times a jitter of 0.5 to 1; here the longest, to be repeatable
            retry_at = self.now + spec.backoff * 2 ** (data["attempt"] - 1)
            self.push(retry_at, ("task", run, key, {**data, "attempt": data["attempt"] + 1}))
            return
        self.settle(run, key, ok, value)

    def rate_room(self, queue: str, key: str | None, kind: str = "task") -> float:
        """The virtual time from which a task (or run) of `queue` with `key` may start (now, or later), and its
        start counted when that is now: at most N starts in any period, per queue and per key (as limits.sql;
        tasks and runs of one queue are counted apart)."""
        limits = QUEUES.get(queue)
        windows = [((kind, queue), None, limits.rate)] if limits and limits.rate else []
        if limits and limits.key_rate and key is not None:
            windows.append(((kind, queue), key, limits.key_rate))
        room = self.now
        for q, k, (n, period) in windows:
            starts = self.starts[(q, k)]
            recent = starts[bisect.bisect_right(starts, self.now - period):]
            if len(recent) >= n:
                room = max(room, recent[-n] + period)
        if room == self.now:
            for q, k, _ in windows:
                self.starts[(q, k)].append(self.now)
        return room

    @staticmethod
    def run_task(spec: TaskSpec, data: dict, context: TaskContext) -> tuple[bool, Any]:
        """Call the task function as a worker does: JSON in and out, its failure a catchable TaskError."""
        try:
            result = call_task(spec, json.loads(json.dumps(data["payload"])), context)
            return True, _js.from_json(json.loads(json.dumps(result, allow_nan=False)))
        except Exception as e:  # a task's failure is the workflow's catchable error
            if isinstance(e, TimeoutError) and spec.timeout is not None:
                return False, _js.JSError("TaskError", f"task {spec.name!r} timed out after {spec.timeout:g}s")
            return False, _js.JSError("TaskError", clip(str(e) or type(e).__name__))


def run_workflow(source: str | Path, inputs: Any = None, tasks: dict | None = None,
                 workflows: dict | None = None, signals: list | None = None,
                 cancel_at: float | None = None) -> RunResult:
    """Compile and run a workflow to completion (or until nothing more can happen).

    `source`: a .flow file's path, or .flow text. `tasks`: task functions (or
    TaskSpecs) by name, replacing the @task-registered ones of those names.
    `workflows`: the workflows Workflow.run may start, by name (.flow text or
    a path); those next to a `source` file are found without it. `signals`:
    (name, payload) pairs, queued before the run starts. `cancel_at`: cancel
    the run at this many seconds of virtual time, as `rhythm cancel` would
    (its catch and finally blocks run first).
    Raises rhythm_compiler.CompileError for a program that does not compile.
    """
    text, name = _read(source)
    module = _module_for(text, name)
    world = InProcessWorld(tasks, {**_neighbours(source), **(workflows or {})}, signals)
    run = world.start(module, {} if inputs is None else inputs)
    if cancel_at is not None:
        world.push(cancel_at, ("cancel", run, None, None))
    world.drain()
    outcome = run.outcome
    if outcome is None:
        return RunResult("suspended", run_id=run.id, activations=world.activations, snapshots=world.snapshots)
    return RunResult(outcome.status, outcome.output, outcome.error, run.id, world.activations, world.snapshots)
