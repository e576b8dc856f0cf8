"""JavaScript's promises for code shape 6 on: states, reactions and jobs.

A promise holds its state ("pending", "locked" while it follows another
promise, "fulfilled", "rejected"), its value, and the reactions that run when
it settles. Settling a promise queues one job per reaction on the run's job
queue (JavaScript's microtasks); the run drains the queue before it takes the
next settlement of a task, timer, signal or child (a macrotask). That is the
ECMAScript algorithm, so `await`, async functions, `then` chains and the
combinators interleave exactly as they do in Node.

Everything here is plain data, stored in snapshots as it is: a reaction is a
list whose first element says what it does:

  ["resume", frame id]                    resume an awaiting frame (`await`)
  ["then", onFulfilled, onRejected, p]    `then`/`catch`: call the handler, resolve p with its result
  ["finally", onFinally, p]               `finally`
  ["restore", ok, value, p]               the end of `finally`: settle p as the original promise did
  ["all"|"allSettled"|"any", agg, i, p]   one element of a combinator (agg: the values so far)
  ["race", p]                             one element of Promise.race
  ["adopt", p]                            p follows this promise (p was resolved with it)
  ["result"]                              the workflow's own result promise settled

The run (execution/frames.py) provides `enqueue(job)`, `call(fn, args)`,
`resume(frame id, ok, value)`, `finish(ok, value)` and keeps the rejections
nobody handled (`unhandled`/`handled`).
"""

from __future__ import annotations

from rhythm_runtime.execution import values as _js
from rhythm_runtime.execution.machine import combined_items
from rhythm_runtime.execution.running import current

LEAVES = ("task", "timer", "signal", "child")
# Rejections that never fail the run: what a workflow starts and may leave running (fire and forget) and the
# combinators over such promises, as Rhythm always had it. Every other promise (an async function's, `new
# Promise`, `then`/`catch`/`finally`, Promise.reject) rejected with nothing to handle it fails the run once the
# current jobs have run, as an unhandled rejection ends a Node process.
FIRE_AND_FORGET = LEAVES + ("all", "any", "race", "allSettled")
PENDING, LOCKED, FULFILLED, REJECTED = "pending", "locked", "fulfilled", "rejected"


def deferred(kind: str) -> _js.Promise:
    """A new pending promise (`kind` says what made it: "async", "then", "all", "new", …)."""
    return _js.Promise(kind, None, None, None, PENDING, _js.UNDEFINED, [])


def leaf(kind: str, key: str) -> _js.Promise:
    """The promise of a task, timer, signal or child: settled when its await key's result arrives."""
    return _js.Promise(kind, key, None, None, PENDING, _js.UNDEFINED, [])


def is_settled(p: _js.Promise) -> bool:
    return p.state == FULFILLED or p.state == REJECTED


# -- settling ----------------------------------------------------------------------------------


def fulfill(run, p: _js.Promise, value) -> None:
    if is_settled(p):
        return
    p.state, p.value = FULFILLED, value
    _trigger(run, p, True, value)


def reject(run, p: _js.Promise, reason) -> None:
    if is_settled(p):
        return
    p.state, p.value = REJECTED, reason
    if not p.reactions and p.kind not in FIRE_AND_FORGET:
        run.unhandled(p)
    _trigger(run, p, False, reason)


def _trigger(run, p: _js.Promise, ok: bool, value) -> None:
    reactions, p.reactions = p.reactions, []
    for reaction in reactions:
        run.enqueue((reaction, ok, value))


def resolve(run, p: _js.Promise, value) -> None:
    """The promise resolve function: a promise (or thenable) is followed, anything else fulfills."""
    if p.state != PENDING:
        return
    if value is p:
        reject(run, p, _js.JSError("TypeError", "Chaining cycle detected for promise #<Promise>"))
        return
    if type(value) is _js.Promise:
        p.state, p.value = LOCKED, value
        run.enqueue((["thenable", p, value], True, _js.UNDEFINED))  # NewPromiseResolveThenableJob
        return
    if type(value) is dict:
        then = value.get("then", _js.UNDEFINED)
        if type(then) is _js.JSClosure or type(then) is _js.JSFunction:
            p.state, p.value = LOCKED, value
            run.enqueue((["thenable", p, value, then], True, _js.UNDEFINED))
            return
    fulfill(run, p, value)


