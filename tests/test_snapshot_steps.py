"""A step writes back, untouched, the locals it did not read (the "K" slots of
values/snapshot.py), and everything it did touch is encoded again: results,
aliasing and scope exits come out as if every slot had been decoded."""

from __future__ import annotations

import json

from rhythm_compiler import compile_source
from rhythm_runtime import values as _js
from rhythm_runtime.execution.activation import activate
from rhythm_runtime.execution.machine import Settlement, new_snapshot
from rhythm_runtime.execution.modules import load_module


def run(source: str, inputs=None, first=None):
    """Run `source` to its end, each task returning {"n": its payload's n, "tags": ["t"]}, every snapshot
    through JSON text as the store keeps it. Returns (the stored snapshots, the final outcome)."""
    module = load_module(compile_source(source, "steps.flow", fmt=False).code, "steps")
    scheduled, stored, seq = [], [], 0
    snapshot = first if first is not None else new_snapshot(inputs or {})
    outcome = activate(module, snapshot, {}, "run-1", lambda kind, key, spec: scheduled.append((kind, key, spec)))
    while outcome.status == "suspended":
        stored.append(json.loads(outcome.snapshot_json))
        kind, key, spec = scheduled.pop(0)
        seq += 1
        value = {"n": spec["payload"]["n"], "tags": ["t"]} if kind == "task" else None
        settled = {key: Settlement(seq, True, _js.from_json(value))}
        outcome = activate(module, stored[-1], settled, "run-1",
                           lambda kind, key, spec: scheduled.append((kind, key, spec)))
    assert outcome.status == "completed", outcome.error
    return stored, outcome


def test_a_slot_no_step_reads_is_written_back_as_it_was():
    module = load_module(compile_source(
        'const a = await Task.run("t", { n: 1 })\n'
        'const b = await Task.run("t", { n: 2 })\n'
        'const c = await Task.run("t", { n: 3 })\n'
        'return a.n + b.n + c.n\n', "steps.flow", fmt=False).code, "steps")
    scheduled = []
    out = activate(module, new_snapshot({}), {}, "r", lambda kind, key, spec: scheduled.append(key))
    before = json.loads(out.snapshot_json)
    out = activate(module, before, {scheduled[-1]: Settlement(1, True, {"n": 1.0, "tags": ["t"]})}, "r",
                   lambda kind, key, spec: scheduled.append(key))
    middle = json.loads(out.snapshot_json)
    assert sorted(middle["data"]["K"]) == ["Inputs", "a"]
    out = activate(module, middle, {scheduled[-1]: Settlement(2, True, {"n": 2.0, "tags": ["t"]})}, "r",
                   lambda kind, key, spec: scheduled.append(key))
    assert out.snapshot["data"]["L"]["a"] is middle["data"]["L"]["a"]  # neither decoded nor encoded again
    assert sorted(out.snapshot["data"]["K"]) == ["Inputs", "a", "b"]
    assert list(out.snapshot["data"]["L"]) == ["Inputs", "a", "b"]  # kept slots keep their place
    assert out.snapshot["data"]["L"]["b"] == {"n": 2.0, "tags": ["t"]}


def test_a_kept_slot_that_is_read_and_changed_is_encoded_again():
    stored, outcome = run(
        'const a = await Task.run("t", { n: 1 })\n'
        'await Task.run("t", { n: 2 })\n'
        'a.tags.push("changed")\n'
        'await Task.run("t", { n: 3 })\n'
        'return a\n')
    assert stored[-1]["data"]["L"]["a"] == {"n": 1.0, "tags": ["t", "changed"]}
    assert outcome.output == {"n": 1, "tags": ["t", "changed"]}


def test_a_kept_slot_aliased_by_another_keeps_its_identity():
    stored, outcome = run(
        'const a = await Task.run("t", { n: 1 })\n'
        'await Task.run("t", { n: 2 })\n'
        'const alias = a.tags\n'
        'const f = () => a\n'
        'await Task.run("t", { n: 3 })\n'
        'alias.push("through the alias")\n'
        'await Task.run("t", { n: 4 })\n'
        'return [f().tags, a.tags === alias]\n')
    assert "a" not in stored[-1]["data"].get("K", [])  # shared now: decoded with the rest
    assert outcome.output == [["t", "through the alias"], True]


def test_a_kept_slot_leaves_the_snapshot_with_its_scope():
    stored, outcome = run(
        'let total = 0\n'
        'for (let i = 0; i < 3; i++) {\n'
        '  const r = await Task.run("t", { n: i })\n'
        '  await Task.run("t", { n: 10 })\n'
        '  total += i\n'
        '}\n'
        'await Task.run("t", { n: 20 })\n'
        'return total\n')
    assert "r" not in stored[-1]["data"]["L"] and "r" not in stored[-1]["data"].get("K", [])
    assert outcome.output == 3


def test_a_promise_in_a_slot_is_never_kept():
    stored, outcome = run(
        'const p = Task.run("t", { n: 1 })\n'
        'await Task.run("t", { n: 2 })\n'
        'const x = await p\n'
        'return x.n\n')
    assert "p" not in stored[0]["data"].get("K", [])
    assert outcome.output == 1


def test_a_snapshot_written_before_kept_slots_resumes():
    # Stored by the code before "K" (commit 9b270d6) for this source: two settled results in the locals,
    # awaiting the third task.
    old = json.loads(
        '{"state":3,"data":{"L":{"Inputs":{"order":{"$":"shared","id":1,"value":{"id":"o-1"}}},'
        '"order":{"$":"ref","id":1},"a":{"n":1.0,"tags":["t"]},"b":{"n":2.0,"tags":["t"]}},'
        '"W":{"$":"promise","kind":"task","key":"2.1","state":"pending"},"C":{}},"seq":{"0":1,"1":1,"2":1}}')
    source = ('const order = Inputs.order\n'
              'const a = await Task.run("t", { n: 1 })\n'
              'const b = await Task.run("t", { n: 2 })\n'
              'const c = await Task.run("t", { n: 3 })\n'
              'order.total = a.n + b.n + c.n\n'
              'await Task.run("t", { n: 4 })\n'
              'return [Inputs.order, b.tags]\n')
    module = load_module(compile_source(source, "steps.flow", fmt=False).code, "steps")
    scheduled = []
    out = activate(module, old, {"2.1": Settlement(3, True, {"n": 3.0, "tags": ["t"]})}, "r",
                   lambda kind, key, spec: scheduled.append(key))
    new = json.loads(out.snapshot_json)
    assert sorted(new["data"]["K"]) == ["a", "b", "c"]
    out = activate(module, new, {scheduled[-1]: Settlement(4, True, None)}, "r", lambda *a: None)
    assert out.output == [{"id": "o-1", "total": 6}, ["t"]]


def test_a_kept_slot_assigned_without_being_read_is_stored_as_its_new_value():
    stored, outcome = run(
        'let arr = await Task.run("t", { n: 1 })\n'
        'await Task.run("t", { n: 2 })\n'
        'arr = [5]\n'
        'await Task.run("t", { n: 3 })\n'
        'return arr\n')
    assert stored[-1]["data"]["L"]["arr"] == [5.0]
    assert outcome.output == [5]
