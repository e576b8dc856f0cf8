"""Reliability under hostile conditions, with real worker processes on real Postgres.

* Postgres is stopped for a few seconds under running workers and a client
  (on a server of the test's own, never the session's): everything reconnects,
  the outage is logged once, and every run ends with the right output.
* Four workers race on the same runs: no run is ever advanced by two at once.
* A hung worker (SIGSTOP) loses its task's lease; another worker runs the task;
  the hung one's late result is refused after SIGCONT.
* Values too big or not JSON are refused at the API boundary (nothing stored),
  fail the task that returned them, or fail the run that built them.
* Runaway workflows (endless child recursion, `while (true) {}`) end in a clear
  failure and the worker goes on serving other runs.

The app is tests/reliability/app, copied to a temporary directory and compiled
there. Its tasks append JSON lines to a log file (which process ran what).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from rhythm_runtime.storage import embedded
from rhythm_runtime.api.client import MAX_PAYLOAD_BYTES, PayloadError, RhythmClient, SyncRhythmClient, WorkflowFailed
from rhythm_runtime.storage.db import migrate
from rhythm_runtime.execution.machine import MAX_SNAPSHOT_BYTES
from rhythm_runtime.execution.modules import module_hash
from rhythm_runtime.storage.engine import MAX_CHILD_DEPTH

from helpers import query, wait_for

APP = Path(__file__).resolve().parent / "reliability" / "app"
RHYTHM = Path(sys.executable).with_name("rhythm")

WORKER_CODE = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
sys.path.insert(0, ".")
import rel_app
from rhythm_runtime.worker.loop import Worker
Worker(rel_app.app, **json.loads(sys.argv[1])).run()
"""


# -- helpers ------------------------------------------------------------------------------------






class Project:
    """A compiled copy of tests/reliability/app with its task log."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(APP, root, ignore=shutil.ignore_patterns("compiled", "__pycache__"))
        self.log = root / "tasks.log"
        self.log.touch()
        proc = subprocess.run([str(RHYTHM), "compile", "-q", "workflows"], cwd=root,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr

    def events(self, **match) -> list[dict]:
        lines = [json.loads(x) for x in self.log.read_text(encoding="utf-8").splitlines() if x]
        return [x for x in lines if all(x.get(k) == v for k, v in match.items())]


class WorkerProcess:
    """One real worker process running the app with the given Worker options."""

    def __init__(self, project: Project, db_url: str, **options):
        self.output = project.root / f"worker-{uuid.uuid4().hex[:8]}.log"
        env = {**os.environ, "RHYTHM_DATABASE_URL": db_url, "REL_LOG": str(project.log), "PYTHONUNBUFFERED": "1"}
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-c", WORKER_CODE, json.dumps(options)], cwd=project.root,
                                         env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: " started: " in self.text() or self.proc.poll() is not None, 60, "the worker to start")
        assert self.proc.poll() is None, f"worker exited with {self.proc.returncode}:\n{self.text()}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def lines(self, pattern: str) -> list[str]:
        return [x for x in self.text().splitlines() if re.search(pattern, x)]

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def terminate(self, timeout: float = 20.0) -> int:
        os.kill(self.pid, signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
            os.kill(self.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project(tmp_path_factory.mktemp("reliability") / "app")


@pytest.fixture
def fresh_db(make_database, template_db):
    """A migrated database of this test's own, and a list its workers go to (stopped afterwards)."""
    url = make_database(template=template_db)
    started: list[WorkerProcess] = []
    yield url, started
    for w in started:
        w.close()


def run_row(url: str, run_id: str) -> dict:
    [row] = query(url, "SELECT * FROM rhythm.runs WHERE id = %s", (run_id,))
    return row


def counts(url: str) -> dict:
    return query(url, "SELECT (SELECT count(*) FROM rhythm.runs) AS runs, (SELECT count(*) FROM rhythm.tasks) "
                      "AS tasks, (SELECT count(*) FROM rhythm.signals) AS signals")[0]


