"""What one task step costs the worker and its Postgres backend: CPU per `finish_task`, one thread.

Starts --runs runs of a --k-task chain, advances them to their first task
(`advance_one`, as the loop does), then finishes every task with
`Store.finish_task` and an `InlineClaim`, chaining the leased next task as a
task thread does (minus calling the task). Reports, per step, the client's CPU
(`time.process_time`) and that of the store's Postgres backends (from /proc),
and how many steps resumed from kept states. Compare commits by running it
from each checkout on the same server. Run: `.venv/bin/python bench/task_step.py
[--runs 100 --k 5 --rounds 3]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _pg import scratch_database  # noqa: E402

from rhythm_compiler import compile_source  # noqa: E402
from rhythm_runtime.api.tasks import TaskSpec  # noqa: E402
from rhythm_runtime.execution.modules import load_module, module_hash  # noqa: E402
from rhythm_runtime.storage.engine import Engine, InlineClaim  # noqa: E402
from rhythm_runtime.storage.store import Store  # noqa: E402

CHAIN = """let total = 0
for (let i = 0; i < Inputs.k; i++) {
  total = total + await Task.run("step", i)
}
return total
"""
CLK_TCK = os.sysconf("SC_CLK_TCK")


def backend_cpu(url: str) -> float:
    """CPU seconds so far of the backends serving the store (application_name 'rhythm') of this database."""
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND application_name = 'rhythm' AND pid <> pg_backend_pid()")]
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def one_round(url: str, runs: int, k: int) -> tuple[float, float, int, int]:
    """(client µs per step, backend µs per step, steps, steps resumed from kept states)."""
    code = compile_source(CHAIN, "chain.flow").code
    module = load_module(code, "chain")
    store = Store(url)
    try:
        store.register_version("chain", module.VERSION, "", code, module_hash(code))
        engine = Engine(lambda conn, name, version: module, {"step": TaskSpec("step", print)}, 1_000_000)
        ids = [store.start_run("chain", {"k": k})[0] for _ in range(runs)]
        while store.advance_one(engine):
            pass
        tasks = store.claim_tasks("bench", ["default"], ["step"], runs, 600.0)
        hits = engine.warm.hits
        steps, backend, client = 0, backend_cpu(url), time.process_time()
        for task in tasks:
            while task is not None:
                taken = store.finish_task(engine, task, "bench", True, task["payload"],
                                          InlineClaim("bench", 600.0, frozenset({"step"})))
                steps += 1
                task = taken[0] if taken else None
        client, backend = time.process_time() - client, backend_cpu(url) - backend
        assert all(store.get_run(i)["output"] == sum(range(k)) for i in ids), "a run did not complete"
        return client / steps * 1e6, backend / steps * 1e6, steps, engine.warm.hits - hits
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.runs} runs x {args.k} tasks, finish_task on one thread; {args.rounds} rounds (fresh database each)")
    results = []
    for n in range(1, args.rounds + 1):
        with scratch_database() as url:
            client, backend, steps, warm = one_round(url, args.runs, args.k)
        results.append((client, backend))
        print(f"  round {n}: client {client:.0f} µs/step, its backends {backend:.0f} µs/step "
              f"({steps} steps, {warm} from kept states)")
    print(f"median: client {statistics.median(r[0] for r in results):.0f} µs, backends "
          f"{statistics.median(r[1] for r in results):.0f} µs per step; load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
