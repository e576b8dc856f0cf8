"""A run's decoded state kept between its steps (execution/warm.py) changes nothing a run does: every
conformance program takes the very same steps with it as without it (snapshots, await keys, outcome),
and the kept values are used only for the exact snapshot they were encoded as."""

from __future__ import annotations

import json
import random
import types
import uuid

import pytest

from conformance import support, tasks  # tests/conformance, next to this file
from rhythm_compiler import compile_source
from rhythm_runtime import values as _js
from rhythm_runtime.api import testing
from rhythm_runtime.execution.activation import activate
from rhythm_runtime.execution.machine import Settlement, new_snapshot
from rhythm_runtime.execution.modules import load_module
from rhythm_runtime.execution.values import global_objects, snapshot as snapshot_codec
from rhythm_runtime.execution.values.collections import _map_set, _set_add
from rhythm_runtime.execution.warm import WarmStates, reusable

PROGRAMS = support.program_paths()


def steps_of(program, monkeypatch, warm: WarmStates | None) -> list:
    """Every activation of `program` (and its children) in-process: (run, resumed-from snapshot text,
    status, new snapshot text, await keys it waits on, await keys it reaches, output, error)."""
    trace = []
    inner = activate

    def recording(module, snapshot, settled, run_id, scheduler, *args, **kwargs):
        before = json.dumps(snapshot)
        outcome = inner(module, snapshot, settled, run_id, scheduler, *args, **kwargs)
        live = sorted(outcome.live) if outcome.status == "suspended" else None
        trace.append((run_id, before, outcome.status, outcome.snapshot_json, outcome.waiting, live,
                      json.dumps(outcome.output), outcome.error))
        return outcome

    monkeypatch.setattr(testing, "activate", recording)
    monkeypatch.setattr(global_objects, "time", types.SimpleNamespace(time_ns=lambda: 1_700_000_000_000_000_000))
    random.seed(1)  # (Math.random) the same draws in both runs
    # (crypto.randomUUID draws from the OS, as it must; here from the seeded generator, the same in both runs)
    monkeypatch.setattr(global_objects, "uuid", types.SimpleNamespace(
        uuid4=lambda: uuid.UUID(int=random.getrandbits(128), version=4)))
    monkeypatch.setattr(testing.InProcessWorld, "warm", warm)
    source = program.read_text(encoding="utf-8")
    inputs, signals = support.parse_header(source)
    result = testing.run_workflow(source, inputs=inputs, tasks=tasks.make_tasks(),
                                  workflows=support.child_workflows(), signals=signals)
    trace.append(("result", result.status, json.dumps(result.output), result.error))
    return trace


def test_every_conformance_program_steps_the_same_with_kept_states(monkeypatch):
    warm = WarmStates()
    firsts = 0
    for program in PROGRAMS:
        cold = steps_of(program, monkeypatch, None)
        assert steps_of(program, monkeypatch, warm) == cold, program
        firsts += sum(1 for step in cold if step[0] != "result" and json.loads(step[1])["state"] == 0)
    # every activation but a run's first (no snapshot yet) and a cancel's resumed from its kept state
    assert warm.misses == firsts and warm.hits > 800, (warm.hits, warm.misses, firsts)


def _random_value(rng: random.Random, pool: list, depth: int = 0):
    """A JS value with sharing (`pool` holds containers made so far), Maps, Sets, errors, closures,
    environments, regular expressions, undefined, NaN and -0."""
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        return rng.choice(["s", "$", 1.5, 0.0, -0.0, float("nan"), float("inf"), True, None, _js.UNDEFINED, 7.0])
    if pool and roll < 0.45:
        return rng.choice(pool)  # shared (or a cycle)
    kind = rng.choice(["list", "dict", "dollar", "map", "set", "error", "closure", "regexp"])
    if kind == "list":
        v = []
        pool.append(v)
        v.extend(_random_value(rng, pool, depth + 1) for _ in range(rng.randrange(4)))
    elif kind in ("dict", "dollar"):
        v = {"$": 1.0} if kind == "dollar" else {}
        pool.append(v)
        for i in range(rng.randrange(4)):
            v[f"k{i}"] = _random_value(rng, pool, depth + 1)
    elif kind == "map":
        v = _js.JSMap()
        pool.append(v)
        for i in range(rng.randrange(3)):
            _map_set(v, [f"k{i}", _random_value(rng, pool, depth + 1)])
    elif kind == "set":
        v = _js.JSSet()
        pool.append(v)
        for i in range(rng.randrange(3)):
            _set_add(v, [_random_value(rng, pool, depth + 1)])
    elif kind == "error":
        v = _js.JSError("TypeError", "bad", {"code": _random_value(rng, pool, depth + 1)})
        pool.append(v)
    elif kind == "closure":
        env = _js.Env({"x": _random_value(rng, pool, depth + 1)})
        pool.append(env)
        v = _js.JSClosure(rng.randrange(3), env)
        pool.append(v)
    else:
        v = _js.JSRegExp("a+", "g", rng.choice([0.0, 2.0]))
        pool.append(v)
    return v


