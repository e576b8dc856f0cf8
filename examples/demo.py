"""`make demo`: start Postgres (embedded unless RHYTHM_DATABASE_URL is set) and a
worker process, run every example workflow, print the results, then run the
nightly digest on a short cron (a schedule every 3 seconds) through its
rate-limited e-mail queue, and stop the worker.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rhythm import SyncRhythmClient, WorkflowFailed
from rhythm_runtime.storage.settings import Settings

HERE = Path(__file__).parent
ROOT = HERE.parent

RUNS = [
    ("onboard_user", {"userId": 42, "followUpSeconds": 1}, None),
    ("expense_approval", {"employee": "sam", "amount": 120, "timeoutSeconds": 30}, ("decision", {"approved": True, "by": "lee"})),
    ("expense_approval", {"employee": "kim", "amount": 80, "timeoutSeconds": 1}, None),
    ("fulfill_order", {"id": "o-1", "total": 99, "items": [{"sku": "tea", "qty": 2}, {"sku": "mug", "qty": 1}]}, None),
    ("fulfill_order", {"id": "o-2", "total": 5000, "items": [{"sku": "piano", "qty": 1}]}, None),
    ("thumbnails", {"images": ["a.jpg", "b.jpg", "c.jpg"]}, None),
]


def start_worker(url: str) -> subprocess.Popen:
    env = dict(os.environ, RHYTHM_DATABASE_URL=url)
    return subprocess.Popen([sys.executable, "-m", "rhythm_runtime.cli", "worker", "demo_app:app", "--concurrency", "4",
                             "--queues", "default,email"],
                            cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def digest(client: SyncRhythmClient, ticks: int = 2) -> None:
    """The nightly digest's front matter fires at 03:00; here a schedule made at run time fires it every 3 s."""
    earlier = {r["id"] for r in client.list(name="nightly_digest", limit=1000)}  # a previous demo's ticks
    schedule = client.create_schedule("digest-demo", "nightly_digest", cron="every 3s", inputs={"region": "eu"})
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            runs = [r for r in client.list(name="nightly_digest", limit=20)
                    if r["id"].startswith("digest-demo@") and r["status"] == "completed" and r["id"] not in earlier]
            if len(runs) >= ticks:
                break
            time.sleep(0.2)
    finally:
        schedule.delete()
    for run in sorted(runs, key=lambda r: r["id"])[:ticks]:
        took = (run["finished_at"] - run["created_at"]).total_seconds()
        print(f"nightly_digest (schedule tick {run['id']})\n  -> completed in {took:.1f}s (e-mails at 10/s): "
              f"{json.dumps(client.get(run['id']).result())}")


def main() -> int:
    url = Settings.load(project_dir=ROOT).database_url()
    worker = start_worker(url)
    try:
        client = SyncRhythmClient(url)
        deadline = time.monotonic() + 60
        handles = []
        for name, inputs, sig in RUNS:
            while True:  # the worker registers the workflows when it starts
                try:
                    handle = client.start_workflow(name, inputs)
                    break
                except Exception:
                    if time.monotonic() > deadline or worker.poll() is not None:
                        raise
                    time.sleep(0.2)
            if sig:
                handle.signal(*sig)
            handles.append((name, inputs, handle))
        failed = None
        for name, inputs, handle in handles:
            try:
                shown = f"completed: {json.dumps(handle.result(timeout=60))}"
            except WorkflowFailed as e:
                shown = f"{e.status}: {e.error.get('type')}: {e.error.get('message')} ({e.error.get('file')}:{e.error.get('line')})"
                failed = failed or handle.id
            print(f"{name}({json.dumps(inputs)})\n  -> {shown}")
        digest(client)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=30)
        if worker.returncode not in (0, -signal.SIGTERM):
            print(err, file=sys.stderr)
    print(f"\nworker stopped (exit {worker.returncode}); Postgres keeps running in .rhythm/ — `rhythm db stop` stops it")
    if failed:
        print(f"see where the failed run stopped: .venv/bin/rhythm inspect {failed}  (or .venv/bin/rhythm dashboard)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
