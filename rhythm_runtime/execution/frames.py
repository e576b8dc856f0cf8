"""Run a code-shape-6 module: the workflow body and its async functions as frames.

A suspended run is a set of frames: the body (frame 0) and every async
function call still in flight, each with its own state, locals, completion
records and captured environment. A frame waits by a reaction on a promise
(execution/promises.py); settling a promise queues jobs, and the run drains
them (JavaScript's microtasks) before it takes the next settlement of a task,
timer, signal or child (a macrotask), in the order they settled. Resuming a
frame builds a fresh generator at its stored state: nothing is replayed.

A function that never awaits is a plain Python function, called directly
(`Run.invoke`); an async one starts at once, runs to its first await and
returns its promise.

The snapshot (`{"state": body's state, "data": …, "seq": …}`) keeps the
body's locals, completion records and awaited promise as code shapes 1-5 did
("L", "C", "W"), plus:

  "F": {frame id: {"fn", "state", "L", "C", "E" (environment), "P" (its
        promise), "W" (what it awaits)}}     the async functions in flight
  "H": [promises of tasks, timers, signals and children that something
        reacts to]                          what the host holds (they settle later)
  "N": the next frame id
  "K": beside the body's "L" and each frame's, the slots whose encoding is
       self-contained; they stay encoded (values.Locals) until read, and a
       slot nobody read is written back as it was (see values/snapshot.py)

A frame's `W` is implicitly reacted to (the ["resume", id] reaction is not
stored when it is the only one), and `H` leaves out what a frame awaits
directly; empty tables are left out. So the snapshot of a body waiting on a
task reads as before: its locals and `{"$": "promise", "kind": "task", …}`.
"""

from __future__ import annotations

from collections import deque
from json.encoder import encode_basestring_ascii

from rhythm_runtime.execution import promises as P
from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution.machine import (
    DONE, MAX_SNAPSHOT_BYTES, NO_ERROR, MAX_TRAIL, BudgetExceeded, Commands, Frame as _Frame, Outcome, _located,
    _too_deep, _too_large, error_info, _completed, acyclic_json_text as _json_text, snapshot_text,
)
from rhythm_runtime.execution.running import current, current_or_none, enter, leave

# How deep calls of workflow functions may nest: a recursion past it throws RangeError, as V8 does past
# its stack (about 10,000 simple calls in Node). See machine.RECURSION_LIMIT.
MAX_CALL_DEPTH = 1000

class Frame(_Frame):
    """The `S` of a frame's generated code (the body, or an async function call): its state and try
    routing (inherited), the commands of its run."""

    # defaults (an instance sets its own when they change)
    value = _js.UNDEFINED
    error = NO_ERROR
    thrown = _js.UNDEFINED
    retval = _js.UNDEFINED
    promise: _js.Promise | None = None  # what calling it returned (not for the body)
    waits: _js.Promise | None = None  # what it awaits
    gen = None

    def __init__(self, run: "Run", fid: int, frame_id: int, state: int, L: dict, env=None, args=None):
        self.run = run
        self.module = run.module
        self.fid = fid
        self.id = frame_id
        self.state = state
        self.L = L
        self.env = env
        self.args = args
        self.completions: dict = {}
        self.trail = run.trail
        self.routes = run.routes
        self.task = run.task  # (generated code's S.task: the run's, without a call in between)

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def workflow_name(self) -> str:
        return self.run.workflow_name

    @property
    def inputs(self):
        return self.run.inputs

    def timer(self, *args):
        return self.run.timer(*args)

    def signal(self, *args):
        return self.run.signal(*args)

    def child(self, *args):
        return self.run.child(*args)

    def combine(self, *args):
        return self.run.combine(*args)

    def new_promise(self, *args):
        return self.run.new_promise(*args)

    def promise_resolve(self, *args):
        return self.run.promise_resolve(*args)

    def promise_reject(self, *args):
        return self.run.promise_reject(*args)

    def tick(self) -> None:
        self.run.tick()

    def record(self) -> dict:
        """This frame as the snapshot stores it (JS values only)."""
        return {"fn": float(self.fid), "state": float(self.state), "L": self.L, "C": self.completions,
                "E": self.env, "P": self.promise, "W": self.waits}