# -- 1. Postgres restarts mid-run -----------------------------------------------------------------


OUTAGE_RUNS = 12


def outage_inputs(i: int) -> dict:
    return {"id": i, "steps": 1 + i % 4, "pause": 0.3, "slow": 1.5}


def outage_output(i: int) -> dict:
    steps = outage_inputs(i)["steps"]
    return {"id": i, "total": steps * (steps + 1) // 2 + 1 + 100, "go": i}


def test_postgres_restart_mid_run(project):
    """Postgres stops for 3 s under two workers, with runs waiting on timers, tasks running and a client polling.

    Slow tasks finish while the database is down: their results are recorded
    once it is back (the lease outlasts the outage, so none runs twice). Timers
    that fell due during the outage fire afterwards. Each worker logs the outage
    once and its end once, and never dies.
    """
    # Not under pytest's basetemp: another pytest session resets its permissions, and the server's
    # own OS user (when we are root) must keep access to its data directory.
    server = Path(tempfile.mkdtemp(prefix="rhythm-outage-"))
    url = embedded.ensure_server(server)
    workers: list[WorkerProcess] = []
    client = poller_client = None
    try:
        with psycopg.connect(url, autocommit=True) as conn:  # a throwaway server: durability is not the point
            conn.execute("ALTER SYSTEM SET fsync = off")
            conn.execute("SELECT pg_reload_conf()")
        migrate(url)
        workers = [WorkerProcess(project, url, lease_seconds=10, poll_interval=0.2) for _ in range(2)]
        client = SyncRhythmClient(url)
        handles = [client.start_workflow("outage", outage_inputs(i)) for i in range(OUTAGE_RUNS)]
        # Stop when the first slow tasks run: the other runs are waiting on timers or between steps.
        wait_for(lambda: project.events(task="rel-step"), 20, "the first slow task")
        # One client sits idle through the outage with 4 pooled connections (all of them die with the
        # server); another polls through it: result() must ride it out, not raise.
        held = [client.store.pool.getconn() for _ in range(4)]
        for conn in held:
            client.store.pool.putconn(conn)
        poller_client = SyncRhythmClient(url)
        watched = poller_client.get(handles[-1].id)
        polled: list = []
        poller = threading.Thread(target=lambda: polled.append(watched.result(60)), daemon=True)
        poller.start()
        embedded.stop(server)
        down, down_wall = time.monotonic(), time.time()
        time.sleep(3)
        assert not embedded.is_running(server)
        embedded.ensure_server(server)
        up, up_wall = time.monotonic(), time.time()

        # The idle client's pooled connections died with the server: its next calls must work at once.
        for i, h in enumerate(handles):
            h.signal("go", i)
        outputs = [h.result(60) for h in handles]
        recovered = time.monotonic() - up
        assert outputs == [outage_output(i) for i in range(OUTAGE_RUNS)]
        poller.join(10)
        assert polled == [outputs[-1]]
        # Nothing lost, nothing doubled: one task row per await, all completed, each slow task ran once.
        rows = query(url, "SELECT run_id, count(*) AS n, count(DISTINCT await_key) AS keys, "
                          "bool_and(status = 'completed') AS done FROM rhythm.tasks GROUP BY run_id")
        assert len(rows) == OUTAGE_RUNS and all(r["n"] == r["keys"] and r["done"] for r in rows), rows
        slow = [e["tag"] for e in project.events(task="rel-step", event="start")]
        assert sorted(slow) == sorted(f"outage-{i}" for i in range(OUTAGE_RUNS)), slow
        assert [e for e in project.events(task="rel-step", event="end") if down_wall < e["time"] < up_wall], \
            "no task finished during the outage: recording a result across it was not tested"
        # Both workers listen for notifications again: each LISTENs, then heartbeats, on a new session.
        wait_for(lambda: len(query(url, "SELECT 1 FROM rhythm.worker_states WHERE state = 'live' "
                                        "AND backend_start > %s", (datetime.datetime.fromtimestamp(
                                            down_wall, datetime.timezone.utc),))) == 2,
                 10, "both workers to LISTEN and heartbeat again")
        for w in workers:
            assert w.proc.poll() is None, w.text()
            assert len(w.lines("database unavailable")) == 1, w.text()
            assert len(w.lines("database reachable again")) == 1, w.text()
            assert not w.lines("Traceback|ERROR|WARNING psycopg|before its lease ran out"), w.text()
        print(f"\noutage: down {up - down:.1f}s; every run done {recovered:.1f}s after the restart")
    finally:
        for c in (client, poller_client):
            if c is not None:
                c.close()
        for w in workers:
            w.close()
        embedded.stop(server)
        shutil.rmtree(server, ignore_errors=True)


# -- 2. no concurrent advancement ------------------------------------------------------------------

HOT_RUNS, HOT_ROUNDS, HOT_WIDTH = 20, 10, 4

# Test instrumentation: every write that counts an activation is logged with what it found.
WRITE_LOG = """
CREATE TABLE rel_writes (run_id text, old_activations int, new_activations int, found_runnable boolean,
                         new_status text);
CREATE FUNCTION rel_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.activations IS DISTINCT FROM OLD.activations THEN
        INSERT INTO rel_writes (run_id, old_activations, new_activations, found_runnable, new_status)
        VALUES (NEW.id, OLD.activations, NEW.activations,
                OLD.status IN ('pending', 'suspended') AND OLD.available_at IS NOT NULL, NEW.status);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rel_log_write AFTER UPDATE ON rhythm.runs FOR EACH ROW EXECUTE FUNCTION rel_log_write();
"""


def test_workers_racing_never_advance_one_run_twice(project, fresh_db):
    """4 workers × 8 task threads race on runs whose every round fires 4 tasks at once.

    Sibling tasks finish at the same moment on different workers, and each
    tries to advance the run right away (and every loop polls for runnable
    runs), so only the run's row lock keeps two activations apart. Every write
    of an activation is logged by a trigger: each must find the run runnable
    (an activation repeated from a snapshot another one already advanced finds
    it waiting), the activation numbers must be 1..N with no repeats, and each
    task records the counter the workflow held when it scheduled it: no
    (counter, slot) may appear under two task ids.
    """
    url, started = fresh_db
    query(url, WRITE_LOG)
    for _ in range(4):
        started.append(WorkerProcess(project, url, concurrency=8, poll_interval=0.05, lease_seconds=10))
    client = SyncRhythmClient(url)
    try:
        t0 = time.monotonic()
        handles = [client.start_workflow("hot_loop", {"rounds": HOT_ROUNDS, "width": HOT_WIDTH})
                   for _ in range(HOT_RUNS)]
        outputs = [h.result(60) for h in handles]
        elapsed = time.monotonic() - t0
    finally:
        client.close()
    per_round = HOT_WIDTH + 1
    assert outputs == [{"counter": HOT_ROUNDS * per_round}] * HOT_RUNS

    pids = {e["pid"] for e in project.events(task="rel-note")}
    shared = [h for h in handles if len({e["pid"] for e in project.events(task="rel-note", run=h.id)}) >= 3]
    assert len(shared) >= HOT_RUNS // 2, "the workers did not share the runs' tasks: no race was tested"
    for h in handles:
        row = run_row(url, h.id)
        writes = query(url, "SELECT * FROM rel_writes WHERE run_id = %s ORDER BY new_activations", (h.id,))
        # Every activation wrote exactly one snapshot, numbered 1..N, and found the run runnable.
        assert [w["new_activations"] for w in writes] == list(range(1, row["activations"] + 1)), writes
        assert all(w["old_activations"] + 1 == w["new_activations"] for w in writes), writes
        assert all(w["found_runnable"] for w in writes), [w for w in writes if not w["found_runnable"]]
        assert writes[-1]["new_status"] == "completed" and all(w["new_status"] == "suspended" for w in writes[:-1])
        # No await scheduled twice.
        keys = query(url, "SELECT count(*) AS n, count(DISTINCT await_key) AS k FROM rhythm.tasks WHERE run_id = %s",
                     (h.id,))[0]
        assert keys["n"] == keys["k"] == HOT_ROUNDS * per_round, keys
        # The states the workflow scheduled from, as its tasks recorded them: each exactly once.
        first_runs = {}
        for e in project.events(task="rel-note", run=h.id):
            first_runs.setdefault(e["task_id"], (e["counter"], e["slot"]))
        seen = sorted(first_runs.values())
        expected = sorted([(r * per_round, s) for r in range(HOT_ROUNDS) for s in range(HOT_WIDTH)] +
                          [(r * per_round + HOT_WIDTH, -1) for r in range(HOT_ROUNDS)])
        assert seen == expected, (h.id, seen)
    activations = sum(run_row(url, h.id)["activations"] for h in handles)
    print(f"\nrace: {HOT_RUNS} runs, {HOT_RUNS * HOT_ROUNDS * per_round} tasks, {activations} activations "
          f"on {len(pids)} workers in {elapsed:.1f}s; {len(shared)} runs had tasks on 3+ workers")


# -- 3. a hung worker ------------------------------------------------------------------------------


def task_row(url: str, run_id: str) -> dict:
    [row] = query(url, "SELECT * FROM rhythm.tasks WHERE run_id = %s", (run_id,))
    return row


# How long the hung task sleeps: the run must finish on another worker before that sleep would be over
# (leases are 1 s; the margin is for starting the other worker's process on a loaded machine).
HUNG_TASK_SECONDS = 8


def test_hung_worker_loses_its_lease_and_its_late_result_is_refused(project, fresh_db):
    """A worker frozen (SIGSTOP) inside a sync task stops renewing its lease; another worker runs the
    task again and finishes the run. Thawed (SIGCONT), the first worker's task returns, and its result
    is refused: it no longer holds the lease. It then serves new runs and stops cleanly on SIGTERM."""
    url, started = fresh_db
    started.append(hung := WorkerProcess(project, url, lease_seconds=1, concurrency=2))
    client = SyncRhythmClient(url)
    try:
        tag = uuid.uuid4().hex[:8]
        handle = client.start_workflow("hang", {"tag": tag, "seconds": HUNG_TASK_SECONDS})
        wait_for(lambda: project.events(task="rel-hang", tag=tag), 20, "the task to start")
        frozen = time.monotonic()
        hung.signal(signal.SIGSTOP)
        started.append(other := WorkerProcess(project, url, lease_seconds=1))
        out = handle.result(20)
        assert out == {"pid": other.pid, "start": 2}
        assert time.monotonic() - frozen < HUNG_TASK_SECONDS, "the run waited for the hung task instead of retrying it"
        before = run_row(url, handle.id)
        row = task_row(url, handle.id)
        assert (row["status"], row["result"], row["lost_leases"]) == ("completed", out, 1), row

        time.sleep(max(0.0, HUNG_TASK_SECONDS + 0.5 - (time.monotonic() - frozen)))  # its sleep is over when it wakes
        hung.signal(signal.SIGCONT)
        wait_for(lambda: project.events(task="rel-hang", tag=tag, event="end", pid=hung.pid), 10, "the late end")
        wait_for(lambda: hung.lines(f"refused the result of task {row['id']} "), 10, "the late result's refusal")
        time.sleep(0.3)
        assert task_row(url, handle.id) == row  # untouched: same result, same attempt counts
        after = run_row(url, handle.id)
        assert (after["activations"], after["output"], after["status"]) == (
            before["activations"], before["output"], "completed")

        # The thawed worker is healthy: alone again, it serves a new run and stops on SIGTERM.
        assert other.terminate() == 0
        assert client.run_workflow("steps", {"steps": 2, "tag": tag}, timeout=20) == 2
        assert {e["pid"] for e in project.events(task="rel-step", tag=tag)} == {hung.pid}
        assert hung.terminate() == 0, hung.text()
    finally:
        client.close()


def test_a_worker_that_hung_past_its_lease_cannot_record_its_stale_claim(project, fresh_db):
    """While a worker is frozen, another worker (serving other queues) requeues its expired task; thawed,
    the first worker claims the task again and runs it on a second thread. The stale thread finishes
    first, under the same worker id, but only the new claim's result may be recorded."""
    url, started = fresh_db
    started.append(worker := WorkerProcess(project, url, lease_seconds=1, concurrency=2))
    client = SyncRhythmClient(url)
    try:
        tag = uuid.uuid4().hex[:8]
        handle = client.start_workflow("hang", {"tag": tag, "seconds": 3, "again": 3})
        wait_for(lambda: project.events(task="rel-hang", tag=tag), 20, "the task to start")
        worker.signal(signal.SIGSTOP)
        started.append(WorkerProcess(project, url, lease_seconds=1, queues=["elsewhere"]))
        wait_for(lambda: task_row(url, handle.id)["status"] == "pending", 10, "the expired lease to be reclaimed")
        worker.signal(signal.SIGCONT)
        out = handle.result(20)
        ends = project.events(task="rel-hang", tag=tag, event="end")
        assert [e["n"] for e in ends] == [1, 2], ends  # the stale claim ended first ...
        assert out == {"pid": worker.pid, "start": 2}  # ... but the run got the new claim's result
        row = task_row(url, handle.id)
        assert (row["status"], row["lost_leases"], row["attempts"]) == ("completed", 1, 1), row
        assert worker.lines(f"refused the result of task {row['id']} ")
        assert worker.terminate() == 0, worker.text()
    finally:
        client.close()


# -- 4. payload limits -----------------------------------------------------------------------------

NOT_JSON = {
    "nan": ({"x": float("nan")}, "['x'] is nan"),
    "set": ({"x": {1, 2}}, "['x'] is of type set"),
    "datetime": ([datetime.datetime(2024, 1, 1)], "[0] is of type datetime.datetime"),
    "bytes": (b"raw", " is of type bytes"),
}
TOO_BIG = "x" * MAX_PAYLOAD_BYTES  # with its quotes, 2 bytes over the limit


def test_the_client_refuses_oversized_and_non_json_values_before_storing_anything(fresh_db, project):
    url, _ = fresh_db
    client = SyncRhythmClient(url)
    try:
        # No worker: runs stay pending, so nothing but the calls below writes. Register one workflow by hand.
        code = (project.root / "workflows" / "compiled" / "steps.py").read_text()
        version = re.search(r'^VERSION = "(\w+)"', code, re.M).group(1)
        client.store.register_version("steps", version, "", code, module_hash(code))
        handle = client.start_workflow("steps", {"steps": 1})
        before = counts(url)
        cases = [("workflow inputs", lambda v: client.start_workflow("steps", v), "inputs"),
                 ("workflow inputs", lambda v: client.start_workflow("steps", v, id="chosen-id"), "inputs"),
                 ("signal payload", lambda v: handle.signal("go", v), "payload"),
                 ("task payload", lambda v: client.queue_task("rel-echo", v), "payload")]
        for what, call, root in cases:
            with pytest.raises(PayloadError) as caught:
                call({"big": TOO_BIG})
            assert str(caught.value) == (f"{what}: {MAX_PAYLOAD_BYTES + 10:,} bytes of JSON, over the limit of "
                                         f"{MAX_PAYLOAD_BYTES:,}; nothing was stored")
            for value, where in NOT_JSON.values():
                with pytest.raises(PayloadError) as caught:
                    call(value)
                assert str(caught.value).startswith(f"{what} must be JSON ("), caught.value
                assert f": {root}{where}" in str(caught.value), caught.value
        # The async client goes through the same check.
        async_client = RhythmClient(url)
        with pytest.raises(PayloadError, match="over the limit"):
            asyncio.run(async_client.start_workflow("steps", {"big": TOO_BIG}))
        asyncio.run(async_client.close())
        assert counts(url) == before
        # Just under the limit is fine.
        handle.signal("go", "y" * (MAX_PAYLOAD_BYTES - 2))
        assert counts(url)["signals"] == before["signals"] + 1
    finally:
        client.close()


def test_values_a_run_cannot_store_fail_the_task_or_the_run_clearly(project, fresh_db):
    url, started = fresh_db
    started.append(WorkerProcess(project, url))
    client = SyncRhythmClient(url)
    try:
        # A task returning what JSON cannot carry fails that task, naming the task and the type.
        for kind, (_value, where) in NOT_JSON.items():
            out = client.run_workflow("bad_result", {"kind": kind}, timeout=20)
            assert out["name"] == "TaskError", out
            assert out["message"].startswith("task 'rel-bad-result' returned a value that is not JSON: its result"), out
            assert where in out["message"], out
        out = client.run_workflow("bad_result", {"kind": "huge", "size": MAX_PAYLOAD_BYTES}, timeout=20)
        assert out == {"name": "TaskError", "message": f"task 'rel-bad-result' returned {MAX_PAYLOAD_BYTES + 2:,} "
                                                       f"bytes of JSON, over the limit of {MAX_PAYLOAD_BYTES:,}"}

        # A workflow handing a task too big a payload gets a RangeError at the call; no task row is written.
        handle = client.start_workflow("big_values", {"size": MAX_PAYLOAD_BYTES, "use": "task"})
        assert handle.result(20) == {"name": "RangeError", "message": f"Task.run('rel-echo') payload: "
                                     f"{MAX_PAYLOAD_BYTES + 8:,} bytes of JSON, over the limit of {MAX_PAYLOAD_BYTES:,}"}
        assert query(url, "SELECT 1 FROM rhythm.tasks WHERE run_id = %s", (handle.id,)) == []

        # ... or a child too big inputs: uncaught, the run fails naming the line; no child run exists.
        handle = client.start_workflow("big_values", {"size": MAX_PAYLOAD_BYTES, "use": "child"})
        with pytest.raises(WorkflowFailed) as caught:
            handle.result(20)
        error = caught.value.error
        assert (error["type"], error["file"], error["line"]) == ("RangeError", "big_values.flow", 16), error
        assert error["message"].startswith("Workflow.run('steps') inputs: 1,000,0"), error
        assert query(url, "SELECT 1 FROM rhythm.runs WHERE parent_run_id = %s", (handle.id,)) == []

        # A result over the limit fails the run instead of storing it.
        handle = client.start_workflow("big_values", {"size": MAX_PAYLOAD_BYTES, "use": "return"})
        with pytest.raises(WorkflowFailed) as caught:
            handle.result(20)
        error = caught.value.error
        assert (error["type"], error["file"], error["line"]) == ("RangeError", "big_values.flow", 27), error
        assert error["message"] == (f"the workflow's result: {MAX_PAYLOAD_BYTES + 2:,} bytes of JSON, over the "
                                    f"limit of {MAX_PAYLOAD_BYTES:,}"), error
        assert run_row(url, handle.id)["output"] is None

        # A snapshot over its limit fails the run, naming the await it stopped at; nothing huge is stored.
        copies = MAX_SNAPSHOT_BYTES // MAX_PAYLOAD_BYTES
        handle = client.start_workflow("big_values", {"size": MAX_PAYLOAD_BYTES, "use": "snapshot", "copies": copies})
        with pytest.raises(WorkflowFailed) as caught:
            handle.result(20)
        error = caught.value.error
        assert (error["type"], error["file"], error["line"]) == ("SnapshotTooLarge", "big_values.flow", 24), error
        assert re.fullmatch(r"the workflow's state at its await at big_values\.flow:24 is [\d,]+ bytes of JSON, over "
                            r"the limit of 10,000,000 \(keep large data outside the workflow and pass references\)",
                            error["message"]), error
        [size] = query(url, "SELECT octet_length(snapshot::text) AS n FROM rhythm.runs WHERE id = %s", (handle.id,))
        assert size["n"] is None or size["n"] < 1000, size
        assert query(url, "SELECT 1 FROM rhythm.timers WHERE run_id = %s", (handle.id,)) == []
    finally:
        client.close()


# -- 5. runaway workflows --------------------------------------------------------------------------


def test_endless_child_recursion_fails_at_the_depth_limit(project, fresh_db):
    url, started = fresh_db
    started.append(WorkerProcess(project, url))
    client = SyncRhythmClient(url)
    try:
        t0 = time.monotonic()
        handle = client.start_workflow("recurse", {})
        with pytest.raises(WorkflowFailed) as caught:
            handle.result(30)
        elapsed = time.monotonic() - t0
        error = caught.value.error
        assert (error["type"], error["file"], error["line"]) == ("WorkflowError", "recurse.flow", 3), error
        assert error["message"] == (f"Workflow.run('recurse') would start a child {MAX_CHILD_DEPTH + 1} levels deep; "
                                    f"the limit is {MAX_CHILD_DEPTH} (does a workflow start itself without end?)")
        runs = query(url, "SELECT id, status FROM rhythm.runs")
        assert len(runs) == MAX_CHILD_DEPTH + 1 and {r["status"] for r in runs} == {"failed"}, len(runs)
        assert max(r["id"].count("/") for r in runs) == MAX_CHILD_DEPTH
        # The worker is not stuck.
        assert client.run_workflow("steps", {"steps": 1}, timeout=20) == 1
        print(f"\nrecursion: failed at depth {MAX_CHILD_DEPTH} after {elapsed:.1f}s")
    finally:
        client.close()


def test_an_endless_loop_fails_and_the_worker_keeps_serving(project, fresh_db):
    """Two `while (true) {}` runs each hit the step budget; meanwhile another run's tasks go on
    starting and completing on the same worker, and afterwards it serves new runs."""
    url, started = fresh_db
    started.append(WorkerProcess(project, url))
    client = SyncRhythmClient(url)
    try:
        steady = client.start_workflow("steps", {"steps": 8, "seconds": 0.25, "tag": "steady"})
        wait_for(lambda: project.events(task="rel-step", tag="steady"), 10, "the steady run's first task")
        t0, wall0 = time.monotonic(), time.time()
        spins = [client.start_workflow("spin", {}) for _ in range(2)]
        for h in spins:
            with pytest.raises(WorkflowFailed) as caught:
                h.result(30)
            error = caught.value.error
            assert (error["type"], error["file"], error["line"]) == ("StepBudgetExceeded", "spin.flow", 3), error
            assert error["message"] == ("the workflow ran 1,000,000 steps without an await (an endless loop?) "
                                        "at spin.flow:3")
        elapsed, wall1 = time.monotonic() - t0, time.time()
        meanwhile = [e for e in project.events(task="rel-step", tag="steady") if wall0 < e["time"] < wall1]
        assert meanwhile, "the steady run made no progress while the endless loops ran"
        assert steady.result(10) == 8
        assert client.run_workflow("steps", {"steps": 2}, timeout=20) == 2
        print(f"\nendless loops: 2 runs failed in {elapsed:.1f}s; the steady run started {len(meanwhile)} "
              f"tasks meanwhile")
    finally:
        client.close()


def test_error_messages_are_cut_to_a_readable_size():
    """A workflow that throws a megabyte of text fails with a message cut to MAX_ERROR_CHARS (in process:
    the same machine as the workers)."""
    from rhythm_runtime.execution.machine import MAX_ERROR_CHARS
    from rhythm_runtime.api.testing import run_workflow

    result = run_workflow('throw "x".repeat(1000000)\n')
    assert result.status == "failed"
    assert result.error["message"] == "x" * MAX_ERROR_CHARS + f"… ({1_000_000 - MAX_ERROR_CHARS:,} more characters)"
    assert "value" not in result.error