@pytest.mark.parametrize("seed", range(300))
def test_reused_values_encode_as_the_decoded_ones(seed):
    """reuse_activation gives what decode_activation gives: three steps in a row, each reading some slots
    and writing others, encode to the same text from either (shared references and kept slots included)."""
    rng = random.Random(seed)
    pool: list = []
    slots = {f"v{i}": _random_value(rng, pool) for i in range(rng.randrange(1, 7))}
    frame = {"fn": 1.0, "state": 2.0, "L": _js.Locals(dict(list(slots.items())[::2])), "C": {}, "E": None,
             "P": _js.Promise("async", None, None, None, "pending", _js.UNDEFINED, []), "W": None}
    roots = {"L": _js.Locals(slots), "W": _js.Promise("task", "1.1", None, None, "pending", _js.UNDEFINED, []),
             "C": {}, "F": {"1": frame}, "N": 2.0}
    data = _js.encode_snapshot(roots)
    for step in range(3):
        text = json.dumps(data)
        reused, decoded = _js.reuse_activation(roots, data), _js.decode_activation(json.loads(text))
        names = sorted(set(reused["L"]) | set(reused["L"].kept))
        touched = rng.sample(names, rng.randrange(len(names) + 1))
        encoded = []
        for values in (reused, decoded):
            for name in touched:  # a read (a kept slot is decoded), then a write of a new slot
                values["L"][name]
            values["L"][f"new{step}"] = [values["L"][touched[0]]] if touched else 1.0
            encoded.append(_js.encode_snapshot(values))
        assert json.dumps(encoded[0]) == json.dumps(encoded[1]), (seed, step, text)
        roots, data = reused, encoded[0]


def _module(source: str):
    return load_module(compile_source(source, "warm.flow", fmt=False).code, "warm")


def test_kept_values_are_given_only_for_their_very_snapshot_and_stamp():
    module = _module('const a = await Task.run("t", { n: 1 })\nconst b = await Task.run("t", { n: 2 })\n'
                     'return a.n + b.n\n')
    keys = []
    outcome = activate(module, new_snapshot({}), {}, "r", lambda kind, key, spec: keys.append(key))
    warm = WarmStates()
    warm.keep("r", 1, outcome.snapshot, outcome.snapshot_json, reusable(outcome))
    stored = warm.loads(outcome.snapshot_json.encode())
    assert stored is outcome.snapshot  # the exact text: not parsed again
    assert warm.loads(outcome.snapshot_json.replace('"', ' "', 1).encode()) == outcome.snapshot  # other text: parsed
    assert warm.take("r", 2, stored) is None  # another stamp (the run moved on elsewhere): dropped
    assert warm.take("r", 1, stored) is None and warm.misses == 2 and not warm.runs
    warm.keep("r", 1, outcome.snapshot, outcome.snapshot_json, reusable(outcome))
    assert warm.take("r", 1, json.loads(outcome.snapshot_json)) is None  # a copy read from elsewhere
    warm.keep("r", 1, outcome.snapshot, outcome.snapshot_json, data := reusable(outcome))
    assert warm.take("r", 1, stored) is data and warm.hits == 1
    assert warm.take("r", 1, stored) is None  # taken once: an activation changes it
    twin = json.loads(outcome.snapshot_json)  # another run in the same state: the same text
    warm.keep("r", 1, outcome.snapshot, outcome.snapshot_json, reusable(outcome))
    warm.keep("r2", 1, twin, outcome.snapshot_json, twin_data := reusable(outcome))
    assert warm.loads(outcome.snapshot_json.encode()) is outcome.snapshot  # the first kept with that text
    assert warm.take("r2", 1, outcome.snapshot) is twin_data  # the row of r2 holds that very text
    assert warm.take("r", 1, stored) is not None
    settled = {keys[-1]: Settlement(1, True, {"n": 1.0})}
    resumed = activate(module, stored, settled, "r", lambda kind, key, spec: keys.append(key), data=data)
    assert resumed.snapshot_json == activate(module, stored, settled, "r", lambda *a: None).snapshot_json