class Run(Commands):
    """One activation of a code-shape-6 run: the `S` of plain functions, the job queue, the frames."""

    __slots__ = ("initial_budget", "settled", "functions", "info", "jobs", "frames", "next_id", "main", "result",
                 "leaves", "rejections", "rejection_lines", "depth", "outcome", "growing", "seq_from", "resumable",
                 "suspended")

    def __init__(self, module, run_id: str, scheduler, budget: int, settled: dict):
        super().__init__(module, run_id, scheduler, budget)
        self.initial_budget = budget
        self.settled = settled
        self.functions = module.FUNCTIONS
        self.info = module.FUNCTION_INFO
        self.jobs: deque = deque()
        self.frames: dict[int, Frame] = {}  # async function calls in flight
        self.next_id = 1
        self.main: Frame | None = None
        self.result: _js.Promise | None = None  # the body's, when it returned a promise
        self.leaves: dict[str, _js.Promise] = {}  # pending task/timer/signal/child promises by await key
        self.rejections: list[_js.Promise] = []  # rejected promises nothing handles (yet)
        self.rejection_lines: dict[int, int] | None = None
        self.depth = 0
        self.outcome: tuple | None = None  # ("ok"|"err", value, line) once the body has finished
        # the slots whose arrays are the only containers the body can change (execution/effects.py), while no job
        # but a resumption ran (a thenable's `then` could change anything)
        self.growing: frozenset | None = getattr(module, "GROWING", None)
        self.resumable = False  # whether the next step may continue this Run (again): its snapshot is the usual one
        self.suspended = None  # a resumable Run's body generator, stopped at its await, which `again` continues

    # -- commands --------------------------------------------------------------------------
    @property
    def inputs(self):
        return self.main.L["Inputs"]

    def leaf(self, kind: str, key: str) -> _js.Promise:
        p = self.leaves[key] = _js.Promise(kind, key, None, None, P.PENDING, _js.UNDEFINED, [])
        return p

    def combine(self, kind: str, items=_js.UNDEFINED) -> _js.Promise:
        return P.combine(self, kind, items)

    def new_promise(self, executor=_js.UNDEFINED) -> _js.Promise:
        return P.new_promise(self, executor)

    def promise_resolve(self, value=_js.UNDEFINED) -> _js.Promise:
        return P.promise_resolve(self, value)

    def promise_reject(self, reason=_js.UNDEFINED) -> _js.Promise:
        return P.promise_reject(self, reason)

    # -- what promises.py asks of the run -------------------------------------------------------
    def enqueue(self, job) -> None:
        self.jobs.append(job)

    def unhandled(self, p: _js.Promise) -> None:
        self.rejections.append(p)

    def handled(self, p: _js.Promise) -> None:
        if p in self.rejections:
            self.rejections.remove(p)

    def rejected_at(self, p: _js.Promise, exc: _js.JSThrow, frame: Frame | None = None) -> None:
        """Remember where a promise's rejection was thrown (the error of an unhandled rejection names it)."""
        state = frame.state if frame is not None else (self.main.state if self.main else 0)
        if self.rejection_lines is None:
            self.rejection_lines = {}
        self.rejection_lines[id(p)] = getattr(exc, "thrown_at", None) or _located(
            self.module, exc.__traceback__, state)["line"]

    def call(self, fn, args):
        return _js.call(fn, args, "")

    def finish(self, ok: bool, value) -> None:
        if self.outcome is None:
            self.outcome = ("ok" if ok else "err", value, None)

    # -- calls -----------------------------------------------------------------------------------
    def invoke(self, fn: _js.JSClosure, args: list):
        """Call a function of the workflow: a plain one runs here; an async one starts a frame."""
        if self.depth >= MAX_CALL_DEPTH:
            raise _js.range_error("Maximum call stack size exceeded")
        self.depth += 1
        try:
            kind = self.info[fn.fid][2]
            if kind == "plain":
                return self.functions[fn.fid](self, fn.env, args)
            if kind == "async":
                return self.start(fn, args)
            return self.run_frame(fn, args)
        except RecursionError:
            raise _js.range_error("Maximum call stack size exceeded") from None
        finally:
            self.depth -= 1

    def start(self, fn: _js.JSClosure, args: list) -> _js.Promise:
        """An async function call: a frame that runs now, up to its first await; its promise is returned."""
        frame = Frame(self, fn.fid, self.next_id, self.info[fn.fid][3], _js.Locals(), fn.env, args)
        self.next_id += 1
        frame.promise = P.deferred("async")
        self.frames[frame.id] = frame
        self.step(frame)
        return frame.promise

    def run_frame(self, fn: _js.JSClosure, args: list):
        """A function that never awaits but needs states: its machine runs to the end, here."""
        frame = Frame(self, fn.fid, 0, self.info[fn.fid][3], {}, fn.env, args)
        gen = self.functions[fn.fid](frame, frame.L)
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
        raise AssertionError("a function without awaits yielded")

    # -- frames ------------------------------------------------------------------------------------
    def step(self, frame: Frame) -> None:
        """Run a frame until it awaits or ends."""
        if frame.gen is None:
            code = self.module.body if frame.id == 0 else self.functions[frame.fid]
            frame.gen = code(frame, frame.L)
        try:
            awaited = next(frame.gen)
        except StopIteration as stop:
            frame.gen = None
            self.returned(frame, stop.value)
            return
        except _js.JSThrow as e:
            frame.gen = None
            self.threw(frame, e)
            return
        frame.args = None
        if len(self.trail) < MAX_TRAIL:
            self.trail.append(frame.state)
        if type(awaited) is _js.Promise and awaited.state == P.PENDING:  # the usual case, inline
            frame.waits = awaited
            awaited.reactions.append(["resume", float(frame.id)])
            if awaited.key is not None:
                self.leaves[awaited.key] = awaited
            return
        frame.waits = waits = P.promise_resolve(self, awaited)
        P.then(self, waits, ["resume", float(frame.id)])

    def resume(self, frame_id: int, ok: bool, value) -> None:
        frame = self.main if frame_id == 0 else self.frames.get(frame_id)
        if frame is None:  # pragma: no cover - a frame ends only once
            return
        if ok:
            frame.value, frame.error = value, NO_ERROR
        else:
            frame.value, frame.error = _js.UNDEFINED, value
        frame.waits = None
        self.step(frame)

    def returned(self, frame: Frame, value) -> None:
        if frame.id == 0:  # (its state stays the return's, which an error about the result names)
            if type(value) is _js.Promise:  # `return promise` adopts it: the run ends when it settles
                frame.state = DONE
                self.result = P.deferred("async")
                frame.waits = self.result
                P.resolve(self, self.result, value)
                P.then(self, self.result, ["result"])
            else:
                self.outcome = ("ok", value, None)
            return
        del self.frames[frame.id]
        P.resolve(self, frame.promise, value)

    def threw(self, frame: Frame, exc: _js.JSThrow) -> None:
        if frame.id == 0:
            line = getattr(exc, "thrown_at", None)
            self.outcome = ("err", exc.value, (exc, line))
            return
        del self.frames[frame.id]
        self.rejected_at(frame.promise, exc, frame)
        P.reject(self, frame.promise, exc.value)

    def cancel(self, error: _js.JSError) -> None:
        """Throw `error` at the await the body is stopped at (a body that returned a promise fails with it)."""
        main = self.main
        if main.state == DONE:
            self.outcome = ("err", error, None)
            return
        p = main.waits
        if type(p) is _js.Promise and p.reactions:
            p.reactions = [r for r in p.reactions if r != ["resume", 0.0]]
        main.waits = None
        self.enqueue((["resume", 0.0], False, error))

    def release(self) -> None:
        """Drop the references that make cycles (run ↔ frames ↔ generators), so the activation's objects
        are freed at once rather than by the garbage collector; a resumable Run keeps its body's frame and
        generator (apart: the frame no longer refers to either) and nothing of the caller's (the scheduler, the
        results given)."""
        if self.resumable:
            main = self.main
            self.suspended, main.gen = main.gen, None
            main.run = main.task = None
            self.scheduler = self.settled = None
            return
        for frame in [self.main, *self.frames.values()]:
            if frame is not None:
                frame.gen = None
                frame.run = None
        self.main, self.frames, self.jobs = None, {}, deque()

    def again(self, run_id: str, scheduler, budget: int, settled: dict, data: dict) -> None:
        """Set this Run up for its run's next step, from the snapshot its own activation made (the usual one:
        the body awaits one leaf promise, see `snapshot`), as `load` would build it: the body's frame, its
        values (values.reuse_activation's) and the awaited promise stay; what an activation counts is new."""
        self.run_id, self.scheduler, self.budget, self.initial_budget = run_id, scheduler, budget, budget
        self.settled, self.trail, self.routes, self.rejection_lines = settled, [], [], None
        self.next_id = 1  # (the usual snapshot has no "N": no frame in flight)
        self.growing, self.resumable = getattr(self.module, "GROWING", None), False
        main = self.main
        main.run, main.task, main.trail, main.routes, main.args = self, self.task, self.trail, self.routes, None
        main.gen, self.suspended = self.suspended, None  # (at the await: resuming it runs what a new one would)
        main.value, main.error, main.thrown, main.retval = _js.UNDEFINED, NO_ERROR, _js.UNDEFINED, _js.UNDEFINED
        main.waits.reactions.append(["resume", 0.0])  # (implied, see the module docstring)
        self.look_for_settled(data)

    # -- the activation -------------------------------------------------------------------------------
    def load(self, snapshot: dict, data: dict) -> bool:
        """Rebuild the frames from a snapshot; True when the run has not started yet."""
        self.main = main = Frame(self, 0, 0, snapshot["state"], data["L"])
        main.completions = data["C"]
        main.waits = data.get("W")
        fresh = main.state == 0 and main.waits is None  # (after its first await the body is past state 0)
        if main.state == DONE and type(main.waits) is _js.Promise:
            self.result = main.waits
        for key, rec in (data.get("F") or {}).items():
            frame = Frame(self, int(rec["fn"]), int(key), int(rec["state"]), rec["L"], rec["E"])
            frame.completions, frame.promise, frame.waits = rec["C"], rec["P"], rec["W"]
            self.frames[frame.id] = frame
        self.next_id = int(data.get("N", 1))
        leaves = self.leaves
        for frame in (main, *self.frames.values()) if self.frames else (main,):
            p = frame.waits
            if type(p) is _js.Promise and (p.state == P.PENDING or p.state == P.LOCKED):
                resume = ["resume", float(frame.id)]
                if self.result is not p and (not p.reactions or resume not in p.reactions):
                    p.reactions.append(resume)  # implied (see the module docstring)
                if p.key is not None and p.state == P.PENDING:
                    leaves[p.key] = p
        for p in data.get("H") or ():  # what the run reacts to: usually where every settlement goes
            if p.state == P.PENDING:
                leaves[p.key] = p
        self.look_for_settled(data)
        return fresh

    def look_for_settled(self, data: dict) -> None:
        """Make every pending leaf promise of `data` a leaf of this activation if a result given is for one
        that is not (a promise kept in a variable, say)."""
        leaves = self.leaves
        for key in self.settled:
            if key not in leaves:
                for p in _promises(data):
                    if p.key is not None and p.state == P.PENDING:
                        leaves[p.key] = p
                return

    def resume_awaited(self) -> bool:
        """The usual step's first settlement, as `loop` would take it without the job queue: the body alone
        awaits a leaf promise, which the one result given fulfills (its only reaction resumes the body).
        True if it did: no other result was given."""
        main, settled = self.main, self.settled
        p = main.waits
        if len(settled) != 1 or type(p) is not _js.Promise or p.key not in settled or self.jobs \
                or self.leaves.get(p.key) is not p or p.reactions != [["resume", 0.0]]:
            return False
        s = settled[p.key]
        if not s.ok:
            return False
        del self.leaves[p.key]
        p.state, p.value, p.reactions = P.FULFILLED, s.value, []
        self.budget -= 1  # (the resumption's job, as drain counts it)
        if self.budget < 0:
            raise BudgetExceeded()
        main.value, main.error, main.waits = s.value, NO_ERROR, None
        self.step(main)
        return True

    def next_settlement(self) -> str | None:
        """The await key of the earliest settlement that a pending promise of this run is waiting for."""
        best, first = None, None
        leaves = self.leaves
        for key, s in self.settled.items():
            p = leaves.get(key)
            if p is not None and p.state == P.PENDING and (best is None or s.seq < best):
                best, first = s.seq, key
        return first

    def loop(self, fresh: bool) -> None:
        if fresh:
            self.step(self.main)
        elif self.resume_awaited() and not self.jobs and not self.rejections and len(self.settled) == 1:
            return  # (the body ran to its next await or its end, and no result came since: a signal sent before
            # the body waited for it is added to `settled` by the scheduler)
        while True:
            self.drain()
            if self.outcome is not None:
                return
            if self.rejections:  # Node's unhandled rejection: the run fails with the reason
                p = self.rejections[0]
                self.outcome = ("err", p.value, (None, (self.rejection_lines or {}).get(id(p))))
                return
            key = self.next_settlement()
            if key is None:
                return
            p, s = self.leaves.pop(key), self.settled[key]
            if s.ok:
                p.state, p.value = P.FULFILLED, s.value  # (a leaf: nothing to follow, never unhandled)
                reactions, p.reactions = p.reactions, []
                self.jobs.extend((r, True, s.value) for r in reactions)
            else:
                P.reject(self, p, s.value)

    def drain(self) -> None:
        jobs = self.jobs
        while jobs and self.outcome is None:
            self.budget -= 1
            if self.budget < 0:
                raise BudgetExceeded()
            job = jobs.popleft()
            reaction = job[0]
            if reaction[0] == "resume":
                self.resume(int(reaction[1]), job[1], job[2])
            else:
                self.growing = None
                P.run_job(self, job)

    def seq_text(self, L: _js.Locals) -> str:
        """acyclic_json_text of the await counters (Commands._key), from the text the step this one resumes
        wrote them as (kept with the body's warm locals, `Locals.seq`) when that is known: after the usual
        one await, that text with one entry added (a new site) or rewritten (the only one) is the same."""
        seq, memo = self.seq, L.seq
        size, text = len(seq), None
        try:
            total = sum(seq.values())  # (_key counts one more await per call: one call if it grew by one)
        except TypeError:  # (not counters: a snapshot made by hand)
            L.seq = None
            return _json_text(seq)
        if memo is not None and memo[0] is self.seq_from and total == memo[3] + 1:
            if size == memo[2] + 1:  # at a new site: the last entry, 1
                text = f'{memo[1][:-1]}{"," if size > 1 else ""}{encode_basestring_ascii(next(reversed(seq)))}:1}}'
            elif size == 1:
                [(site, n)] = seq.items()
                text = f"{{{encode_basestring_ascii(site)}:{_number_text(n)}}}"
        if text is None:
            text = _json_text(seq)
        L.seq = (seq, text, size, total)
        return text

    def snapshot(self, live: set, texts: dict) -> tuple[dict, dict, list[str], str | None]:
        """(snapshot, its roots, the await keys that should wake the run, its JSON text if written here);
        `live` receives the await keys of the unsettled task/timer/signal/child promises it reaches, `texts`
        encode_snapshot's."""
        main = self.main
        p = main.waits
        if not self.frames and len(self.leaves) == 1 and type(p) is _js.Promise and p.key in self.leaves \
                and p.reactions == [["resume", 0.0]]:  # the usual case: the body awaits one task, timer, …
            p.reactions = []
            self.resumable = True
            L = main.L
            roots = {"L": L, "W": p, "C": main.completions}
            if type(L) is _js.Locals and L.lists is not None and not main.completions:  # a warm step's locals
                body = _js.encode_body(L, p, live, self.growing)
                if body is not None:
                    data, text = body
                    return ({"state": main.state, "data": data, "seq": self.seq}, roots, [p.key],
                            f'{{"state":{_number_text(main.state)},"data":{text},"seq":{self.seq_text(L)}}}')
            snap = {"state": main.state, "data": _js.encode_snapshot(roots, live, texts, self.growing), "seq": self.seq}
            return snap, roots, [p.key], None
        frames = [self.main, *(f for _i, f in sorted(self.frames.items()))]
        awaited = set()
        for frame in frames:
            p = frame.waits
            if type(p) is _js.Promise and p.reactions == [["resume", float(frame.id)]]:
                p.reactions = []  # implied by the frame's W (load() puts it back)
                awaited.add(id(p))
        held, waking = [], []
        for key, p in self.leaves.items():
            if p.state == P.PENDING and (id(p) in awaited or any(P.effective(r) for r in p.reactions)):
                waking.append(key)
                if id(p) not in awaited:
                    p.reactions = [r for r in p.reactions if P.effective(r)]
                    held.append(p)
        roots = {"L": self.main.L, "W": self.main.waits, "C": self.main.completions}
        if self.frames:
            roots["F"] = {str(f.id): f.record() for f in frames[1:]}
        if held:
            roots["H"] = held
        if self.next_id > 1:
            roots["N"] = float(self.next_id)
        snap = {"state": self.main.state, "data": _js.encode_snapshot(roots, live, texts, self.growing), "seq": self.seq}
        return snap, roots, waking, None


