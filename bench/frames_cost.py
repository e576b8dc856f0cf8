"""Cost of async functions in flight: snapshot size and resume time per step.

    python bench/frames_cost.py                 # 100 functions, best of 5 rounds
    python bench/frames_cost.py --functions 300

The workflow starts N async functions at once
(`Promise.all(items.map(async item => …))`), each awaiting two tasks. Every
function is suspended in the snapshot at the same time, each with its own
state and locals (code shape 6 frames). One step is what a worker does when
one task has finished: parse the stored snapshot JSON, activate it (decode
every frame, resume the one function the result wakes, run to its next
await), and serialize the new snapshot. No database, no task code: results
are prepared up front and compile time is excluded, as in bench/step_cost.py.

Reported: the snapshot's size with all N functions suspended, and the
microseconds per step (best round / steps), for the whole run and for the
first N steps (while every function is still in flight), cold (from the
stored snapshot) and warm (resumed from the values the run's previous step
on this worker left, as a worker runs a chain of its own steps; see
bench/step_cost.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rhythm_compiler import compile_source  # noqa: E402
from rhythm_runtime import values as _js  # noqa: E402
from rhythm_runtime.execution.activation import activate  # noqa: E402
from rhythm_runtime.execution.machine import Settlement, new_snapshot  # noqa: E402
from rhythm_runtime.execution.modules import load_module  # noqa: E402
from step_cost import measure_warm  # noqa: E402  (bench/, this script's directory)

FANOUT = """\
const items = Inputs.items
const results = await Promise.all(items.map(async (item) => {
  const quote = await Task.run("step", { item, n: 1 })
  const order = await Task.run("step", { item, n: 2, quote: quote.id })
  return { item, quote: quote.id, order: order.id }
}))
return results.length
"""


def task_result(payload: dict) -> dict:
    return {"id": f"{payload['item']}-{payload['n']}", "ok": True, "at": "2024-01-01T00:00:00Z"}


def record(module, functions: int) -> list[tuple[str, dict]]:
    """Run once, settling tasks in the order they were scheduled; every resumed step as (snapshot JSON, settled)."""
    scheduled: list = []
    inputs = {"items": [f"item-{i}" for i in range(functions)]}
    outcome = activate(module, new_snapshot(inputs), {}, "run-1", lambda kind, key, spec: scheduled.append((key, spec)))
    steps, seq = [], 0
    while outcome.status == "suspended":
        text = outcome.snapshot_json or json.dumps(outcome.snapshot, separators=(",", ":"))
        key, spec = scheduled.pop(0)
        seq += 1
        settled = {key: Settlement(seq, True, _js.from_json(task_result(spec["payload"])))}
        steps.append((text, settled))
        outcome = activate(module, json.loads(text), settled, "run-1",
                           lambda kind, key, spec: scheduled.append((key, spec)))
    assert outcome.status == "completed" and outcome.output == functions, outcome
    return steps


def replay(module, steps) -> None:
    for text, settled in steps:
        outcome = activate(module, json.loads(text), settled, "run-1", lambda *a: None)
        if outcome.snapshot is not None and outcome.snapshot_json is None:
            json.dumps(outcome.snapshot, separators=(",", ":"))


def best(rounds: int, fn) -> float:
    """The least CPU time of `rounds` calls (a shared machine inflates it less than wall time)."""
    fn()
    times = []
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    module = load_module(compile_source(FANOUT, "fanout.flow", name="fanout", fmt=False).code, "fanout")
    steps = record(module, args.functions)
    in_flight = steps[: args.functions]
    whole = best(args.rounds, lambda: replay(module, steps)) / len(steps)
    first = best(args.rounds, lambda: replay(module, in_flight)) / len(in_flight)
    warm_whole = measure_warm(module, steps, args.rounds)
    warm_first = measure_warm(module, in_flight, args.rounds)
    size = max(len(text) for text, _ in steps)
    print(f"python {platform.python_version()} on {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
          f"best of {args.rounds} rounds, CPU time")
    print(f"{args.functions} async functions in flight, each awaiting 2 tasks: {len(steps)} steps")
    print(f"  largest snapshot:             {size:>9,} bytes ({size / args.functions:,.0f} per function)")
    print(f"  per step, all in flight:      {first * 1e6:>9,.0f} µs cold, {warm_first:>9,.0f} µs warm")
    print(f"  per step, whole run:          {whole * 1e6:>9,.0f} µs cold, {warm_whole:>9,.0f} µs warm")


if __name__ == "__main__":
    main()