def promise_resolve(run, value) -> _js.Promise:
    """`Promise.resolve(value)`: a promise stays itself; anything else becomes a promise for it."""
    if type(value) is _js.Promise:
        return value
    p = deferred("resolved")
    resolve(run, p, value)
    return p


def promise_reject(run, reason) -> _js.Promise:
    p = deferred("rejected")
    reject(run, p, reason)
    return p


def then(run, p: _js.Promise, reaction: list) -> None:
    """PerformPromiseThen: run `reaction` when `p` settles (at once, as a job, if it has)."""
    if p.state == FULFILLED or p.state == REJECTED:
        if p.state == REJECTED:
            run.handled(p)
        run.enqueue((reaction, p.state == FULFILLED, p.value))
    else:
        p.reactions.append(reaction)
        if p.key is not None:
            run.leaves[p.key] = p  # a task, timer, signal or child promise that now wakes the run


# -- jobs ------------------------------------------------------------------------------------


def run_job(run, job) -> None:
    reaction, ok, value = job
    kind = reaction[0]
    if kind == "resume":
        run.resume(int(reaction[1]), ok, value)
    elif kind == "then":
        handler = reaction[1] if ok else reaction[2]
        _handle(run, handler, ok, value, reaction[3])
    elif kind == "finally":
        _finally(run, reaction[1], ok, value, reaction[2])
    elif kind == "restore":
        derived = reaction[3]
        if not ok:
            reject(run, derived, value)
        elif reaction[1]:
            resolve(run, derived, reaction[2])
        else:
            reject(run, derived, reaction[2])
    elif kind in ("all", "allSettled", "any"):
        _element(run, kind, reaction[1], int(reaction[2]), reaction[3], ok, value)
    elif kind == "race":
        (resolve if ok else reject)(run, reaction[1], value)
    elif kind == "adopt":
        _unlock(run, reaction[1], ok, value)
    elif kind == "thenable":
        _thenable(run, reaction)
    elif kind == "result":
        run.finish(ok, value)
    else:  # pragma: no cover - a snapshot written by a newer Rhythm
        raise ValueError(f"unknown promise reaction {kind!r}")


def _callable(fn) -> bool:
    return type(fn) is _js.JSClosure or type(fn) is _js.JSFunction


def _handle(run, handler, ok: bool, value, derived: _js.Promise) -> None:
    if not _callable(handler):  # then(undefined, …): the value (or reason) passes through
        (resolve if ok else reject)(run, derived, value)
        return
    try:
        result = run.call(handler, [value])
    except _js.JSThrow as e:
        run.rejected_at(derived, e)
        reject(run, derived, e.value)
        return
    resolve(run, derived, result)


def _finally(run, on_finally, ok: bool, value, derived: _js.Promise) -> None:
    """`p.finally(f)`: f() runs, then (once what it returned settles) p's own outcome passes through."""
    if not _callable(on_finally):
        (resolve if ok else reject)(run, derived, value)
        return
    try:
        result = run.call(on_finally, [])
    except _js.JSThrow as e:
        run.rejected_at(derived, e)
        reject(run, derived, e.value)
        return
    inner = deferred("then")
    then(run, promise_resolve(run, result), ["restore", ok, value, inner])
    resolve(run, derived, inner)


def _unlock(run, p: _js.Promise, ok: bool, value) -> None:
    """The promise p followed settled: p is resolved (or rejected) with its outcome."""
    if p.state != LOCKED:
        return
    p.state, p.value = PENDING, _js.UNDEFINED
    if ok:
        resolve(run, p, value)
    else:
        reject(run, p, value)


def _thenable(run, reaction: list) -> None:
    """NewPromiseResolveThenableJob: p follows the promise (or thenable object) it was resolved with."""
    p, target = reaction[1], reaction[2]
    if type(target) is _js.Promise:
        then(run, target, ["adopt", p])
        return
    resolver, rejecter = _js.JSFunction("follow", p, _follow), _js.JSFunction("unfollow", p, _unfollow)
    try:
        run.call(reaction[3], [resolver, rejecter])
    except _js.JSThrow as e:
        _unlock(run, p, False, e.value)