def test_runs_in_the_same_state_each_find_their_values_as_the_first_kept_of_their_text_leaves():
    """Runs in lockstep keep the same text: `loads` gives the first kept one's dict for it, and when that run
    moves on, the next one's; each run's values are found for either, and never for a dict `loads` gave
    before the first one left (it may be changed by its own run's activation now)."""
    warm = WarmStates()
    snapshots = [{"state": 1} for _ in range(3)]
    for i, snapshot in enumerate(snapshots):
        warm.keep(f"r{i}", 1, snapshot, '{"state":1}', {"i": i})
    first = warm.loads(b'{"state":1}')
    assert first is snapshots[0]
    assert warm.take("r1", 1, first) == {"i": 1}  # r1's row holds the same text as r0's
    assert warm.take("r0", 1, first) == {"i": 0}  # r0 moved on: r2 is the first kept of that text now
    assert warm.loads(b'{"state":1}') is snapshots[2]
    warm.keep("r3", 1, {"state": 1}, '{"state":1}', {"i": 3})
    assert warm.take("r3", 1, first) is None  # that dict is no kept run's any more
    assert warm.take("r2", 1, warm.loads(b'{"state":1}')) == {"i": 2}
    assert not warm.runs and not warm.firsts and not warm.later and warm.loads(b'{"state":1}') == {"state": 1}


def test_memory_is_bounded():
    warm = WarmStates(max_runs=3, max_text=16 * 1000)
    for i in range(5):
        warm.keep(f"r{i}", 0, {}, "x" * 10, {})
    assert list(warm.runs) == ["r2", "r3", "r4"] and warm.size == 30
    warm.keep("big", 0, {}, "x" * 900, {})
    warm.keep("huge", 0, {}, "x" * 1001, {})  # over a sixteenth of the budget: not kept
    assert "huge" not in warm.runs and warm.size <= 1000 and "big" in warm.runs
    assert len(warm.firsts) + sum(len(e) for e in warm.later.values()) == len(warm.runs)


CHAIN = """let total = 0
for (let i = 1; i <= 5; i++) {
  total = total * 10 + await Task.run("x", i)
}
return total
"""


def test_a_worker_resumes_its_runs_from_kept_states_but_never_from_a_stale_one(db_url, monkeypatch):
    """On Postgres: each step a worker runs after its own previous step of a run resumes from the kept
    state; a step another worker ran in between leaves the kept state stale, and the next step decodes."""
    from rhythm_runtime.execution import warm
    from rhythm_runtime.execution.modules import module_hash
    from rhythm_runtime.storage.engine import Engine, InlineClaim
    from rhythm_runtime.storage.store import Store

    monkeypatch.setattr(warm, "STATES", WarmStates())  # this worker's (and its connections' json loader)
    code = compile_source(CHAIN, "chain.flow").code
    module = load_module(code, "chain")
    store = Store(db_url)
    try:
        store.register_version("chain", module.VERSION, "", code, module_hash(code))
        run_id, _ = store.start_run("chain", {})
        mine = Engine(lambda conn, name, version: module, {}, 1000)
        other = Engine(mine.modules, {}, 1000)
        other.warm = WarmStates()  # another worker process: its own kept states
        assert store.advance_one(mine) is True
        [task] = store.claim_tasks("w1", ["default"], ["x"], 1, 30.0)
        for n, engine in enumerate([mine, mine, other, mine, mine], start=1):
            assert task["payload"] == n
            taken = store.finish_task(engine, task, "w1", True, n, InlineClaim("w1", 30.0, frozenset({"x"})))
            task = (taken or store.claim_tasks("w1", ["default"], ["x"], 1, 30.0) or [None])[0]
        assert task is None and store.get_run(run_id)["output"] == 12345
        # the steps tasks 1, 2 and 5 woke resumed from this worker's kept state; task 4's found it stale
        # (task 3's step ran on the other worker) and decoded the snapshot: a stale state would lose the 3
        assert (warm.STATES.hits, warm.STATES.misses) == (3, 1)
        assert (other.warm.hits, other.warm.misses) == (0, 1)
    finally:
        store.close()


GROWING = """const results = []
let mark = ""
for (let i = 0; i < 6; i++) {
  const r = await Task.run("t", { n: i })
  results.push(r)
  mark = i === 3 ? "\\u0000k" : "x"
  if (i === 1) results[0].n = true
  if (i === 2) results[1].extra = 1
  if (i === 3) { delete results[1].extra; results[1].other = 1 }
  if (i === 4) results.push(results[2])
  if (i === 5) { results.shift(); results[0] = { ...results[0] } }
}
return [mark, results]
"""


