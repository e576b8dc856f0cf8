"""Drive a generated workflow module: one activation from a snapshot to the next.

The generated `body(S, L)` is a generator over numbered states. It yields
what it awaits; this module answers from the results it was given, and when
an awaited thing has not settled it stops and returns a JSON snapshot
`(state, locals, …)`. Resuming builds a fresh generator at the saved state:
nothing is replayed. Both the in-process runner and the Postgres worker use
exactly this machine.
"""

from __future__ import annotations

import bisect
import json
import math
import sys
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring_ascii
from typing import Callable

from rhythm_runtime.execution import flowops as _flowops
from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution.durations import EXAMPLES as DURATION_EXAMPLES, parse_duration
from rhythm_runtime.execution.task_options import task_options, workflow_options

DONE = -1
# A frame's `error` when what it awaited was fulfilled: any JavaScript value, null included, may be a rejection's.
NO_ERROR = object()
DEFAULT_STEP_BUDGET = 1_000_000
# Limits on what a run may store (docs/GUARANTEES.md). Values crossing the API boundary (inputs,
# signal and task payloads, task results, a workflow's result) are refused above MAX_PAYLOAD_BYTES
# of JSON; a snapshot (everything a suspended workflow keeps) above MAX_SNAPSHOT_BYTES fails the run.
MAX_PAYLOAD_BYTES = 1_000_000
MAX_SNAPSHOT_BYTES = 10_000_000
MAX_ERROR_CHARS = 10_000  # an error message or thrown value is cut to this much (it is stored and shown)
TOO_DEEP_MESSAGE = "the workflow's data is nested too deeply (Rhythm's limit is a few hundred levels)"
# What one activation remembers for the step history: the states of the awaits it passed and the
# catch/finally routes a thrown value took, each list cut to this many entries.
MAX_TRAIL = 64
# Python frames a run may nest. A call of a workflow function costs up to about eight (a callback of a
# library method that starts an async function), so this leaves room for execution/frames.py's
# MAX_CALL_DEPTH nested calls. Python-to-Python calls use no C stack (CPython 3.11+), and a worker
# thread's default 8 MB stack holds this many resumed generators with room to spare.
RECURSION_LIMIT = 10_000
if sys.getrecursionlimit() < RECURSION_LIMIT:
    sys.setrecursionlimit(RECURSION_LIMIT)


