"""End-to-end throughput and latency on one Postgres, with real worker processes.

M workflows x K sequential tasks, W worker processes. Reports workflows/s,
tasks/s, p50/p99 start-to-finish latency, task-done-to-workflow-resumed
latency, and commits per task. Run: `.venv/bin/python bench/throughput.py
[--m 200 --k 5 --w 2 --concurrency 8 --queue-limit N]`; with --queue-limit the tasks' queue
has that concurrency limit.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _pg import scratch_database  # noqa: E402

from rhythm import SyncRhythmClient  # noqa: E402

HERE = Path(__file__).parent


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def start_workers(url: str, w: int, concurrency: int, queue_limit: int | None) -> list[subprocess.Popen]:
    env = dict(os.environ, RHYTHM_DATABASE_URL=url, BENCH_QUEUE_LIMIT=str(queue_limit or ""))
    return [subprocess.Popen([sys.executable, "-m", "rhythm_runtime.cli", "worker", "bench_app:app",
                              "--concurrency", str(concurrency)], cwd=HERE, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(w)]


def commits(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=200)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--w", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--queue-limit", type=int, default=None)
    args = ap.parse_args()
    with scratch_database() as url:
        workers = start_workers(url, args.w, args.concurrency, args.queue_limit)
        try:
            client = SyncRhythmClient(url)
            while "seq_tasks" not in client.store.workflow_names():
                time.sleep(0.1)
            time.sleep(0.5)
            c0 = commits(url)
            t0 = time.monotonic()
            handles = [client.start_workflow("seq_tasks", {"k": args.k}) for _ in range(args.m)]
            for h in handles:
                assert h.result(timeout=600) == args.k
            wall = time.monotonic() - t0
            c1 = commits(url)
            with psycopg.connect(url) as conn:
                lat = [r[0] for r in conn.execute(
                    "SELECT extract(epoch FROM finished_at - created_at) FROM rhythm.runs").fetchall()]
                resume = [r[0] for r in conn.execute("""
                    SELECT extract(epoch FROM n.created_at - t.finished_at)
                    FROM rhythm.tasks t JOIN rhythm.tasks n
                      ON n.run_id = t.run_id AND n.id = (SELECT min(id) FROM rhythm.tasks x WHERE x.run_id = t.run_id AND x.id > t.id)
                """).fetchall()]
        finally:
            for p in workers:
                p.send_signal(signal.SIGTERM)
            for p in workers:
                p.wait(timeout=30)
    tasks = args.m * args.k
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, Postgres embedded (fsync on)")
    print(f"M={args.m} K={args.k} W={args.w} concurrency={args.concurrency} queue limit={args.queue_limit}")
    print(f"wall {wall:.2f}s  workflows/s {args.m / wall:.1f}  tasks/s {tasks / wall:.1f}")
    print(f"start-to-finish p50 {percentile(lat, 50) * 1000:.1f} ms  p99 {percentile(lat, 99) * 1000:.1f} ms")
    print(f"task-done-to-resumed p50 {percentile(resume, 50) * 1000:.2f} ms  p99 {percentile(resume, 99) * 1000:.2f} ms"
          f"  (mean {statistics.fmean(resume) * 1000:.2f} ms)")
    print(f"commits per task {(c1 - c0) / tasks:.2f} (includes client starts and polling)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
