"""Step cost: microseconds per state transition, cold and warm, and snapshot bytes.

    python bench/step_cost.py               # both workflows, best of 7 rounds
    python bench/step_cost.py --rounds 20 --profile

One transition is what a worker does when an awaited task has finished, in
one of two ways:

* cold, from the stored snapshot (a step after another worker's, after a
  restart, or the first of a run on this worker): parse the snapshot JSON,
  `activation.activate()` it (decode the locals, build a generator at the
  saved state, run to the next await, encode the new snapshot, which also
  finds the await keys it still reaches) and serialize the new snapshot;
* warm, as a worker runs a chain of its own steps (execution/warm.py): the
  json loader recognises the text the worker stored and hands back its
  snapshot, the step resumes from the values the previous step left (no
  json.loads, no decode), then encodes and serializes as cold does and
  keeps its own values for the next step.

No database and no task code: the task results are prepared up front, and
compile time is excluded (the module is compiled and loaded once, before
timing).

Two workflows:

* `sequential_10`: ten `await Task.run(...)` in a row, each result kept in a
  local and folded into an accumulator;
* `loop_100`: a `for` loop over 100 awaited tasks that pushes every result
  into an array, so the snapshot grows with every step (the worst case of
  "carry everything in locals").

Each round replays every recorded transition of the run once (warm: the
whole chain, from the first snapshot decoded before the clock starts); the
figure is the best round divided by the number of transitions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rhythm_compiler import compile_source  # noqa: E402
from rhythm_runtime import values as _js  # noqa: E402
from rhythm_runtime.execution.activation import activate  # noqa: E402
from rhythm_runtime.execution.machine import Settlement, new_snapshot  # noqa: E402
from rhythm_runtime.execution.modules import load_module  # noqa: E402
from rhythm_runtime.execution.warm import WarmStates, reusable  # noqa: E402

TARGET_US = 40.0  # issue 14 §4

SEQUENTIAL_10 = """\
const order = Inputs.order
let total = 0
const a = await Task.run("step", { order: order.id, n: 1 })
total += a.n
const b = await Task.run("step", { order: order.id, n: 2, prev: a.id })
total += b.n
const c = await Task.run("step", { order: order.id, n: 3, prev: b.id })
total += c.n
const d = await Task.run("step", { order: order.id, n: 4, prev: c.id })
total += d.n
const e = await Task.run("step", { order: order.id, n: 5, prev: d.id })
total += e.n
const f = await Task.run("step", { order: order.id, n: 6, prev: e.id })
total += f.n
const g = await Task.run("step", { order: order.id, n: 7, prev: f.id })
total += g.n
const h = await Task.run("step", { order: order.id, n: 8, prev: g.id })
total += h.n
const i = await Task.run("step", { order: order.id, n: 9, prev: h.id })
total += i.n
const j = await Task.run("step", { order: order.id, n: 10, prev: i.id })
total += j.n
return { order: order.id, total, last: j.id }
"""

LOOP_100 = """\
const order = Inputs.order
const results = []
let total = 0
for (let i = 0; i < 100; i++) {
  const r = await Task.run("step", { order: order.id, n: i })
  total += r.n
  results.push(r)
}
return { order: order.id, total, count: results.length }
"""

WORKFLOWS = {"sequential_10": SEQUENTIAL_10, "loop_100": LOOP_100}
INPUTS = {"order": {"id": "order-42", "customer": {"email": "ada@example.com", "name": "Ada"}, "lines": 3}}


def task_result(payload: dict) -> dict:
    """What the fake `step` task returns: a small, typical record."""
    n = payload["n"]
    return {"id": f"step-{n}", "n": n, "ok": True, "at": "2024-01-01T00:00:00Z"}


def record(module) -> list[tuple[str, dict]]:
    """Run the workflow once; return every resumed transition as (snapshot JSON, settled)."""
    scheduled: list = []

    def scheduler(kind, key, spec):
        assert kind == "task", kind
        scheduled.append((key, spec))

    steps = []
    outcome = activate(module, new_snapshot(INPUTS), {}, "run-1", scheduler)
    seq = 0
    while outcome.status == "suspended":
        text = json.dumps(outcome.snapshot, separators=(",", ":"), allow_nan=False)
        key, spec = scheduled.pop()
        seq += 1
        settled = {key: Settlement(seq, True, _js.from_json(task_result(spec["payload"])))}
        steps.append((text, settled))
        outcome = activate(module, json.loads(text), settled, "run-1", scheduler)
    assert outcome.status == "completed", outcome
    return steps


def noop_scheduler(kind, key, spec) -> None:
    pass


def transition(module, text: str, settled: dict) -> str:
    """One worker step: JSON in, activate, the await keys still reachable (the store keeps only their
    results), JSON out."""
    outcome = activate(module, json.loads(text), settled, "run-1", noop_scheduler)
    if outcome.snapshot is None:
        return json.dumps(outcome.output, separators=(",", ":"))
    outcome.live
    # activate() already serialized the snapshot (to check its size); the worker stores that text
    return outcome.snapshot_json or json.dumps(outcome.snapshot, separators=(",", ":"), allow_nan=False)


def measure_warm(module, steps, rounds: int) -> float:
    """CPU µs per transition of _warm_steps, best of `rounds` (the first values decoded off the clock)."""
    first = json.loads(steps[0][0])
    chained = [(steps[0][0], steps[0][1])] + [(None, settled) for _text, settled in steps[1:]]
    best = float("inf")
    for _ in range(rounds + 1):
        states = WarmStates()
        states.keep("run-1", 0, first, steps[0][0], _js.decode_activation(first["data"]))
        t0 = time.process_time()
        _warm_steps(module, chained, states)
        best = min(best, time.process_time() - t0)
    return best / len(steps) * 1e6


def _warm_steps(module, chained, states: WarmStates) -> None:
    text = chained[0][0]
    for _none, settled in chained:
        snapshot = states.loads(text.encode())  # (the bytes Postgres would send back: the text stored)
        outcome = activate(module, snapshot, settled, "run-1", noop_scheduler,
                           data=states.take("run-1", 0, snapshot))
        if outcome.snapshot is None:
            json.dumps(outcome.output, separators=(",", ":"))
            return
        outcome.live
        text = outcome.snapshot_json
        states.keep("run-1", 0, outcome.snapshot, text, reusable(outcome))


def best_round(rounds: int, fn) -> float:
    """The least CPU time of `rounds` calls (CPU time: other processes on a shared machine inflate it less
    than wall time)."""
    fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def measure(module, steps, rounds: int) -> dict:
    n = len(steps)
    snaps = [json.loads(t) for t, _ in steps]
    datas = [s["data"] for s in snaps]
    decoded = [_js.decode_snapshot(d) for d in datas]

    def full():
        for text, settled in steps:
            transition(module, text, settled)

    def loads_only():
        for text, _ in steps:
            json.loads(text)

    def decode_only():
        for d in datas:
            _js.decode_snapshot(d)

    def encode_only():
        for d in decoded:
            _js.encode_snapshot(d, set())

    def dumps_only():
        for s in snaps:
            json.dumps(s, separators=(",", ":"), allow_nan=False)

    sizes = [len(t) for t, _ in steps]
    return {
        "transitions": n,
        "us": best_round(rounds, full) / n * 1e6,
        "json.loads": best_round(rounds, loads_only) / n * 1e6,
        "decode": best_round(rounds, decode_only) / n * 1e6,
        "encode": best_round(rounds, encode_only) / n * 1e6,
        "json.dumps": best_round(rounds, dumps_only) / n * 1e6,
        "bytes_min": min(sizes),
        "bytes_mean": sum(sizes) / n,
        "bytes_max": max(sizes),
    }


def profile(fn, top: int) -> str:
    """cProfile of 20 calls of `fn`, by own time."""
    prof = cProfile.Profile()
    for _ in range(20):
        prof.runcall(fn)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="best of N rounds (default 7)")
    ap.add_argument("--profile", action="store_true", help="print the top cProfile hotspots per workflow")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()} "
          f"({platform.python_implementation()}), {platform.system()} {platform.machine()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"best of {args.rounds} rounds (CPU time); cold = json.loads + activate() from the stored snapshot + the\n"
          f"live await keys + json.dumps; warm = the same step resumed from the values the run's previous step on\n"
          f"this worker left (execution/warm.py), as a worker runs a chain of its own steps\n")
    header = (f"{'workflow':<14} {'steps':>5} {'cold µs':>8} {'loads':>6} {'decode':>7} {'encode':>7} "
              f"{'dumps':>6} {'rest':>6} {'warm µs':>8} {'snapshot bytes min/mean/max':>28}")
    print(header)
    print("-" * len(header))
    slow = []
    profiles = []
    for name, source in WORKFLOWS.items():
        module = load_module(compile_source(source, f"{name}.flow", fmt=False).code, name)
        steps = record(module)
        m = measure(module, steps, args.rounds)
        warm = measure_warm(module, steps, args.rounds)
        rest = m["us"] - m["json.loads"] - m["decode"] - m["encode"] - m["json.dumps"]
        sizes = f"{m['bytes_min']:,}/{m['bytes_mean']:,.0f}/{m['bytes_max']:,}"
        print(f"{name:<14} {m['transitions']:>5} {m['us']:8.1f} {m['json.loads']:6.1f} {m['decode']:7.1f} "
              f"{m['encode']:7.1f} {m['json.dumps']:6.1f} {rest:6.1f} {warm:8.1f} {sizes:>28}")
        slow += [f"{name} {kind}" for kind, us in (("cold", m["us"]), ("warm", warm)) if us > TARGET_US]
        if args.profile or warm > TARGET_US:
            def chain(module=module, steps=steps):
                first = json.loads(steps[0][0])
                states = WarmStates()
                states.keep("run-1", 0, first, steps[0][0], _js.decode_activation(first["data"]))
                _warm_steps(module, [(steps[0][0], steps[0][1])] + [(None, s) for _t, s in steps[1:]], states)
            profiles.append((f"{name}, warm", profile(chain, args.top)))
        if args.profile:
            profiles.append((f"{name}, cold", profile(lambda: [transition(module, *step) for step in steps],
                                                      args.top)))
    print("\nCPU µs per transition. Columns between cold and warm: cold's parts. loads/dumps: json text <-> dict;\n"
          "decode/encode: the snapshot codec (values.decode_snapshot/encode_snapshot; encoding also finds the\n"
          "await keys the snapshot still reaches, which the store keeps); rest: Frame, generator, settle, the\n"
          "workflow's code, the task payload's JSON")
    print(f"target: < {TARGET_US:.0f} µs per transition -> " + ("ok" if not slow else "SLOW: " + ", ".join(slow)))
    for name, text in profiles:
        print(f"\ncProfile of {name} (20 rounds), by own time:\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
