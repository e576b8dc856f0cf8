"""Does resuming cost the same at step 10 as at step 10,000? (No replay: it should.)

Runs one workflow whose loop awaits a task N times, with a real worker
process on Postgres, and reports the time per step around steps 10, 1,000
and 10,000 (the median gap between consecutive tasks' completion times over
WINDOW steps from each mark) and the snapshot size there; each figure is the
median of --repeats runs. Run: `.venv/bin/python bench/resume_cost.py
[--steps 10100 --repeats 3]`.
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
WINDOW = 100  # steps whose median is reported at each mark (fsync latency varies step to step)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10_000 + WINDOW)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    marks = [m for m in (10, 1_000, 10_000) if m + WINDOW <= args.steps]
    runs = [one_run(args.steps, marks) for _ in range(args.repeats)]
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; steps={args.steps}; "
          f"median of {args.repeats} runs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base = None
    for m in marks:
        per_step = statistics.median(per_mark[m] for per_mark, _ in runs)
        base = base or per_step
        print(f"step {m:>6}: {per_step * 1000:.2f} ms/step ({per_step / base:.2f}x step {marks[0]}), "
              f"snapshot {max(sizes.get(m, 0) for _, sizes in runs)} bytes "
              f"(runs: {', '.join(f'{per_mark[m] * 1000:.2f}' for per_mark, _ in runs)})")
    return 0


def one_run(steps: int, marks: list[int]) -> tuple[dict[int, float], dict[int, int]]:
    """One long run: the median seconds per step after each mark, and the snapshot size there."""
    sizes: dict[int, int] = {}
    with scratch_database() as url:
        env = dict(os.environ, RHYTHM_DATABASE_URL=url)
        worker = subprocess.Popen([sys.executable, "-m", "rhythm_runtime.cli", "worker", "bench_app:app",
                                   "--concurrency", "1"], cwd=HERE, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = SyncRhythmClient(url)
            while "long_loop" not in client.store.workflow_names():
                time.sleep(0.1)
            handle = client.start_workflow("long_loop", {"steps": steps})
            with psycopg.connect(url, autocommit=True) as conn:
                while handle.status() not in ("completed", "failed"):
                    done, size = conn.execute(  # activations, not a count of tasks: O(1) at any step
                        "SELECT activations - 1, pg_column_size(snapshot) FROM rhythm.runs WHERE id = %s",
                        (handle.id,)).fetchone()
                    for m in marks:
                        if m not in sizes and done >= m:
                            sizes[m] = size
                    time.sleep(0.02)
                assert handle.result()["total"] == steps
                times = [r[0] for r in conn.execute(
                    "SELECT extract(epoch FROM finished_at) FROM rhythm.tasks WHERE run_id = %s ORDER BY id",
                    (handle.id,)).fetchall()]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    return {m: statistics.median(b - a for a, b in zip(times[m - 1:m + WINDOW - 1], times[m:m + WINDOW]))
            for m in marks}, sizes


if __name__ == "__main__":
    sys.exit(main())
