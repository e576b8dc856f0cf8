"""Chaos: 4 worker processes run 200 mixed workflows while a driver SIGKILLs a
random serving worker every 300 ms and starts a replacement.

Only workers that have served for a second are killed (registered in
rhythm.workers at least MIN_SERVING ago): a worker lives about a second
between kills on a quiet machine anyway, and on a loaded one, where starting
a worker takes seconds, killing each as soon as it is up would stop all
progress without testing anything more.

Every workflow must end with the output the in-process runner gives; no await
site may get a second task row; tasks may run more than once (at-least-once)
but every one runs at least once, and the duplicates are reported.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from rhythm_runtime.api.testing import run_workflow

HERE = Path(__file__).parent / "chaos"
RUNS = 200
WORKERS = 4
KILL_EVERY = 0.3
MIN_SERVING = 1.0  # seconds a worker serves before it may be killed
DEADLINE = 240

WORKER_CODE = (
    "import sys; sys.path.insert(0, {here!r});"
    "from chaos_app import app; from rhythm_runtime.worker.loop import Worker;"
    "Worker(app, concurrency=4, lease_seconds=2, poll_interval=0.1).run()"
)


def spawn(db_url: str) -> subprocess.Popen:
    env = dict(os.environ, RHYTHM_DATABASE_URL=db_url, CHAOS_RECORD_URL=db_url)
    return subprocess.Popen([sys.executable, "-c", WORKER_CODE.format(here=str(HERE))], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serving_workers(db_url: str, workers: list[subprocess.Popen]) -> list[int]:
    """Indexes of the worker processes that have served for MIN_SERVING seconds (rhythm.workers, database clock)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        pids = {pid for (pid,) in conn.execute(
            "SELECT pid FROM rhythm.workers WHERE started_at <= now() - make_interval(secs => %s)", (MIN_SERVING,))}
    return [i for i, w in enumerate(workers) if w.pid in pids]


def expected_output(i: int) -> dict:
    sys.path.insert(0, str(HERE))
    try:
        from chaos_app import app
    finally:
        sys.path.remove(str(HERE))
    tasks = {name: spec.fn for name, spec in app.tasks.items() if name.startswith("chaos-")}
    result = run_workflow(HERE / "workflows" / "chaos_mixed.flow", inputs={"id": i}, tasks=tasks,
                          workflows={"chaos_child": HERE / "workflows" / "chaos_child.flow"},
                          signals=[("go", {"ok": i})])
    assert result.status == "completed", result.error
    return result.output


@pytest.fixture(scope="module")
def chaos(db_url):
    from rhythm import SyncRhythmClient

    rng = random.Random(7)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE chaos_exec (label text, at timestamptz DEFAULT clock_timestamp())")
    workers = [spawn(db_url) for _ in range(WORKERS)]
    kills = 0
    try:
        client = SyncRhythmClient(db_url)
        t0 = time.monotonic()
        while "chaos_mixed" not in client.store.workflow_names():
            assert time.monotonic() - t0 < 30, "workers did not register the workflows"
            time.sleep(0.1)
        handles = [client.start_workflow("chaos_mixed", {"id": i}, id=f"chaos-{i}") for i in range(RUNS)]
        for i, h in enumerate(handles):
            h.signal("go", {"ok": i})
        last_kill = time.monotonic()
        while True:
            done = client.list(status="completed", name="chaos_mixed", limit=RUNS + 1)
            failed = client.list(status="failed", limit=5)
            assert not failed, f"runs failed: {[client.get(r['id']).describe()['error'] for r in failed]}"
            if len(done) == RUNS:
                break
            assert time.monotonic() - t0 < DEADLINE, f"only {len(done)}/{RUNS} runs completed ({kills} kills)"
            serving = serving_workers(db_url, workers)
            if time.monotonic() - last_kill > KILL_EVERY and serving:
                victim = rng.choice(serving)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = spawn(db_url)
                kills += 1
                last_kill = time.monotonic()
            time.sleep(0.05)
        outputs = {h.id: h.result() for h in handles}
        elapsed = time.monotonic() - t0
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
    with psycopg.connect(db_url) as conn:
        executions = dict(conn.execute("SELECT label, count(*) FROM chaos_exec GROUP BY label").fetchall())
        task_rows = conn.execute(
            "SELECT run_id, count(*), count(DISTINCT await_key) FROM rhythm.tasks GROUP BY run_id").fetchall()
    return dict(outputs=outputs, executions=executions, task_rows=task_rows, kills=kills, elapsed=elapsed)


def test_workers_were_really_killed(chaos):
    assert chaos["kills"] >= 3, chaos["kills"]


def test_every_workflow_has_the_in_process_output(chaos):
    for i in range(RUNS):
        assert chaos["outputs"][f"chaos-{i}"] == expected_output(i), i


def test_no_await_site_scheduled_twice(chaos):
    per_run = {run_id: (n, distinct) for run_id, n, distinct in chaos["task_rows"]}
    parents = [r for r in per_run if "/" not in r]
    children = [r for r in per_run if "/" in r]
    assert len(parents) == RUNS and len(children) == RUNS
    for run_id in parents:
        assert per_run[run_id] == (7, 7), run_id  # 3 sequential + 2 parallel + flaky + failing
    for run_id in children:
        assert per_run[run_id] == (2, 2), run_id


def test_tasks_ran_at_least_once_and_duplicates_are_reported(chaos):
    labels = chaos["executions"]
    for i in range(RUNS):
        for suffix in ("seq:0", "seq:1", "seq:2", "par:0", "par:1", "fail", "child:0", "child:1"):
            assert labels.get(f"{i}:{suffix}", 0) >= 1, (i, suffix)
        assert labels[f"{i}:flaky"] >= 2  # the first attempt fails by design
    expected_minimum = RUNS * 10
    duplicates = sum(labels.values()) - expected_minimum
    print(f"\nchaos: {chaos['kills']} workers killed in {chaos['elapsed']:.1f}s; "
          f"{sum(labels.values())} task executions for {expected_minimum} required "
          f"({duplicates} at-least-once duplicates)")
    assert duplicates >= 0
