"""The app the runtime benchmarks run (`rhythm worker bench_app:app` in bench/)."""

import os
import time
from pathlib import Path

from rhythm import RhythmApp, task


@task("bench-step")
def bench_step(payload: dict) -> dict:
    """One step; its start and end times let throughput.py measure the gap between a run's tasks across workers."""
    began = time.time()
    return {"acc": payload["acc"] + 1, "began": began, "ended": time.time()}


app = RhythmApp(Path(__file__).parent / "workflows")
# throughput.py --queue-limit N: the tasks' queue gets a concurrency limit (every claim then counts under its lock)
app.queue("default", concurrency=int(os.environ["BENCH_QUEUE_LIMIT"]) if os.environ.get("BENCH_QUEUE_LIMIT") else None)