def _number_text(state) -> str:
    """acyclic_json_text of a state (an int, unless a hand-made snapshot says otherwise)."""
    return int.__repr__(state) if type(state) is int else _json_text(state)


def _promises(data) -> list[_js.Promise]:
    """Every promise reachable from snapshot data."""
    out, seen, stack = [], set(), [data]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is float or t is str or t is bool or v is None:
            continue
        if id(v) in seen:
            continue
        seen.add(id(v))
        if t is _js.Promise:
            out.append(v)
            stack.extend(v.items or ())
            stack.append(v.value)
            stack.extend(v.reactions or ())
        elif t is list:
            stack.extend(v)
        elif t is dict or t is _js.Env or t is _js.Locals:  # (a Locals' kept slots hold no promise)
            stack.extend(v.values())
        elif t is _js.JSClosure:
            stack.append(v.env)
        elif t is _js.JSError:
            stack.extend(v.props.values())
            stack.extend((v.hidden or {}).values())
        elif t is _js.JSFunction:
            stack.append(v.this)
    return out


def activate(module, snapshot: dict, settled: dict, run_id: str, scheduler, budget: int,
             max_snapshot: int = MAX_SNAPSHOT_BYTES, cancel: _js.JSError | None = None,
             data: dict | None = None) -> Outcome:
    """Run from `snapshot` until the workflow ends or nothing it waits for has settled.

    `cancel`: thrown at the body's await (see machine.activate); async functions in flight are left
    waiting where they are, as in JavaScript nothing else would tell them. `data`: as machine.activate's
    (decode_activation's output, or values.reuse_activation's)."""
    if data is None:
        data = _js.decode_activation(snapshot["data"])
    run = data.get("run") if cancel is None else None  # (warm.reusable's: this run's previous activation)
    if run is not None and run.module is module and run.main.L is data["L"] and run.main.waits is data["W"]:
        run.again(run_id, scheduler, budget, settled, data)
    else:
        run = Run(module, run_id, scheduler, budget, settled)
    run.seq_from = snapshot.get("seq", {})
    run.seq = dict(run.seq_from)
    previous = enter(run)
    try:
        fresh = run.load(snapshot, data) if run.main is None else False
        if cancel is not None and not fresh:
            run.cancel(cancel)
        outcome = _activate(run, fresh, max_snapshot)
        outcome.trail, outcome.routes = run.trail, run.routes
        if outcome.status == "failed" and outcome.error.get("type") != "SnapshotTooLarge":
            outcome.failed_locals = run.main.L
    finally:
        leave(previous)
        run.release()
    return outcome