def _warm_steps_checked_against_cold(module, result):
    """Run `module` to its end, each task settled with result(n), every step warm (from the previous one's kept
    state) and checked against the same step run cold from its stored snapshot; yield each warm outcome."""
    keys, warm = [], WarmStates()
    outcome = activate(module, new_snapshot({}), {}, "r", lambda kind, key, spec: keys.append(key))
    n = 0
    while outcome.status == "suspended":
        warm.keep("r", n, outcome.snapshot, outcome.snapshot_json, reusable(outcome))
        stored = warm.loads(outcome.snapshot_json.encode())
        settled = {keys[-1]: Settlement(n, True, result(n))}
        cold = activate(module, json.loads(outcome.snapshot_json), settled, "r", lambda *a: None)
        outcome = activate(module, stored, settled, "r", lambda kind, key, spec: keys.append(key),
                           data=warm.take("r", n, stored))
        assert outcome.snapshot_json == cold.snapshot_json and json.dumps(outcome.output) == json.dumps(cold.output)
        yield outcome
        n += 1


def test_a_list_that_grows_encodes_warm_as_cold_whatever_changes_in_it():
    """A list of flat objects kept between warm steps (values/snapshot.py, _ListMemo) reuses its encoding and
    text only while its first items are untouched: an item changed in place (1 -> true: equal in Python), a key
    added or renamed, an item pushed twice (now shared), items shifted or replaced are all seen; the string
    machine.snapshot_text marks spliced slots with, in the run's own data, leaves the text as it must be."""
    texts = []
    for outcome in _warm_steps_checked_against_cold(_module(GROWING), lambda n: {"n": float(n), "ok": True}):
        if outcome.snapshot is not None:
            assert outcome.snapshot_json == json.dumps(outcome.snapshot, separators=(",", ":"))
            texts.append(outcome.snapshot_json)
    assert outcome.output == ["x", [{"n": 1, "ok": True, "other": 1}, {"n": 2, "ok": True}, {"n": 3, "ok": True},
                                        {"n": 4, "ok": True}, {"n": 2, "ok": True}, {"n": 5, "ok": True}]]  # (node's)
    assert '{"n":true,"ok":true}' in texts[1] and '"extra":1.0' in texts[2]
    assert '"other":1.0' in texts[3] and '"extra"' not in texts[3] and '"$":"ref"' in texts[4]


PUSHED = """const results = []
let keep = null
for (let i = 0; i < 6; i++) {
  const r = await Task.run("t", { n: i })
  results.push(r)
  if (i === 2) results.push(results[0])
  if (i === 4) keep = results[1]
}
return [results.length, keep === results[1], results[0] === results[3]]
"""


def test_a_list_only_pushed_onto_encodes_warm_as_cold_when_its_items_are_reached_again():
    """In a body whose only change to a container is a push onto a list slot (execution/effects.py), a warm
    step reuses the list's encoding without comparing its items; an item pushed twice, or read into another
    slot, is still written as a shared definition and its references, as a cold step writes it."""
    module = _module(PUSHED)
    assert module.GROWING == {"results"}
    texts = []
    for outcome in _warm_steps_checked_against_cold(module, lambda n: {"n": float(n)}):
        texts.append(outcome.snapshot_json)
    assert outcome.output == [7, True, True]  # (node's)
    assert texts[5] is None and '"$":"ref"' in texts[2] and '"keep":{"$":"ref"' in texts[4]


SHARING = """let first = await Task.run("t", { n: 0 })
const pair = [first, first]
let alias = null
for (let i = 1; i < 7; i++) {
  const r = await Task.run("t", { n: i })
  if (i === 2) alias = pair
  if (i === 3) alias = r
  if (i === 4) alias = [r, r]
  if (i === 5) first = r
  if (i === 6) alias = null
}
const later = Task.run("t", { n: 7 })
const last = await later
return [pair.length, alias, first.n, last.n]
"""


def test_slots_sharing_containers_encode_warm_as_cold_when_what_shares_them_changes():
    """In a body that changes no container (execution/effects.py), a warm step writes the slots that share
    containers as the previous step did while they hold the same values (values.encode_body); a new slot
    reaching one of their containers, a slot sharing within itself, one of them given another value, and a
    promise kept in a slot and awaited are all written as a cold step writes them."""
    module = _module(SHARING)
    assert module.GROWING == frozenset()
    outcomes = list(_warm_steps_checked_against_cold(module, lambda n: {"n": float(n)}))
    texts = [outcome.snapshot_json for outcome in outcomes]
    assert outcomes[-1].output == [2, None, 5, 7]  # (node's)
    assert '"alias":{"$":"ref","id":2}' in texts[2] and '"alias":{"n":3.0}' in texts[3]
    assert '"alias":[{"$":"shared","id":2' in texts[4] and '"first":{"n":5.0},"pair":[{"$":"shared","id":1' in texts[5]
    assert '"W":{"$":"ref","id":2}' in texts[6]


