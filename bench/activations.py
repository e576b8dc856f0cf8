"""Activations that are not triggered by a task: timers due at once, and a burst of starts.

timers: N runs each wait on `Timer.delay(3600)` (bench/workflows/wake_timer.flow);
then one statement makes every timer due at once and the bench reports how
fast the W worker processes fire them and resume the runs (runs resumed per
second: N / (last run finished - timers made due), on the database clock),
and the CPU per resumed run from then until every run finished: the worker
processes' and their Postgres backends' (from /proc; same machine).

starts: C client threads start N runs of bench/workflows/first_task.flow as
fast as they can; reports the starts/s achieved and the p50/p99 from a run's
start (its row's created_at) to its first task being scheduled (that task's
created_at), and the time until the last first task was scheduled.

Run: `.venv/bin/python bench/activations.py [--n 20000 --w 2 --clients 4]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _pg import scratch_database  # noqa: E402
from throughput import (backend_cpu, cpu_seconds, percentile, scalar, start_workers, stop_workers,  # noqa: E402
                        wait_ready)

from rhythm import SyncRhythmClient  # noqa: E402


def wait_until(url: str, sql: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while scalar(url, sql) < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {n} rows of: {sql}")
        time.sleep(0.2)


def timers(n: int, w: int, concurrency: int) -> str:
    with scratch_database() as url:
        workers = start_workers(url, w, concurrency)
        try:
            wait_ready(url, workers)
            with psycopg.connect(url, autocommit=True) as conn:  # n starts at once, as many clients would
                conn.execute("""
                    INSERT INTO rhythm.runs (id, workflow_name, version, inputs)
                    SELECT 'timer-' || i, 'wake_timer', (SELECT version FROM rhythm.workflow_versions
                                                         WHERE name = 'wake_timer'), '{"seconds": 3600}'
                    FROM generate_series(1, %s) AS i""", (n,))
                conn.execute("SELECT pg_notify('rhythm_work', '')")
            wait_until(url, "SELECT count(*) FROM rhythm.timers", n, 600)
            s0, cpu0 = backend_cpu(url), sum(cpu_seconds(p.pid) for p in workers)
            with psycopg.connect(url, autocommit=True) as conn:
                due = conn.execute("UPDATE rhythm.timers SET due_at = clock_timestamp() "
                                   "RETURNING clock_timestamp()").fetchone()[0]
            wait_until(url, "SELECT count(*) FROM rhythm.runs WHERE status = 'completed'", n, 600)
            cpu = sum(cpu_seconds(p.pid) for p in workers) - cpu0
            server = sum(c - s0.get(pid, 0.0) for pid, c in backend_cpu(url).items())
            fired, finished = psycopg.connect(url).execute(
                "SELECT extract(epoch FROM max(t.fired_at) - %(due)s), extract(epoch FROM max(r.finished_at) - %(due)s)"
                " FROM rhythm.timers t JOIN rhythm.runs r ON r.id = t.run_id", dict(due=due)).fetchone()
        finally:
            stop_workers(workers)
    return (f"timers: N={n} W={w}: all fired in {fired:.2f}s ({n / float(fired):,.0f}/s), all runs resumed and "
            f"finished in {finished:.2f}s ({n / float(finished):,.0f} runs/s); CPU per resumed run "
            f"{cpu / n * 1000:.3f} ms workers + {server / n * 1000:.3f} ms their backends")


def starts(n: int, w: int, concurrency: int, clients: int) -> str:
    with scratch_database() as url:
        workers = start_workers(url, w, concurrency)
        try:
            wait_ready(url, workers)

            def start(count: int) -> None:
                client = SyncRhythmClient(url)
                for _ in range(count):
                    client.start_workflow("first_task", {})
                client.close()

            t0 = time.monotonic()
            threads = [threading.Thread(target=start, args=(n // clients,)) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            started = time.monotonic() - t0
            total = n // clients * clients
            wait_until(url, "SELECT count(*) FROM rhythm.runs WHERE status = 'completed'", total, 600)
            with psycopg.connect(url) as conn:
                lat = [float(r[0]) for r in conn.execute(
                    "SELECT extract(epoch FROM t.created_at - r.created_at) FROM rhythm.runs r "
                    "JOIN rhythm.tasks t ON t.run_id = r.id").fetchall()]
                span = conn.execute("SELECT extract(epoch FROM max(t.created_at) - min(r.created_at)) "
                                    "FROM rhythm.runs r JOIN rhythm.tasks t ON t.run_id = r.id").fetchone()[0]
        finally:
            stop_workers(workers)
    return (f"starts: N={total} W={w} clients={clients}: {total / started:,.0f} starts/s; start-to-first-task p50 "
            f"{percentile(lat, 50):.3f}s p99 {percentile(lat, 99):.3f}s; last first task {float(span):.2f}s "
            f"after the first start")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--w", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--only", choices=["timers", "starts"])
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    if args.only != "starts":
        print(timers(args.n, args.w, args.concurrency), flush=True)
    if args.only != "timers":
        print(starts(args.n, args.w, args.concurrency, args.clients), flush=True)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