def json_text(value) -> str:
    """Compact JSON text of JSON-ready data (what Rhythm stores, and what its limits measure)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _not_json(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json_text's C encoder made once (json.dumps sets one up per call, a few µs), without the cycle check: only for
# data built acyclic (a snapshot's encoding, to_json's output), so a step pays it for the snapshot and each payload.
_COMPACT = c_make_encoder and c_make_encoder(None, _not_json, encode_basestring_ascii, None, ":", ",", False, False,
                                             False)


def acyclic_json_text(value) -> str:
    """json_text of data known to hold no cycle."""
    return "".join(_COMPACT(value, 0)) if _COMPACT else json_text(value)


# What a slot whose text is known is replaced by for snapshot_text's one serialization (its text is then spliced
# in where this string's JSON is found; if the run's own data holds the string too, nothing is spliced).
_SPLICED = "\x00k"
_SPLICED_JSON = encode_basestring_ascii(_SPLICED)


def snapshot_text(snapshot: dict, texts: dict) -> str:
    """acyclic_json_text of a snapshot encoded with `texts` (encode_snapshot's): the slots whose JSON text is
    known already (a list that only grew since the last step, say) are spliced in, not serialized again."""
    if not texts:
        return acyclic_json_text(snapshot)
    pieces: list[str] = []
    parts = acyclic_json_text({**snapshot, "data": _marked(snapshot["data"], texts, pieces)}).split(_SPLICED_JSON)
    if len(parts) != len(pieces) + 1:  # the marker is in the run's data too
        return acyclic_json_text(snapshot)
    out = [parts[0]]
    for piece, part in zip(pieces, parts[1:]):
        out += (piece, part)
    return "".join(out)


def _marked(node: dict, texts: dict, pieces: list) -> dict:
    """`node` (a snapshot's data or a frame record) with the slots of known text as _SPLICED; their texts are
    appended to `pieces` in the order the snapshot's text holds them."""
    node = dict(node)
    for key, x in node.items():
        if key == "L":
            known = texts.get(id(x))
            if known:
                node["L"] = L = dict(x)
                for name in L:
                    text = known.get(name)
                    if text is not None:
                        pieces.append(text)
                        L[name] = _SPLICED
        elif key == "F" and x:
            node["F"] = {fid: _marked(record, texts, pieces) for fid, record in x.items()}
    return node


def json_problem(value, where: str, loose_keys: bool = False) -> str | None:
    """Where and why Python data is not JSON, e.g. "inputs['when'] is a datetime.datetime"; None if not found.

    `loose_keys`: accept the keys json.dumps turns into strings (numbers, booleans, None)."""
    stack = [(value, where)]
    seen: set[int] = set()
    while stack:
        v, path = stack.pop()
        if v is None or isinstance(v, (str, bool, int)):
            continue
        if isinstance(v, float):
            if not math.isfinite(v):
                return f"{path} is {v!r} (JSON has no NaN or Infinity)"
            continue
        if isinstance(v, (dict, list, tuple)):
            if id(v) in seen:
                return f"{path} contains itself"
            seen.add(id(v))
            if isinstance(v, dict):
                for k, x in reversed(list(v.items())):
                    if not isinstance(k, str) and not (loose_keys and (k is None or isinstance(k, (int, float)))):
                        return f"{path} has a key of type {type(k).__name__} ({k!r}); JSON keys are strings"
                    stack.append((x, f"{path}[{k!r}]"))
            else:
                stack.extend((x, f"{path}[{i}]") for i, x in reversed(list(enumerate(v))))
            continue
        kind = type(v).__name__ if type(v).__module__ == "builtins" else f"{type(v).__module__}.{type(v).__name__}"
        return f"{path} is of type {kind}"
    return None


def clip(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """`text`, cut to `limit` characters with a note of how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _checked_json(what: str, value, name=None):
    """(JSON-ready value, its JSON text) of a value a workflow hands out; RangeError above the limit (`what`,
    formatted with `name`, says which value: only then)."""
    data = _flat_json(value) if type(value) is dict else None
    if data is None:
        data = _js.to_json(value)
    text = acyclic_json_text(data)
    if len(text) > MAX_PAYLOAD_BYTES:
        raise _js.range_error(f"{what.format(name)}: {len(text):,} bytes of JSON, over the limit of "
                              f"{MAX_PAYLOAD_BYTES:,}")
    return data, text


def _flat_json(value: dict) -> dict | None:
    """to_json of the usual task payload, an object of strings, booleans, nulls and finite numbers whose keys
    are no array indexes (to_json orders those first); None for anything else."""
    out = {}
    for key, x in value.items():
        t = type(x)
        if t is float:
            if x - x != 0:
                return None
            out[key] = int(x) if x.is_integer() and -_js._MAX_SAFE <= x <= _js._MAX_SAFE else x
        elif t is str or t is bool or x is None:
            out[key] = x
        else:
            return None
        if key[:1].isdigit():
            return None
    return out


def combined_items(items) -> list:
    """What Promise.all and the other combinators walk, as for…of does (an array, a string's characters, a
    Map's or Set's items); anything else raises Node's TypeError (Promise.all(5))."""
    return list(_flowops.iterable(items, None))


class BudgetExceeded(BaseException):
    """Too many steps without an await; BaseException so a workflow `catch` can't swallow it."""


@dataclass(frozen=True)
class Settlement:
    """How a leaf promise (task, timer, signal, child) ended, and in which order."""

    seq: int
    ok: bool
    value: object


Scheduler = Callable[[str, str, dict], None]


class Commands:
    """What one activation offers generated code besides a frame's state: the workflow commands (Task.run,
    Timer.delay, …, keyed per await site), the step budget and the step trail."""

    __slots__ = ("module", "run_id", "workflow_name", "scheduler", "born", "seq", "budget", "trail", "routes",
                 "__dict__")

    def __init__(self, module, run_id: str, scheduler: Scheduler, budget: int = DEFAULT_STEP_BUDGET):
        self.module = module
        self.run_id = run_id
        self.workflow_name = module.WORKFLOW
        self.scheduler = scheduler
        self.born = -1  # the highest settlement seq this activation started with (see Promise.born)
        self.seq: dict[str, int] = {}
        self.budget = budget
        self.trail: list[int] = []  # resume states of the awaits passed (see MAX_TRAIL)
        self.routes: list[list] = []  # [from state, to state, "catch"|"finally", thrown message, .flow line]

    def passed(self, state: int) -> None:
        if len(self.trail) < MAX_TRAIL:
            self.trail.append(state)

    def leaf(self, kind: str, key: str) -> _js.Promise:
        """The promise of a command (code shapes 1-5: settled lazily, see `settle`)."""
        return _js.Promise(kind, key)

    # -- workflow commands ----------------------------------------------------------
    def _key(self, site: int) -> str:
        """Await key: (site, iteration), so a re-run never schedules twice."""
        seq, text = self.seq, str(site)
        seq[text] = n = seq.get(text, 0) + 1
        return f"{text}.{n}"

    def task(self, site: int, name=_js.UNDEFINED, payload=_js.UNDEFINED, options=_js.UNDEFINED) -> _js.Promise:
        if not isinstance(name, str):
            raise _js.type_error("Task.run: the task name must be a string")
        data, text = _checked_json("Task.run({!r}) payload", payload, name)
        spec = {"name": name, "payload": data, "payload_json": text}
        if options is not _js.UNDEFINED:
            given = task_options(name, options)
            if given:
                spec["options"] = given
        key = self._key(site)
        self.scheduler("task", key, spec)
        return self.leaf("task", key)

    def timer(self, site: int, seconds=_js.UNDEFINED) -> _js.Promise:
        secs = _js.to_number(seconds)
        if isinstance(seconds, str) and secs != secs:  # not a number: a duration such as "5m" or "1h30m"
            secs = parse_duration(seconds)
            if secs is None:
                raise _js.range_error(f"Timer.delay({json.dumps(seconds)}): not a duration; give seconds or a "
                                      f"string like {DURATION_EXAMPLES}")
        if secs != secs:
            secs = 0.0
        # Infinity waits "forever": the largest double, so that what is stored stays JSON
        secs = min(max(0.0, secs), sys.float_info.max)
        key = self._key(site)
        self.scheduler("timer", key, {"seconds": secs})
        return self.leaf("timer", key)

    def signal(self, site: int, name=_js.UNDEFINED) -> _js.Promise:
        key = self._key(site)
        self.scheduler("signal", key, {"name": _js.to_string(name)})
        return self.leaf("signal", key)

    def child(self, site: int, name=_js.UNDEFINED, inputs=_js.UNDEFINED, options=_js.UNDEFINED) -> _js.Promise:
        if not isinstance(name, str):
            raise _js.type_error("Workflow.run: the workflow name must be a string")
        data, text = ({}, "{}") if inputs is _js.UNDEFINED else _checked_json("Workflow.run({!r}) inputs",
                                                                              inputs, name)
        spec = {"name": name, "inputs": data, "inputs_json": text}
        given = workflow_options(name, options)
        if given:
            spec["options"] = given
        key = self._key(site)
        self.scheduler("child", key, spec)
        return self.leaf("child", key)

    def combine(self, kind: str, items=_js.UNDEFINED) -> _js.Promise:
        """Promise.all/any/race/allSettled over what for…of walks; anything else gives a promise rejected
        with Node's TypeError (as in JavaScript, the call itself does not throw)."""
        try:
            items = combined_items(items)
        except _js.JSThrow as e:
            return _js.Promise("rejected", None, [e.value], self.born)
        return _js.Promise(kind, None, items, self.born)

    def tick(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise BudgetExceeded()


class Frame(Commands):
    """The `S` of generated code: state, try routing, and (code shapes 1-5) the workflow commands."""

    def __init__(self, module, run_id: str, scheduler: Scheduler, budget: int = DEFAULT_STEP_BUDGET):
        super().__init__(module, run_id, scheduler, budget)
        self.state = 0
        self.completions: dict[str, list] = {}
        self.value = _js.UNDEFINED
        self.error = NO_ERROR
        self.thrown = _js.UNDEFINED
        self.retval = _js.UNDEFINED

    def routed(self, to: int, how: str, exc: _js.JSThrow, line: int) -> None:
        if len(self.routes) < MAX_TRAIL:
            value = exc.value
            message = value.message if isinstance(value, _js.JSError) else _js.to_string(value)
            self.routes.append([self.state, to, how, clip(message, 200), line])

    def thrown_line(self, exc: _js.JSThrow) -> int:
        """The `.flow` line a value was thrown at (kept across a `finally` that awaited before rethrowing it)."""
        return getattr(exc, "thrown_at", None) or _located(self.module, exc.__traceback__, self.state)["line"]

    # -- resuming and error routing (called by generated code) ------------------------
    def resume(self):
        """The awaited value, or the awaited failure raised where the await was."""
        if self.error is not NO_ERROR:
            err, self.error = self.error, NO_ERROR
            raise _js.JSThrow(err)
        value, self.value = self.value, _js.UNDEFINED
        return value

    def take_thrown(self):
        value, self.thrown = self.thrown, _js.UNDEFINED
        return value

    def catch(self, exc: _js.JSThrow) -> None:
        """Route a thrown value to the innermost catch or finally around the state."""
        s = self.state
        line = self.thrown_line(exc)
        for index in range(len(self.module.TRY_TABLE) - 1, -1, -1):
            t, c, f, a = self.module.TRY_TABLE[index]
            try_end = c if c is not None else f
            if t <= s < try_end:
                if c is not None:
                    self.routed(c, "catch", exc, line)
                    self.thrown = exc.value
                    self.state = c
                else:
                    self.routed(f, "finally", exc, line)
                    self.completions[str(index)] = ["throw", exc.value, float(line)]
                    self.state = f
                return
            if c is not None and f is not None and c <= s < f:
                self.routed(f, "finally", exc, line)
                self.completions[str(index)] = ["throw", exc.value, float(line)]
                self.state = f
                return
        raise exc

    def _finally_around(self, target: int | None) -> int | None:
        s = self.state
        for index in range(len(self.module.TRY_TABLE) - 1, -1, -1):
            t, c, f, a = self.module.TRY_TABLE[index]
            if f is not None and t <= s < f and (target is None or not t <= target < a):
                return index
        return None

    def abrupt_return(self, value) -> None:
        index = self._finally_around(None)
        if index is None:
            self.retval, self.state = value, DONE
        else:
            self.completions[str(index)] = ["return", value]
            self.state = self.module.TRY_TABLE[index][2]

    def abrupt_jump(self, target: int) -> None:
        index = self._finally_around(target)
        if index is None:
            self.state = target
        else:
            self.completions[str(index)] = ["jump", float(target)]
            self.state = self.module.TRY_TABLE[index][2]

    def end_finally(self, index: int) -> None:
        record = self.completions.pop(str(index), None)
        if record is None:
            self.state = self.module.TRY_TABLE[index][3]
        elif record[0] == "throw":
            exc = _js.JSThrow(record[1])
            if len(record) > 2:  # where it was thrown, not this `finally`'s end
                exc.thrown_at = int(record[2])
            raise exc
        elif record[0] == "return":
            self.abrupt_return(record[1])
        else:
            self.abrupt_jump(int(record[1]))


# -- settling promises ---------------------------------------------------------------------

PENDING = "pending"


def leaf_keys(p) -> list[str]:
    """Every leaf key under a promise (what a suspended run waits for)."""
    if not isinstance(p, _js.Promise):
        return []
    if p.key is not None:
        return [p.key]
    return [k for item in p.items for k in leaf_keys(item)]


def reachable_keys(root) -> set[str]:
    """Await keys of every unsettled leaf promise reachable from `root` (the rest is garbage)."""
    keys: set[str] = set()
    seen: set[int] = set()
    stack = [root]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, dict, _js.Promise, _js.JSError, _js.JSFunction, _js.JSClosure)):
            if id(v) in seen:
                continue
            seen.add(id(v))
        if isinstance(v, _js.Promise):
            if v.key is not None and v.state in (None, "pending"):
                keys.add(v.key)
            stack.extend(v.items or ())
            if v.state is not None:  # code shape 6 on: what it settled with, and what reacts to it
                stack.append(v.value)
                stack.extend(v.reactions or ())
        elif isinstance(v, _js.JSClosure):
            stack.append(v.env)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, _js.JSError):
            stack.extend(v.props.values())
            stack.extend((v.hidden or {}).values())
        elif isinstance(v, _js.JSFunction):
            stack.append(v.this)
    return keys


def waiting_keys(data: dict) -> list[str]:
    """The await keys whose settlement wakes a suspended run, from its decoded snapshot data: the leaves
    of what the body awaits (code shapes 1-5), or the task, timer, signal and child promises something
    reacts to (shape 6 on: execution/frames.py keeps them in "H")."""
    waits = [data.get("W")] + [f.get("W") for f in (data.get("F") or {}).values()]
    if any(isinstance(p, _js.Promise) and p.state is not None for p in waits) or "H" in data:
        keys = [p.key for p in data.get("H") or () if p.state == "pending"]
        for p in waits:  # what a frame awaits wakes it (its reaction is implied, see frames.py)
            if isinstance(p, _js.Promise):
                keys += [k for k in _pending_leaves(p) if k not in keys]
        return keys
    return leaf_keys(data["W"])


def _pending_leaves(p) -> list[str]:
    """The unsettled task/timer/signal/child promises a (code shape 6) promise depends on."""
    out, seen, stack = [], set(), [p]
    while stack:
        q = stack.pop()
        if not isinstance(q, _js.Promise) or id(q) in seen or q.state in ("fulfilled", "rejected"):
            continue
        seen.add(id(q))
        if q.key is not None:
            out.append(q.key)
        elif q.state == "locked":
            stack.append(q.value)
        else:
            stack.extend(reversed(q.items or ()))
    return out


def completion_records(data: dict) -> list:
    """The completion records (pending returns, throws and jumps through `finally`) of every frame."""
    records = list((data.get("C") or {}).values())
    for frame in (data.get("F") or {}).values():
        records += list((frame.get("C") or {}).values())
    return records


def settle(p, settled: dict[str, Settlement]) -> tuple[str, object, tuple]:
    """(status, value, time) of any awaited value: status 'ok', 'err' or PENDING.

    `time` orders settlements the way Node's event loop would: (settlement seq, microtask hops).
    A combinator reacts to an item one hop after the item settles; items already settled when the
    combinator was made (plain values too) all react in the first hop after its creation, in array
    order. So `Promise.race([b, a])` over two settled promises is `b`, whichever settled first."""
    if not isinstance(p, _js.Promise):
        return "ok", p, _BEFORE
    if p.key is not None:
        s = settled.get(p.key)
        if s is None:
            return PENDING, None, _BEFORE
        return ("ok" if s.ok else "err"), s.value, (s.seq, 0)
    born = -1 if p.born is None else p.born  # snapshots from before `born`: plain values first, then by seq
    if p.kind == "rejected":
        return "err", p.items[0], (born, 0)
    parts = []
    for item in p.items:
        st, v, t = settle(item, settled)
        parts.append((st, v, (born, 1) if t <= (born, 0) else (t[0], t[1] + 1)))
    return _COMBINATORS[p.kind](parts, (born, 0))


_BEFORE = (-1, 0)


def _all(parts, created):
    errors = [(t, i) for i, (st, _, t) in enumerate(parts) if st == "err"]
    if errors:
        t, i = min(errors)
        return "err", parts[i][1], t
    if any(st == PENDING for st, _, _ in parts):
        return PENDING, None, _BEFORE
    return "ok", [v for _, v, _ in parts], max([t for _, _, t in parts], default=created)


def _race(parts, created):
    done = [(t, i) for i, (st, _, t) in enumerate(parts) if st != PENDING]
    if not done:
        return PENDING, None, _BEFORE
    t, i = min(done)
    return parts[i][0], parts[i][1], t


def _any(parts, created):
    oks = [(t, i) for i, (st, _, t) in enumerate(parts) if st == "ok"]
    if oks:
        t, i = min(oks)
        return "ok", parts[i][1], t
    if any(st == PENDING for st, _, _ in parts):
        return PENDING, None, _BEFORE
    err = _js.JSError("AggregateError", "All promises were rejected", hidden={"errors": [v for _, v, _ in parts]})
    return "err", err, max([t for _, _, t in parts], default=created)


def _all_settled(parts, created):
    if any(st == PENDING for st, _, _ in parts):
        return PENDING, None, _BEFORE
    out = [{"status": "fulfilled", "value": v} if st == "ok" else {"status": "rejected", "reason": v}
           for st, v, _ in parts]
    return "ok", out, max([t for _, _, t in parts], default=created)


_COMBINATORS = {"all": _all, "race": _race, "any": _any, "allSettled": _all_settled}


# -- one activation ---------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    status: str  # "completed" | "failed" | "suspended"
    output: object = None
    error: dict | None = None
    snapshot: dict | None = None
    waiting: list[str] = field(default_factory=list)
    state: int = 0
    roots: object = None  # what the snapshot holds (locals, awaited, completions)
    live_keys: set | None = None  # `live`, found while the snapshot was encoded
    snapshot_json: str | None = None  # a new snapshot as JSON text (measured against the limit), stored as is
    trail: list = field(default_factory=list)  # Frame.trail and Frame.routes, for the step history
    routes: list = field(default_factory=list)
    failed_locals: dict | None = None  # the locals where a failed run threw (encoded on demand)
    run: object = None  # the activation's frames.Run, when the run's next step may continue it (Run.again)

    @property
    def live(self) -> set[str]:
        """Every await key the snapshot can still reach (the store drops results and signal waits of
        the others): found by the encoder, or by a walk of `roots` for a snapshot not encoded here."""
        return self.live_keys if self.live_keys is not None else reachable_keys(self.roots)

    def failure(self) -> dict | None:
        """What a failed run looked like where it failed: state, locals (snapshot-encoded) and catch routes."""
        if self.failed_locals is None:
            return None
        try:
            data = _js.encode_snapshot({"L": self.failed_locals, "W": None, "C": {}})
        except (RecursionError, _js.JSThrow):
            data = None
        return {"state": self.state, "data": data, "catches": self.routes}


def new_snapshot(inputs) -> dict:
    """The snapshot a run starts from: state 0 with Inputs in the locals."""
    return {"state": 0, "data": _js.encode_snapshot({"L": {"Inputs": _js.from_json(inputs)}, "W": None, "C": {}}), "seq": {}}


def activate(module, snapshot: dict, settled: dict[str, Settlement], run_id: str,
             scheduler: Scheduler, budget: int = DEFAULT_STEP_BUDGET,
             max_snapshot: int = MAX_SNAPSHOT_BYTES, cancel: _js.JSError | None = None,
             data: dict | None = None) -> Outcome:
    """Run from `snapshot` until the workflow ends or awaits something unsettled.

    `cancel`: an error thrown at the await the snapshot is stopped at, whatever
    it awaits, as a failed task's error would be (cancellation runs the
    workflow's catch and finally blocks; see execution/cancellation.py).
    `data`: the values `snapshot["data"]` decodes to, if the caller kept them (execution/warm.py); the
    activation changes them.

    Code shapes 1-5 only: execution/activation.py picks execution/frames.py for shape 6 on."""
    if data is None:
        data = _js.decode_snapshot(snapshot["data"])
    S = Frame(module, run_id, scheduler, budget)
    S.state = snapshot["state"]
    S.born = max((s.seq for s in settled.values()), default=-1)
    S.seq = dict(snapshot.get("seq", {}))
    S.completions = data["C"]
    L = data["L"]
    waiting = data["W"]
    if waiting is not None:
        status, value, _ = settle(waiting, settled) if cancel is None else ("err", cancel, None)
        if status == PENDING:
            return Outcome("suspended", snapshot=snapshot, waiting=leaf_keys(waiting), state=S.state,
                           roots=data)
        if S.state == DONE:  # `return promise` adopts the promise's outcome
            return _finish(module, S, status, value, None)
        _deliver(S, status, value)
    outcome = _drive(module, S, L, settled, max_snapshot)
    outcome.trail, outcome.routes = S.trail, S.routes
    if outcome.status == "failed" and outcome.error.get("type") != "SnapshotTooLarge":
        outcome.failed_locals = L
    return outcome


def _deliver(S: Frame, status: str, value) -> None:
    if status == "ok":
        S.value, S.error = value, NO_ERROR
    else:
        S.value, S.error = _js.UNDEFINED, value


def _drive(module, S: Frame, L: dict, settled, max_snapshot: int = MAX_SNAPSHOT_BYTES) -> Outcome:
    budget = S.budget
    gen = module.body(S, L)
    while True:
        try:
            awaited = next(gen)
        except StopIteration as stop:
            if not isinstance(stop.value, _js.Promise):
                return _completed(stop.value, S, module)
            S.state, awaited = DONE, stop.value  # an async function returning a promise adopts it
            status, value, _ = settle(awaited, settled)
            if status != PENDING:
                return _finish(module, S, status, value, stop.__traceback__)
        except _js.JSThrow as e:
            error = error_info(module, e.value, e.__traceback__, S.state)
            error["line"] = getattr(e, "thrown_at", None) or error["line"]
            return Outcome("failed", error=error, state=S.state)
        except BudgetExceeded as e:
            info = _located(module, e.__traceback__, S.state)
            info.update(message=f"the workflow ran {budget:,} steps without an await "
                                f"(an endless loop?) at {info['file']}:{info['line']}", type="StepBudgetExceeded")
            return Outcome("failed", error=info, state=S.state)
        except _js.RegexTimeout as e:
            info = _located(module, e.__traceback__, S.state)
            info.update(message=f"the regular expression {e} took longer than {e.seconds:g} s to match "
                                f"(catastrophic backtracking?) at {info['file']}:{info['line']}", type="RegexTimeout")
            return Outcome("failed", error=info, state=S.state)
        except RecursionError as e:
            return _too_deep(module, e.__traceback__, S.state)
        except Exception as e:  # a Rhythm bug surfacing in generated code: fail this run, clearly
            info = _located(module, e.__traceback__, S.state)
            info.update(message=f"Rhythm failed while running the workflow: {type(e).__name__}: {e}; "
                                f"this is a bug in Rhythm, please report it", type="InternalError")
            return Outcome("failed", error=info, state=S.state)
        S.passed(S.state)
        status, value, _ = settle(awaited, settled)
        if status == PENDING:
            roots = {"L": L, "W": awaited, "C": S.completions}
            live: set[str] = set()
            try:
                snap = {"state": S.state, "data": _js.encode_snapshot(roots, live), "seq": S.seq}
            except RecursionError:
                return _too_deep(module, None, S.state)
            text = acyclic_json_text(snap)
            waiting = leaf_keys(awaited)
            if len(text) > max_snapshot:
                return Outcome("failed", error=_too_large(module, S.state, waiting, len(text), max_snapshot),
                               state=S.state)
            return Outcome("suspended", snapshot=snap, waiting=waiting, state=S.state, roots=roots,
                           snapshot_json=text, live_keys=live)
        _deliver(S, status, value)


def _too_large(module, state: int, waiting: list[str], size: int, limit: int) -> dict:
    """The error of a run whose snapshot is over the limit, naming the line of the await it stopped at."""
    info = _located(module, None, state)
    sites = getattr(module, "SITES", {})
    if waiting and waiting[0].split(".")[0].isdigit():
        info["line"] = sites.get(int(waiting[0].split(".")[0]), (None, info["line"]))[1]
    info.update(type="SnapshotTooLarge", message=(
        f"the workflow's state at its await at {info['file']}:{info['line']} is {size:,} bytes of JSON, "
        f"over the limit of {limit:,} (keep large data outside the workflow and pass references)"))
    return info


def _finish(module, S: Frame, status: str, value, tb) -> Outcome:
    if status == "ok":
        return _completed(value, S, module)
    return Outcome("failed", error=error_info(module, value, tb, S.state), state=S.state)


def _too_deep(module, tb, state: int) -> Outcome:
    """The run's failure when its data is nested deeper than Python's recursion allows (docs/GUARANTEES.md),
    wherever that was met: an operation in the workflow, its result, or its snapshot."""
    info = _located(module, tb, state)
    info.update(message=TOO_DEEP_MESSAGE, type="RangeError")
    return Outcome("failed", error=info, state=state)


def _completed(value, S: Frame, module) -> Outcome:
    try:
        output, _text = _checked_json("the workflow's result", value)
        return Outcome("completed", output=output, state=S.state)
    except RecursionError:
        return _too_deep(module, None, S.state)
    except _js.JSThrow as e:  # a cycle in the returned value, or too much of it
        error = _located(module, None, S.state)
        error.update(message=_js.to_string(_js.get(e.value, "message")), type=_js.to_string(_js.get(e.value, "name")))
        return Outcome("failed", error=error, state=S.state)


def error_info(module, value, tb, state: int) -> dict:
    """A failed run's error: message and type like Node's, plus the `.flow` location."""
    info = _located(module, tb, state)
    if isinstance(value, _js.JSError):
        info.update(message=clip(value.message), type=clip(value.name, 200))
    else:
        info.update(message=clip(_thrown_message(value)), type=clip(_thrown_name(value), 200))
        try:
            data = _js.to_json(value)
        except _js.JSThrow:  # a cycle: the message has to do
            return info
        if len(json_text(data)) <= MAX_ERROR_CHARS:  # a huge thrown value is kept as its (cut) message only
            info["value"] = data
    return info


def _thrown_message(value) -> str:
    """What a thrown non-Error says: an object's string `message` (`throw { message, code }`), else String()."""
    if _is_error_like(value):
        return value["message"]
    return _js.to_string(value)


def _thrown_name(value) -> str:
    """Its string `name` beside such a `message`, else "Error"."""
    return value["name"] if _is_error_like(value) and type(value.get("name")) is str else "Error"


def _is_error_like(value) -> bool:
    return type(value) is dict and type(value.get("message")) is str


def _located(module, tb, state: int) -> dict:
    """Where an error happened: the innermost line of generated code in the traceback (the body's or a
    function's), else the line of `state`."""
    line = module.STATE_LINES.get(state, 0)
    codes = _module_codes(module)
    while tb is not None:
        if tb.tb_frame.f_code in codes:
            line = flow_line(module, tb.tb_lineno) or line
        tb = tb.tb_next
    return {"file": module.SOURCE_FILE, "line": line, "state": state}


def _module_codes(module) -> frozenset:
    codes = getattr(module, "_CODES", None)
    if codes is None:
        functions = getattr(module, "FUNCTIONS", {})
        codes = module._CODES = frozenset([module.body.__code__, *(f.__code__ for f in functions.values())])
    return codes


def flow_line(module, py_line: int) -> int:
    """Map a line of the generated module back to its `.flow` line."""
    starts, lines = module.LINE_TABLE
    i = bisect.bisect_right(starts, py_line) - 1
    return lines[i] if i >= 0 else 0


def snapshot_bytes(snapshot: dict) -> int:
    return len(json_text(snapshot))