def _follow(p, args):

    _unlock(current(), p, True, args[0] if args else _js.UNDEFINED)
    return _js.UNDEFINED


def _unfollow(p, args):

    _unlock(current(), p, False, args[0] if args else _js.UNDEFINED)
    return _js.UNDEFINED


# -- combinators ----------------------------------------------------------------------------------


def combine(run, kind: str, items) -> _js.Promise:
    """Promise.all/any/race/allSettled as the specification writes them: each item is turned into a
    promise and watched; it walks what for…of walks, and anything else gives a promise
    rejected with Node's TypeError (the call itself does not throw)."""
    derived = deferred(kind)
    try:
        items = combined_items(items)
    except _js.JSThrow as e:
        reject(run, derived, e.value)
        return derived
    derived.items = items  # what it combines (shown by inspect)
    if kind == "race":
        for item in items:
            then(run, promise_resolve(run, item), ["race", derived])
        return derived
    agg = {"values": [_js.UNDEFINED] * len(items), "left": float(len(items))}
    for i, item in enumerate(items):
        then(run, promise_resolve(run, item), [kind, agg, float(i), derived])
    if not items:
        _done(run, kind, agg, derived)
    return derived


def _element(run, kind: str, agg: dict, i: int, derived: _js.Promise, ok: bool, value) -> None:
    if is_settled(derived):
        return
    if kind == "all":
        if not ok:
            reject(run, derived, value)
            return
        agg["values"][i] = value
    elif kind == "allSettled":
        agg["values"][i] = {"status": "fulfilled", "value": value} if ok else {"status": "rejected", "reason": value}
    else:  # any
        if ok:
            resolve(run, derived, value)
            return
        agg["values"][i] = value
    agg["left"] -= 1
    if agg["left"] == 0:
        _done(run, kind, agg, derived)


def _done(run, kind: str, agg: dict, derived: _js.Promise) -> None:
    if kind == "any":
        reject(run, derived, _js.JSError("AggregateError", "All promises were rejected",
                                         hidden={"errors": agg["values"]}))
    else:
        resolve(run, derived, agg["values"])


def effective(reaction: list) -> bool:
    """Whether a reaction can still do something (a combinator that has settled ignores its elements)."""
    kind = reaction[0]
    if kind in ("all", "allSettled", "any"):
        return not is_settled(reaction[3])
    if kind in ("race", "adopt"):
        return not is_settled(reaction[1])
    return True


# -- methods of promise values and `new Promise` --------------------------------------------------


def new_promise(run, executor) -> _js.Promise:
    if not _callable(executor):
        raise _js.type_error(f"Promise resolver {_js._shown(executor)} is not a function")
    p = deferred("new")
    try:
        run.call(executor, [_js.JSFunction("resolve", p, _resolve_function),
                            _js.JSFunction("reject", p, _reject_function)])
    except _js.JSThrow as e:
        if p.state == PENDING:
            run.rejected_at(p, e)
            reject(run, p, e.value)
    return p


def _resolve_function(p, args):

    resolve(current(), p, args[0] if args else _js.UNDEFINED)
    return _js.UNDEFINED


def _reject_function(p, args):

    if p.state == PENDING:
        reject(current(), p, args[0] if args else _js.UNDEFINED)
    return _js.UNDEFINED


def _then_method(p, args):

    derived = deferred("then")
    then(current(), p, ["then", args[0] if args else _js.UNDEFINED, args[1] if len(args) > 1 else _js.UNDEFINED,
                        derived])
    return derived


def _catch_method(p, args):
    return _then_method(p, [_js.UNDEFINED, args[0] if args else _js.UNDEFINED])


def _finally_method(p, args):

    derived = deferred("then")
    then(current(), p, ["finally", args[0] if args else _js.UNDEFINED, derived])
    return derived


def install() -> None:
    """Give promise values their methods (the values layer cannot reach the run's job queue itself)."""
    _js._PROMISE_METHODS.update({"then": _then_method, "catch": _catch_method, "finally": _finally_method})
    _js._RESOLVING_FUNCTIONS.update({"resolve": _resolve_function, "reject": _reject_function,
                                     "follow": _follow, "unfollow": _unfollow})


install()