FLAT = """const box = { inner: { id: "i" } }
const inner = box.inner
let note = "start"
let first = null
let twin = null
let last = null
for (let i = 0; i < 12; i++) {
  const r = await Task.run("t", { n: i, id: inner.id })
  last = r.n
  note = i % 2 ? "odd" : "even"
  if (i === 1) first = r
  if (i === 3) twin = first
  if (i === 4) twin = inner
  if (i === 5 || i === 6 || i === 8) twin = r
  if (i === 7) twin = { n: -0 }
  if (i === 9) twin = undefined
  if (i === 10) twin = "text"
}
return [note, first.n, last, twin]
"""

_FLAT_RESULTS = {2: {"n": -0.0}, 3: {"n": float("nan")}, 4: {"n": float("inf")}, 5: {"$": "x", "n": 5.0},
                 6: {"n": 6.0, "more": {"deep": True}}, 8: {"n": 8.0, "s": "a:-0.0,", "no": None, "ok": False}}


def test_a_step_that_touched_flat_values_only_encodes_warm_as_cold(monkeypatch):
    """In a body that changes no container, a warm step that read or wrote numbers, strings, booleans, nulls
    and plain objects of those alone writes its snapshot without the general encoder (values/snapshot.py,
    _flat_body); a step that left anything else in a slot it touched (-0, NaN, an infinity, an object in two
    slots or in a container of the slots that share them, one with a "$" key, a nested one, one whose text
    holds what -0 reads as, undefined) is written the general way. Warm and cold write the same text."""
    module = _module(FLAT)
    assert module.GROWING == frozenset()
    flat = []
    inner = snapshot_codec._flat_body
    monkeypatch.setattr(snapshot_codec, "_flat_body", lambda *args: flat.append(inner(*args)) or flat[-1])
    outcomes = list(_warm_steps_checked_against_cold(module, lambda n: _FLAT_RESULTS.get(n, {"n": float(n)})))
    assert outcomes[-1].output == ["odd", 1, 11, "text"]
    # (the first step writes every slot's text; then first = r; -0, NaN, infinity, first in two slots, inner's
    # container, "$", nested, {n: -0}, the text, undefined; then "text")
    assert [body is not None for body in flat] == [False, True] + [False] * 9 + [True]


COUNTED = """for (let i = 0; i < 3; i++) {
  await Task.run("t", { n: i })
}
const a = await Task.run("t", { n: 3 })
for (let i = 0; i < 2; i++) {
  await Task.run("t", { n: i })
  await Task.run("t", { n: i })
}
Task.run("t", { n: 8 })
const b = await Task.run("t", { n: 9 })
const c = await Task.run("t", { n: 10 })
return [a.n, b.n, c.n]
"""


def test_await_counters_are_written_warm_as_cold():
    """A warm step writes the snapshot's await counters ("seq") from the text the previous step wrote them as
    (frames.Run.seq_text) after one await at a new site or at the only one; anything else (a site counted
    again among others, two counted in one step, a step after one that wrote its snapshot the general way) is
    serialized whole, as a cold step does."""
    texts = []
    for outcome in _warm_steps_checked_against_cold(_module(COUNTED), lambda n: {"n": float(n)}):
        if outcome.snapshot is not None:
            assert outcome.snapshot_json == json.dumps(outcome.snapshot, separators=(",", ":"))
            texts.append(outcome.snapshot_json)
    assert outcome.output == [3, 8, 9]  # (each task settles with its step's number)
    assert [text[text.index('"seq":'):] for text in texts] == [
        '"seq":{"0":2}}', '"seq":{"0":3}}', '"seq":{"0":3,"1":1}}', '"seq":{"0":3,"1":1,"2":1}}',
        '"seq":{"0":3,"1":1,"2":1,"3":1}}', '"seq":{"0":3,"1":1,"2":2,"3":1}}', '"seq":{"0":3,"1":1,"2":2,"3":2}}',
        '"seq":{"0":3,"1":1,"2":2,"3":2,"4":1,"5":1}}', '"seq":{"0":3,"1":1,"2":2,"3":2,"4":1,"5":1,"6":1}}']
