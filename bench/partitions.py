"""The claim pattern across N partitions of the tasks table: a stand-in for Citus shards on one server.

    python bench/partitions.py                       # N = 1, 4, 16; 2 workers; 5 s per cell, 3 reps
    python bench/partitions.py --partitions 1 4 16 64 --workers 4 --duration 10

docs/SCALING.md plans Rhythm past one Postgres on Citus, with `run_id` as
the distribution column and a run's tasks co-located with it. Citus is not
installable here (no package for this machine), so this simulates what the
plan changes about the hot path on one server: the tasks table hash-
partitioned by `run_id` into N partitions, and two ways to claim:

* `global`: one claim over the parent table (`ORDER BY id … FOR UPDATE SKIP
  LOCKED LIMIT 1`), which on Citus is a multi-shard query: every shard is
  asked, and the planner merges;
* `local`: each worker owns a slice of the partitions and claims from them
  in turn (Citus: a router query to one shard at a time), which is how the
  plan keeps the claim single-shard.

One task = claim (commit), then complete it and insert the run's next task
in one transaction, as bench/../shared ceiling's `queue` workload does. The
next task has the same `run_id`, so it stays in its partition (co-location).
Reported: tasks/s per cell (median of reps, reps interleaved), and the ratio
to N = 1 of the same claim kind.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from _pg import scratch_database  # noqa: E402

READY = 2_000  # ready tasks at the start of each rep (one per run), so claims never find the table empty


def create(url: str, partitions: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS sim_tasks")
        conn.execute("CREATE TABLE sim_tasks (id bigint GENERATED ALWAYS AS IDENTITY, run_id text NOT NULL, "
                     "status text NOT NULL, worker int, part int NOT NULL, PRIMARY KEY (run_id, id)) "
                     "PARTITION BY HASH (run_id)")
        for i in range(partitions):
            conn.execute(f"CREATE TABLE sim_tasks_{i} PARTITION OF sim_tasks "
                         f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {i})")
        conn.execute("CREATE INDEX ON sim_tasks (id) WHERE status = 'ready'")
        conn.execute("INSERT INTO sim_tasks (run_id, status, part) "
                     "SELECT 'run-' || g, 'ready', 0 FROM generate_series(1, %s) AS g", (READY,))
        # which partition each run landed in (a worker of `local` claims only its own partitions)
        for i in range(partitions):
            conn.execute(f"UPDATE sim_tasks_{i} SET part = {i}")
        conn.execute("ANALYZE sim_tasks")


CLAIM_GLOBAL = """
UPDATE sim_tasks SET status = 'running', worker = %(w)s
WHERE (run_id, id) = (SELECT run_id, id FROM sim_tasks WHERE status = 'ready' ORDER BY id
                      FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING run_id, id, part
"""
CLAIM_LOCAL = """
UPDATE sim_tasks_{p} SET status = 'running', worker = %(w)s
WHERE (run_id, id) = (SELECT run_id, id FROM sim_tasks_{p} WHERE status = 'ready' ORDER BY id
                      FOR UPDATE SKIP LOCKED LIMIT 1)
RETURNING run_id, id, part
"""
COMPLETE = """
WITH done AS (UPDATE sim_tasks SET status = 'done' WHERE run_id = %(run)s AND id = %(id)s)
INSERT INTO sim_tasks (run_id, status, part) VALUES (%(run)s, 'ready', %(part)s)
"""


def worker(url: str, kind: str, index: int, workers: int, partitions: int, duration: float, start, out) -> None:
    mine = [p for p in range(partitions) if p % workers == index] or list(range(partitions))
    claims = [CLAIM_LOCAL.format(p=p) for p in mine]
    done = 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT 1")
        start.wait()
        deadline = time.monotonic() + duration
        turn = 0
        while time.monotonic() < deadline:
            sql = CLAIM_GLOBAL if kind == "global" else claims[turn % len(claims)]
            turn += 1
            row = conn.execute(sql, {"w": index}, prepare=True).fetchone()
            if row is None:
                continue
            with conn.transaction():
                conn.execute(COMPLETE, {"run": row[0], "id": row[1], "part": row[2]}, prepare=True)
            done += 1
    out.put(done)


def cell(url: str, kind: str, partitions: int, workers: int, duration: float) -> float:
    create(url, partitions)
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(url, kind, i, workers, partitions, duration, start, out))
             for i in range(workers)]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=duration + 60) for _ in procs)
    for p in procs:
        p.join()
    return total / duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
          f"{args.workers} worker processes, {args.duration:g} s per cell, median of {args.reps} interleaved reps")
    results: dict[tuple[str, int], list[float]] = {}
    with scratch_database() as url:
        for _ in range(args.reps):
            for kind in ("global", "local"):
                for n in args.partitions:
                    results.setdefault((kind, n), []).append(cell(url, kind, n, args.workers, args.duration))
    print(f"{'claim':<8}{'partitions':>11}{'tasks/s':>10}{'vs N=1':>9}")
    for kind in ("global", "local"):
        base = statistics.median(results[(kind, args.partitions[0])])
        for n in args.partitions:
            rate = statistics.median(results[(kind, n)])
            print(f"{kind:<8}{n:>11}{rate:>10,.0f}{rate / base:>9.2f}")
    print(f"load at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