def _activate(run: Run, fresh: bool, max_snapshot: int) -> Outcome:
    module = run.module
    state = lambda: run.main.state  # noqa: E731
    try:
        run.loop(fresh)
    except BudgetExceeded as e:
        info = _located(module, e.__traceback__, state())
        info.update(message=f"the workflow ran {run_budget(run):,} steps without an await "
                            f"(an endless loop?) at {info['file']}:{info['line']}", type="StepBudgetExceeded")
        return Outcome("failed", error=info, state=state())
    except _js.RegexTimeout as e:
        info = _located(module, e.__traceback__, state())
        info.update(message=f"the regular expression {e} took longer than {e.seconds:g} s to match "
                            f"(catastrophic backtracking?) at {info['file']}:{info['line']}", type="RegexTimeout")
        return Outcome("failed", error=info, state=state())
    except RecursionError as e:
        return _too_deep(module, e.__traceback__, state())
    except Exception as e:  # a Rhythm bug surfacing in generated code: fail this run, clearly
        info = _located(module, e.__traceback__, state())
        info.update(message=f"Rhythm failed while running the workflow: {type(e).__name__}: {e}; "
                            f"this is a bug in Rhythm, please report it", type="InternalError")
        return Outcome("failed", error=info, state=state())
    if run.outcome is not None:
        status, value, where = run.outcome
        if status == "ok":
            return _completed(value, run.main, module)
        exc, line = where if where is not None else (None, None)
        error = error_info(module, value, exc.__traceback__ if exc is not None else None, state())
        error["line"] = line or error["line"]
        return Outcome("failed", error=error, state=state())
    live: set[str] = set()
    texts: dict = {}
    try:
        snap, roots, waiting, text = run.snapshot(live, texts)
        if text is None:
            text = snapshot_text(snap, texts)
    except RecursionError as e:
        return _too_deep(module, e.__traceback__, state())
    if len(text) > max_snapshot:
        return Outcome("failed", error=_too_large(module, state(), waiting, len(text), max_snapshot), state=state())
    return Outcome("suspended", snapshot=snap, waiting=waiting, state=state(), roots=roots, snapshot_json=text,
                   live_keys=live, run=run if run.resumable else None)


def run_budget(run: Run) -> int:
    return run.initial_budget


def _invoke(fn, args):
    return current().invoke(fn, args)


def _describe(fn) -> tuple[str, int, str]:
    run = current_or_none()
    if run is None or fn.fid not in run.info:
        return "", 0, "function () { [native code] }"
    name, _line, _kind, _first, params = run.info[fn.fid]
    shown = "" if name == "anonymous" else name
    return shown, params, f"function {shown}() {{ [code] }}"


_js.JSClosure.invoke = staticmethod(_invoke)
_js.JSClosure.describe = staticmethod(_describe)
