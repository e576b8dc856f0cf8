"""End to end on a real Postgres with real worker processes (issue 3's guarantees).

Workers are separate Python processes running the app in tests/e2e/app
(copied to a temporary directory), started with `python -c` (to pass options
such as a short lease) or with `rhythm worker`, and stopped for real: SIGTERM
or SIGKILL. Tasks append JSON lines to a log file, so the tests can see which
process ran what and how often. Most tests share two workers and one
database; the ones that kill or restart workers get a database of their own.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from rhythm_runtime.api.client import SyncRhythmClient, WorkflowFailed
from rhythm_runtime.storage.store import RunFinished, RunIdConflict, Store, UnknownWorkflow
from rhythm_runtime.inspection.inspect import inspect_run, render_report

from helpers import CliWorker, query, wait_for

APP = Path(__file__).resolve().parent / "e2e" / "app"
RHYTHM = Path(sys.executable).with_name("rhythm")

WORKER_CODE = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
sys.path.insert(0, ".")
import e2e_app
from rhythm_runtime.worker.loop import Worker
Worker(e2e_app.app, **json.loads(sys.argv[1])).run()
"""


# -- helpers ------------------------------------------------------------------------------------






def run_row(url: str, run_id: str) -> dict:
    [row] = query(url, "SELECT * FROM rhythm.runs WHERE id = %s", (run_id,))
    return row


def task_rows(url: str, run_id: str) -> list[dict]:
    return query(url, "SELECT * FROM rhythm.tasks WHERE run_id = %s ORDER BY id", (run_id,))


def assert_one_task_row_per_await(url: str, run_id: str, expected: int) -> None:
    counts = query(url, "SELECT await_key, count(*) AS n FROM rhythm.tasks WHERE run_id = %s GROUP BY await_key",
                   (run_id,))
    assert len(counts) == expected and all(c["n"] == 1 for c in counts), counts


class Project:
    """A copy of tests/e2e/app with its task log."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(APP, root, ignore=shutil.ignore_patterns("compiled", "__pycache__"))
        self.log = root / "e2e.log"
        self.log.touch()
        self.compile()

    def compile(self) -> None:
        proc = subprocess.run([str(RHYTHM), "compile", "-q", "workflows"], cwd=self.root,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr

    def events(self, **match) -> list[dict]:
        lines = [json.loads(x) for x in self.log.read_text(encoding="utf-8").splitlines() if x]
        return [x for x in lines if all(x.get(k) == v for k, v in match.items())]


class WorkerProcess:
    """One real worker process; `cli=True` runs `rhythm worker`, else `python -c` with Worker options."""

    def __init__(self, project: Project, db_url: str, *, cli: bool = False, **options):
        self.output = project.root / f"worker-{uuid.uuid4().hex[:8]}.log"
        env = {**os.environ, "RHYTHM_DATABASE_URL": db_url, "E2E_LOG": str(project.log), "PYTHONUNBUFFERED": "1"}
        if cli:
            cmd = [str(RHYTHM), "worker", "e2e_app:app", "--concurrency", str(options.pop("concurrency", 4))]
            assert not options, f"rhythm worker has no options for {sorted(options)}"
        else:
            cmd = [sys.executable, "-c", WORKER_CODE, json.dumps(options)]
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=project.root, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: "started" in self.text() or self.proc.poll() is not None, 60, "the worker to start")
        assert self.proc.poll() is None, f"worker exited with {self.proc.returncode}:\n{self.text()}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 20.0) -> int:
        os.kill(self.pid, signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Project:
    return Project(tmp_path_factory.mktemp("e2e") / "app")


@pytest.fixture(scope="module")
def workers(project, db_url):
    """Two worker processes shared by the tests that do not stop workers."""
    procs = [WorkerProcess(project, db_url, lease_seconds=5), WorkerProcess(project, db_url, lease_seconds=5)]
    yield procs
    for w in procs:
        w.close()


@pytest.fixture(scope="module")
def client(db_url, workers):
    c = SyncRhythmClient(db_url)
    yield c
    c.close()


@pytest.fixture
def own_db(pg_admin_url, template_db):
    """A fresh migrated database for a test that stops, kills or restarts workers."""
    name = f"rhythm_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template_db}")
    started: list[WorkerProcess] = []
    yield make_conninfo(pg_admin_url, dbname=name), started
    for w in started:
        w.close()
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def tag() -> str:
    return uuid.uuid4().hex[:10]


# -- 1. every await kind ------------------------------------------------------------------------


def test_task_awaited_and_fire_and_forget(client, project, db_url):
    t = tag()
    handle = client.start_workflow("tasks_basic", {"a": 40, "tag": t})
    assert handle.result(20) == {"sum": 42}
    [record] = wait_for(lambda: project.events(task="record", tag=t), what="the fire-and-forget task")
    assert record["value"] == "fire-and-forget" and record["run"] == handle.id
    wait_for(lambda: all(r["status"] == "completed" for r in task_rows(db_url, handle.id)), what="both tasks")
    assert [r["name"] for r in task_rows(db_url, handle.id)] == ["add", "record"]
    assert_one_task_row_per_await(db_url, handle.id, 2)


def test_timer_is_durable_on_database_time(client, db_url):
    started = time.monotonic()
    handle = client.start_workflow("timer", {"seconds": 0.4})
    # While it waits, the run is a suspended row, not a sleeping worker.
    waiting = wait_for(lambda: (r := run_row(db_url, handle.id))["status"] == "suspended" and r, what="suspension")
    assert waiting["waiting"] and waiting["available_at"] is None
    out = handle.result(20)
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 3.0, elapsed
    assert 390 <= out["waited"] < 3000, out
    [timer] = query(db_url, "SELECT extract(epoch FROM due_at - created_at)::float AS delay, "
                            "fired_at >= due_at AS late_enough FROM rhythm.timers WHERE run_id = %s", (handle.id,))
    assert 0.4 <= timer["delay"] < 1.0 and timer["late_enough"], timer


def test_a_timer_too_long_for_postgres_never_fires(client, db_url):
    handle = client.start_workflow("timer", {"seconds": 1e308})
    wait_for(lambda: run_row(db_url, handle.id)["status"] == "suspended", what="the run to wait")
    [timer] = query(db_url, "SELECT due_at = 'infinity' AS forever FROM rhythm.timers WHERE run_id = %s",
                    (handle.id,))
    assert timer["forever"] is True
    assert handle.cancel() is True
    assert query(db_url, "SELECT 1 FROM rhythm.timers WHERE run_id = %s", (handle.id,)) == []


def test_signals_sent_before_the_wait_are_kept_in_order(client, db_url):
    handle = client.start_workflow("signals", {"pause": 0.3})
    handle.signal("go", {"n": 1})
    handle.signal("go", {"n": 2})
    row = run_row(db_url, handle.id)  # no Signal.next has run yet: the run is at most waiting on its timer
    assert row["activations"] <= 1 and row["signal_waits"] == [], row
    out = handle.result(20)
    assert out == [{"n": 1}, {"n": 2}]
    sent = query(db_url, "SELECT payload, consumed_by FROM rhythm.signals WHERE run_id = %s ORDER BY seq", (handle.id,))
    assert [s["payload"] for s in sent] == [{"n": 1}, {"n": 2}]
    assert all(s["consumed_by"] for s in sent) and sent[0]["consumed_by"] != sent[1]["consumed_by"]


def test_signal_delivered_to_a_waiting_run(client, db_url):
    handle = client.start_workflow("signals", {})
    wait_for(lambda: run_row(db_url, handle.id)["signal_waits"], what="the first Signal.next to wait")
    handle.signal("go", "a")
    wait_for(lambda: len(run_row(db_url, handle.id)["signal_waits"]) == 1 and
             run_row(db_url, handle.id)["activations"] >= 2, what="the second Signal.next to wait")
    handle.signal("go", "b")
    assert handle.result(20) == ["a", "b"]


def test_losing_signal_wait_does_not_steal_a_later_signal(client, db_url):
    handle = client.start_workflow("signal_race", {"timeout": 0.2})
    # The timer wins the race; the run then waits on the second Signal.next only.
    wait_for(lambda: (r := run_row(db_url, handle.id))["activations"] >= 2 and r["status"] == "suspended",
             what="the race to time out")
    row = run_row(db_url, handle.id)
    assert len(row["signal_waits"]) == 1 and len(row["waiting"]) == 1, row
    handle.signal("x", {"late": True})
    assert handle.result(20) == {"raced": "timeout", "after": {"late": True}}


def test_signal_beats_a_timer(client, db_url):
    handle = client.start_workflow("signal_race", {"timeout": 30})
    wait_for(lambda: len(run_row(db_url, handle.id)["waiting"]) == 2, what="the race to wait")
    handle.signal("x", "won")
    handle.signal("x", "next")
    assert handle.result(20) == {"raced": "won", "after": "next"}
    # The timer that lost is gone with the run: it will not fire into a finished run.
    assert query(db_url, "SELECT 1 FROM rhythm.timers WHERE run_id = %s AND fired_at IS NULL", (handle.id,)) == []


def test_signals_arriving_while_a_run_is_about_to_resume(own_db, tmp_path):
    """Signals that arrive after a timer fired but before the run resumed go to the waits alive afterwards.

    With no worker running, a timer is fired (as a worker's loop would) and signals are sent; then a
    worker resumes the runs. The race the timer won must not take the signal (its Signal.next lost),
    and an older Signal.next must get the first signal before a newer one called on resuming.
    """
    url, started = own_db
    project = Project(tmp_path / "app")
    started.append(worker := WorkerProcess(project, url))
    client = SyncRhythmClient(url)
    store = Store(url)
    try:
        race = client.start_workflow("signal_race", {"timeout": 0.3})
        order = client.start_workflow("signal_order", {"pause": 0.3})
        for h in (race, order):
            wait_for(lambda: run_row(url, h.id)["status"] == "suspended", what="the run to wait")
        assert worker.terminate() == 0  # no worker: the runs cannot resume in between
        time.sleep(0.35)
        assert store.fire_timers() == 2  # what a worker's loop does when the timers are due
        assert all(run_row(url, h.id)["available_at"] is not None for h in (race, order))
        race.signal("x", "for the second Signal.next")
        order.signal("x", "first")
        order.signal("x", "second")
        started.append(WorkerProcess(project, url))
        assert race.result(20) == {"raced": "timeout", "after": "for the second Signal.next"}
        assert order.result(20) == {"early": "first", "late": "second"}
    finally:
        store.close()
        client.close()


def test_child_success_failure_and_unknown_child(client, db_url):
    handle = client.start_workflow("parent", {"n": 21})
    out = handle.result(20)
    assert out["ok"] == {"doubled": 42}
    assert out["failed"] == {"name": "WorkflowError", "message": "child broke"}
    assert out["unknown"].startswith("unknown workflow 'no_such_workflow': no worker has registered")
    assert "child_ok" in out["unknown"] and "parent" in out["unknown"]
    children = query(db_url, "SELECT id, workflow_name, status, parent_await_key FROM rhythm.runs "
                             "WHERE parent_run_id = %s ORDER BY created_at, id", (handle.id,))
    assert [(c["workflow_name"], c["status"]) for c in children] == [("child_ok", "completed"),
                                                                      ("child_fail", "failed")]
    assert all(c["id"] == f"{handle.id}/{c['parent_await_key']}" for c in children)


def test_promise_all_any_race_over_mixed_awaits(client, db_url, project):
    t = tag()
    handle = client.start_workflow("combinators", {"tag": t})
    handle.signal("s", {"signal": 1})
    out = handle.result(20)
    assert out == {
        "all": [2, None, {"doubled": 10}, {"signal": 1}],
        "any": 4,
        "race": "timer",
        "none": "AggregateError",
        "first": 6,
    }
    # The losing slow task still ran to its end; nothing waits for it any more.
    wait_for(lambda: project.events(task="slow", tag=t, event="end"), what="the losing task to end")
    assert run_row(db_url, handle.id)["status"] == "completed"


def test_values_keep_their_key_order_and_any_character(client):
    """Inputs, task payloads and results, signals, snapshots and outputs are json, not jsonb (which sorts keys)."""
    text = 'nul:\x00 emoji:\U0001f600 quote:" backslash:\\ accents:\u00e9'
    handle = client.start_workflow("round_trip", {"b": 1, "a": 2, "text": text, "10": 0, "9": 0})
    handle.signal("s", {"y": 1, "x": 2})
    out = handle.result(20)
    assert out["inputKeys"] == out["gotKeys"] == ["9", "10", "b", "a", "text"]  # JavaScript's order
    assert out["localKeys"] == ["9", "10", "z", "y"]
    assert out["signalKeys"] == ["y", "x"] and list(out["signal"]) == ["y", "x"]
    assert out["text"] == text and out["same"] is True
    assert list(out) == ["inputKeys", "gotKeys", "localKeys", "signalKeys", "text", "same", "signal"]


# -- 2. retries and task failures ---------------------------------------------------------------


def test_retries_then_success(client, db_url, project):
    t = tag()
    handle = client.start_workflow("retry", {"task": "flaky", "payload": {"tag": t, "failures": 2}})
    assert handle.result(20) == {"value": "ok after 3 attempts"}
    starts = project.events(task="flaky", tag=t)
    assert [s["attempt"] for s in starts] == [1, 2, 3]
    assert all(b["time"] - a["time"] >= 0.02 for a, b in zip(starts, starts[1:])), "no backoff between attempts"
    [row] = task_rows(db_url, handle.id)
    assert (row["status"], row["attempts"]) == ("completed", 3)


def test_exhausted_retries_reach_the_workflow_catch(client, db_url, project):
    t = tag()
    handle = client.start_workflow("retry", {"task": "flaky", "payload": {"tag": t, "failures": 10}})
    assert handle.result(20) == {"name": "TaskError", "message": "flaky failure 3"}
    assert len(project.events(task="flaky", tag=t)) == 3
    [row] = task_rows(db_url, handle.id)
    assert (row["status"], row["attempts"], row["error"]["message"]) == ("failed", 3, "flaky failure 3")


def test_async_tasks_and_their_timeout(client):
    assert client.run_workflow("retry", {"task": "async_add", "payload": {"a": 1, "b": 2}}, timeout=20) == {"value": 3}
    started = time.monotonic()
    out = client.run_workflow("retry", {"task": "async_too_slow", "payload": {}}, timeout=20)
    assert out == {"name": "TaskError", "message": "task 'async_too_slow' timed out after 0.2s"}
    assert time.monotonic() - started < 5


def test_standalone_queued_task(client, db_url):
    task_id = client.queue_task("add", {"a": 20, "b": 22})
    row = wait_for(lambda: (r := client.store.get_task(task_id))["status"] == "completed" and r, what="the task")
    assert (row["result"], row["attempts"]) == (42, 1)


def test_task_result_that_is_not_json(client):
    out = client.run_workflow("retry", {"task": "bad_result", "payload": {}}, timeout=20)
    assert out["name"] == "TaskError"
    assert "'bad_result'" in out["message"] and "not JSON" in out["message"] and "set" in out["message"], out


def test_a_task_no_worker_has_waits_visibly_and_an_unknown_workflow_lists_the_known_ones(client, db_url):
    """A task name no worker registered is scheduled all the same (another service may deploy it): the run
    waits, and inspect says so with a "did you mean"."""
    handle = client.start_workflow("retry", {"task": "asyn_add", "payload": {}})
    wait_for(lambda: handle.describe()["waiting"], 20, "the run to wait on its task")
    [wait] = inspect_run(db_url, handle.id)["waiting"]
    assert (wait["name"], wait["status"], wait["served"], wait["registered"]) == ("asyn_add", "pending", False, False)
    text = render_report(inspect_run(db_url, handle.id))
    assert "no live worker serves task 'asyn_add' (queue default) since " in text
    assert "no worker has registered it (did you mean 'async_add'?)" in text
    time.sleep(0.5)
    assert handle.describe()["status"] == "suspended"  # no worker claimed and failed it
    assert handle.cancel()
    with pytest.raises(UnknownWorkflow) as caught:
        client.start_workflow("no_such_workflow", {})
    assert ("unknown workflow 'no_such_workflow': no worker has registered 'no_such_workflow' yet (start or restart "
            "a worker, or run `rhythm register`); known workflows: ") in str(caught.value)
    assert "tasks_basic" in str(caught.value) and "versioned" in str(caught.value)


# -- 4. idempotent start, cancellation ----------------------------------------------------------


def test_starting_twice_with_one_id_is_one_run(client, db_url, project):
    t = tag()
    run_id = f"order-{t}"
    first = client.start_workflow("tasks_basic", {"a": 1, "tag": t}, id=run_id)
    second = client.start_workflow("tasks_basic", {"a": 1, "tag": t}, id=run_id)
    assert first.id == second.id == run_id
    assert first.result(20) == second.result(20) == {"sum": 3}
    wait_for(lambda: project.events(task="record", tag=t), what="the fire-and-forget task")
    third = client.start_workflow("tasks_basic", {"a": 1, "tag": t}, id=run_id)  # after it finished, too
    assert third.result(5) == {"sum": 3}
    time.sleep(0.3)
    assert len(project.events(task="record", tag=t)) == 1
    assert len(project.events(task="add", run=run_id)) == 1
    assert len(query(db_url, "SELECT 1 FROM rhythm.runs WHERE id = %s", (run_id,))) == 1
    assert run_row(db_url, run_id)["activations"] == 2
    with pytest.raises(RunIdConflict, match="already used by a run of workflow 'tasks_basic'"):
        client.start_workflow("timer", {"seconds": 0}, id=run_id)
    with pytest.raises(RunIdConflict, match="reserved for the ids of child runs"):
        client.start_workflow("timer", {"seconds": 0}, id=f"{run_id}/0.1")


def test_a_forced_cancel_stops_the_run_its_tasks_and_its_children_at_once(client, db_url, project):
    t = tag()
    handle = client.start_workflow("cancel_me", {"tag": t})
    [child] = wait_for(lambda: query(db_url, "SELECT id, status FROM rhythm.runs WHERE parent_run_id = %s "
                                             "AND status = 'suspended'", (handle.id,)), what="the child to wait")
    wait_for(lambda: run_row(db_url, handle.id)["status"] == "suspended", what="the parent to wait")
    assert [r["status"] for r in task_rows(db_url, handle.id)] == ["pending"]  # nobody serves its queue

    assert handle.cancel(force=True) is True
    assert handle.status() == "cancelled"
    assert run_row(db_url, handle.id)["error"]["message"].startswith("the run was terminated")
    assert run_row(db_url, child["id"])["status"] == "cancelled"
    assert [r["status"] for r in task_rows(db_url, handle.id)] == ["cancelled"]
    with pytest.raises(WorkflowFailed) as caught:
        handle.result(5)
    assert caught.value.status == "cancelled"
    # No more code runs: a signal cannot reach the child, the parent does not go on.
    with pytest.raises(RunFinished):
        client.get(child["id"]).signal("never", "too late")
    activations = run_row(db_url, handle.id)["activations"]
    time.sleep(0.5)
    assert run_row(db_url, handle.id)["activations"] == activations
    assert project.events(tag=t) == []
    assert handle.cancel() is False and handle.cancel(force=True) is False


def rhythm_cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RHYTHM), *args], env={**os.environ, "RHYTHM_DATABASE_URL": db_url},
                          capture_output=True, text=True, timeout=60)


def test_rhythm_cancel_runs_the_finally_block_and_its_compensation_task(client, db_url, project):
    t = tag()
    handle = client.start_workflow("cancel_cleanup", {"tag": t})
    wait_for(lambda: run_row(db_url, handle.id)["signal_waits"], what="the run to wait for its signal")

    done = rhythm_cli(db_url, "cancel", handle.id)
    assert done.returncode == 0 and "its catch and finally blocks run first" in done.stderr, done.stderr
    with pytest.raises(WorkflowFailed) as caught:
        handle.result(20)
    assert caught.value.status == "cancelled" and caught.value.error["type"] == "CancelledError"
    [released] = project.events(task="release-stock", tag=t)
    assert released["run"] == handle.id
    assert [(r["name"], r["status"]) for r in task_rows(db_url, handle.id)] == [("release-stock", "completed")]
    row = run_row(db_url, handle.id)
    assert row["signal_waits"] == [] and row["cancel_delivered_at"] is not None
    again = rhythm_cli(db_url, "cancel", handle.id)
    assert again.returncode == 0 and "had already finished" in again.stderr


def test_a_cancel_reaches_the_catch_and_cancels_what_the_await_waited_for(client, db_url, project):
    t = tag()
    handle = client.start_workflow("cancel_cascade", {"tag": t})
    [child] = wait_for(lambda: query(db_url, "SELECT id FROM rhythm.runs WHERE parent_run_id = %s "
                                             "AND status = 'suspended'", (handle.id,)), what="the child to wait")
    wait_for(lambda: run_row(db_url, handle.id)["status"] == "suspended", what="the parent to wait")

    assert handle.cancel() is True
    assert handle.cancel() is False  # being cancelled already
    with pytest.raises(WorkflowFailed) as caught:
        handle.result(20)
    assert caught.value.status == "cancelled"
    assert run_row(db_url, handle.id)["output"] == "cleaned up"  # what its cleanup returned, kept
    [seen] = project.events(task="release-stock", tag=t)
    assert seen["value"] == "CancelledError: the run was cancelled"
    # The child ran its own finally block; the task that never started was dropped.
    wait_for(lambda: run_row(db_url, child["id"])["status"] == "cancelled", what="the child's cleanup")
    assert project.events(task="release-stock", tag=f"{t}-child")[0]["run"] == child["id"]
    assert [(r["name"], r["status"]) for r in task_rows(db_url, handle.id)] == [
        ("parked", "cancelled"), ("release-stock", "completed")]


def test_cleanup_that_throws_another_error_fails_the_run(client, db_url, project):
    handle = client.start_workflow("cancel_cascade", {"tag": tag(), "rethrow": True})
    wait_for(lambda: run_row(db_url, handle.id)["status"] == "suspended", what="the parent to wait")
    handle.cancel()
    with pytest.raises(WorkflowFailed) as caught:
        handle.result(20)
    assert caught.value.status == "failed"
    assert caught.value.error["message"] == "cleanup broke: CancelledError"


def test_parent_awaiting_a_cancelled_child_sees_an_error(client, db_url):
    handle = client.start_workflow("awaits_child", {"tag": tag()})
    [child] = wait_for(lambda: query(db_url, "SELECT id FROM rhythm.runs WHERE parent_run_id = %s "
                                             "AND status = 'suspended'", (handle.id,)), what="the child to wait")
    assert client.get(child["id"]).cancel() is True
    assert handle.result(20) == {"name": "WorkflowError", "message": f"child run {child['id']} was cancelled"}


# -- 5. crashes ------------------------------------------------------------------------------------


def test_worker_killed_during_a_task(own_db, tmp_path):
    """SIGKILL mid-task: the lease expires, another worker runs the task again and finishes the run."""
    url, started = own_db
    project = Project(tmp_path / "app")
    started.append(first := WorkerProcess(project, url, lease_seconds=1))
    client = SyncRhythmClient(url)
    try:
        t = tag()
        handle = client.start_workflow("steps", {"tag": t, "seconds": [0, 60, 0, 0]})
        wait_for(lambda: project.events(task="crashy", tag=f"{t}-1"), what="step 1 to start")
        first.kill()
        started.append(second := WorkerProcess(project, url, lease_seconds=1))
        assert handle.result(30) == [0, 10, 20, 30]
        starts = {i: [e["pid"] for e in project.events(task="crashy", tag=f"{t}-{i}", event="start")]
                  for i in range(4)}
        assert starts == {0: [first.pid], 1: [first.pid, second.pid], 2: [second.pid], 3: [second.pid]}
        assert project.events(task="crashy", tag=f"{t}-1", event="end", pid=first.pid) == []
        assert_one_task_row_per_await(url, handle.id, 4)
        # The lost attempt is not one of the task's retries (it has none): a lost lease is counted apart.
        rows = task_rows(url, handle.id)
        assert [(r["attempts"], r["lost_leases"], r["max_attempts"]) for r in rows] == [(1, 0, 1), (1, 1, 1),
                                                                                         (1, 0, 1), (1, 0, 1)]
    finally:
        client.close()


def test_worker_killed_while_async_functions_are_suspended(own_db, tmp_path):
    """SIGKILL while a run waits inside nested async functions: each frame resumes at its own await on
    another worker, nothing before it runs again, and only the killed task runs twice."""
    url, started = own_db
    project = Project(tmp_path / "app")
    started.append(first := WorkerProcess(project, url, lease_seconds=1))
    client = SyncRhythmClient(url)
    try:
        t = tag()
        handle = client.start_workflow("async_lanes", {"tag": t, "slow": "b-1"})
        wait_for(lambda: project.events(task="crashy", tag=f"{t}-b-1"), what="lane b's second step to start")

        def suspended_in_lane_b():  # lane("b") waits inside step("b", 1): two frames, their own state and locals
            snapshot = run_row(url, handle.id)["snapshot"]
            frames = (snapshot or {}).get("data", {}).get("F", {})
            return sorted((int(f["fn"]), f["L"].get("lane", f["L"].get("name"))) for f in frames.values()) == [
                (1, "b"), (2, "b")]

        wait_for(suspended_in_lane_b, what="lanes a and c to finish, the run waiting inside lane b")
        first.kill()
        started.append(second := WorkerProcess(project, url, lease_seconds=1))
        result = handle.result(30)
        # lanes a and c finish while the first worker runs their tasks side by side: either may be first
        assert result["lanes"] == [["a0", "a1"], ["b0", "b1"], ["c0", "c1"]]
        assert sorted(result["done"][:2]) == ["a", "c"] and result["done"][2:] == ["b"]
        starts = {f"{lane}-{i}": [e["pid"] for e in project.events(task="crashy", tag=f"{t}-{lane}-{i}", event="start")]
                  for lane in "abc" for i in range(2)}
        assert starts == {"a-0": [first.pid], "a-1": [first.pid], "b-0": [first.pid], "b-1": [first.pid, second.pid],
                          "c-0": [first.pid], "c-1": [first.pid]}
        assert_one_task_row_per_await(url, handle.id, 6)
    finally:
        client.close()


LOOPS = 900_000  # about 1.5 s of workflow code in one activation, within the step budget


def test_worker_killed_inside_an_activation(own_db, tmp_path):
    """SIGKILL while a run's activation holds its transaction open: nothing of it was committed."""
    url, started = own_db
    project = Project(tmp_path / "app")
    started.append(first := WorkerProcess(project, url, lease_seconds=1))
    client = SyncRhythmClient(url)
    try:
        t = tag()
        handle = client.start_workflow("busy", {"tag": t, "loops": LOOPS})
        wait_for(lambda: project.events(task="record", tag=t, value="a"), what="the first task")

        def open_activation():  # a worker connection holding a run's lock while Python runs the workflow
            return query(url, "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                              "AND state = 'idle in transaction' AND backend_xid IS NOT NULL "
                              "AND state_change < clock_timestamp() - interval '150 ms' "
                              "AND application_name = 'rhythm'")

        wait_for(open_activation, 10, "the long activation's transaction")
        before = run_row(url, handle.id)
        first.kill()
        assert run_row(url, handle.id)["activations"] == before["activations"]
        assert len(task_rows(url, handle.id)) == 1  # the second task was never scheduled
        started.append(WorkerProcess(project, url, lease_seconds=1))
        assert handle.result(30) == {"a": "a", "b": "b", "x": sum(range(LOOPS))}
        # Task a's result committed with the activation it woke (one commit per step), so the kill
        # lost it and a ran again: at-least-once, as documented. b ran exactly once.
        assert [e["value"] for e in project.events(task="record", tag=t)] == ["a", "a", "b"]
        assert_one_task_row_per_await(url, handle.id, 2)
    finally:
        client.close()


# -- 6. SIGTERM ------------------------------------------------------------------------------------


def test_sigterm_finishes_the_running_task_and_exits_0(own_db, tmp_path):
    url, started = own_db
    project = Project(tmp_path / "app")
    # A lease shorter than the task: it must be renewed while the worker drains.
    started.append(worker := WorkerProcess(project, url, lease_seconds=0.9))
    client = SyncRhythmClient(url)
    try:
        t = tag()
        handle = client.start_workflow("steps", {"tag": t, "task": "slow", "seconds": [2.5, 0, 0, 0]})
        wait_for(lambda: project.events(task="slow", tag=f"{t}-0"), what="the slow task to start")
        stopping = time.monotonic()
        os.kill(worker.pid, signal.SIGTERM)
        later = client.start_workflow("tasks_basic", {"a": 1, "tag": t})  # must not be claimed any more
        time.sleep(1.5)
        [task] = query(url, "SELECT status, lease_owner, lease_expires_at > now() AS held "
                            "FROM rhythm.tasks WHERE run_id = %s", (handle.id,))
        assert (task["status"], task["held"]) == ("running", True), task
        assert worker.proc.wait(20) == 0, worker.text()
        assert time.monotonic() - stopping >= 0.5
        assert project.events(task="slow", tag=f"{t}-0", event="end", pid=worker.pid)
        rows = task_rows(url, handle.id)
        assert [(r["status"], r["attempts"]) for r in rows] == [("completed", 1), ("pending", 0)]
        assert run_row(url, later.id)["status"] == "pending"
        assert project.events(task="slow", tag=f"{t}-1") == []
        assert "stopped" in worker.text()
        started.append(WorkerProcess(project, url))
        assert handle.result(20) == [0, 10, 20, 30]
        assert later.result(20) == {"sum": 3}
    finally:
        client.close()


def test_rhythm_worker_command_stops_on_sigterm(own_db, tmp_path):
    url, started = own_db
    project = Project(tmp_path / "app")
    started.append(worker := WorkerProcess(project, url, cli=True))
    client = SyncRhythmClient(url)
    try:
        assert client.run_workflow("tasks_basic", {"a": 2, "tag": tag()}, timeout=20) == {"sum": 4}
        assert worker.terminate() == 0, worker.text()
    finally:
        client.close()


# -- 3. versions -----------------------------------------------------------------------------------


def test_runs_finish_on_the_version_they_started_with(own_db, tmp_path):
    url, started = own_db
    project = Project(tmp_path / "app")
    started.append(old_worker := WorkerProcess(project, url))
    client = SyncRhythmClient(url)
    try:
        old_run = client.start_workflow("versioned", {})
        altered = client.start_workflow("versioned", {})
        broken = client.start_workflow("versioned", {})
        for h in (old_run, altered, broken):
            wait_for(lambda: run_row(url, h.id)["status"] == "suspended", what="the run to wait")
        v1 = run_row(url, old_run.id)["version"]
        assert old_worker.terminate() == 0

        # A new build: the .flow file changed, every worker restarts with it.
        flow = project.root / "workflows" / "versioned.flow"
        flow.write_text(flow.read_text().replace('"one"', '"two"').replace("Version one", "Version two"))
        project.compile()
        assert v1 not in (project.root / "workflows" / "compiled" / "versioned.py").read_text()
        started.append(new_worker := WorkerProcess(project, url))

        new_run = client.start_workflow("versioned", {})
        v2 = run_row(url, new_run.id)["version"]
        assert v2 != v1

        # Stored code that does not match its hash is refused, with a clear error.
        [stored] = query(url, "SELECT module_code, module_hash FROM rhythm.workflow_versions WHERE version = %s",
                         (v1,))
        query(url, "UPDATE rhythm.workflow_versions SET module_code = module_code || '\n# changed\n' "
                   "WHERE version = %s", (v1,))
        altered.signal("go", "x")
        with pytest.raises(WorkflowFailed) as caught:
            altered.result(20)
        assert caught.value.error["type"] == "VersionError"
        assert caught.value.error["message"].startswith(f"refusing to run workflow 'versioned' version {v1}: "
                                                       "its stored module code has sha256 ")
        # Stored code that matches its hash but does not load fails its run too; the worker goes on.
        bad = stored["module_code"] + "\nraise RuntimeError('broken on purpose')\n"
        query(url, "UPDATE rhythm.workflow_versions SET module_code = %s, module_hash = %s WHERE version = %s",
              (bad, hashlib.sha256(bad.encode()).hexdigest(), v1))
        broken.signal("go", "x")
        with pytest.raises(WorkflowFailed) as caught:
            broken.result(20)
        assert caught.value.error["type"] == "VersionError"
        assert caught.value.error["message"] == (f"the stored module of workflow 'versioned' version {v1} does not "
                                                 "load: RuntimeError: broken on purpose")
        query(url, "UPDATE rhythm.workflow_versions SET module_code = %s, module_hash = %s WHERE version = %s",
              (stored["module_code"], stored["module_hash"], v1))

        old_run.signal("go", "old")
        new_run.signal("go", "new")
        assert old_run.result(20) == {"version": "one", "s": "old"}
        assert new_run.result(20) == {"version": "two", "s": "new"}
        assert run_row(url, old_run.id)["version"] == v1
        assert f"loaded workflow versioned version {v1} from Postgres" in new_worker.text()
    finally:
        client.close()


def test_a_bug_while_advancing_fails_the_run_not_the_worker(own_db):
    """An exception out of Rhythm's own code during an activation (not a workflow error) fails that run."""
    from rhythm_compiler import compile_source
    from rhythm_runtime.execution.modules import load_module, module_hash
    from rhythm_runtime.storage.engine import Engine

    url, _ = own_db
    code = compile_source('await Task.run("x", 1)\nreturn 1\n', "bug.flow").code
    module = load_module(code, "bug")

    def body(S, L):  # what a bug in the machine or in values.py looks like from here
        raise ZeroDivisionError("division by zero")
        yield

    module.body = body
    store = Store(url)
    try:
        store.register_version("bug", module.VERSION, "", code, module_hash(code))
        run_id, _ = store.start_run("bug", {})
        engine = Engine(lambda conn, name, version: module, {}, 1000)
        assert store.advance_one(engine) is True
        row = store.get_run(run_id)
        assert (row["status"], row["error"]["type"]) == ("failed", "InternalError")
        assert "ZeroDivisionError: division by zero" in row["error"]["message"]
        assert "this is a bug in Rhythm" in row["error"]["message"]
        assert store.advance_one(engine) is False  # not retried forever
    finally:
        store.close()


def test_a_batch_of_activations_with_a_broken_run_fails_only_that_run(own_db):
    """Runs advanced together in one transaction: when one breaks Rhythm, the batch rolls back and each run
    is advanced alone, so the others go on and only the broken one fails."""
    from rhythm_compiler import compile_source
    from rhythm_runtime.execution.modules import load_module, module_hash
    from rhythm_runtime.storage.engine import Engine

    url, _ = own_db
    store = Store(url)
    modules = {}
    for name in ("fine", "broken"):
        code = compile_source("return Inputs.n + 1\n", f"{name}.flow").code
        modules[name] = load_module(code, name)
        store.register_version(name, modules[name].VERSION, "", code, module_hash(code))

    def body(S, L):  # what a bug in the machine looks like from here
        raise ZeroDivisionError("division by zero")
        yield

    modules["broken"].body = body
    try:
        ids = [store.start_run(name, {"n": n})[0] for n, name in enumerate(["fine", "broken", "fine", "fine"])]
        engine = Engine(lambda conn, name, version: modules[name], {}, 1000)
        assert store.advance_runnable(engine, 10) == 4
        runs = [store.get_run(run_id) for run_id in ids]
        assert [(r["status"], r["output"]) for r in runs] == [("completed", 1), ("failed", None), ("completed", 3),
                                                              ("completed", 4)]
        assert runs[1]["error"]["type"] == "InternalError"
        assert [r["activations"] for r in runs] == [1, 1, 1, 1]
        assert store.advance_runnable(engine, 10) == 0
    finally:
        store.close()


def test_a_batch_saves_its_runs_together_and_a_module_that_fails_fails_only_its_run(own_db):
    """A batch holds back its runs' saves and writes them together (one statement per kind): runs that wait,
    runs that end, and a run whose workflow module cannot be loaded (failed with a VersionError, the others
    saved as usual, each with its history step; the timers of the waiting runs kept)."""
    from rhythm_compiler import compile_source
    from rhythm_runtime.execution.modules import load_module, module_hash
    from rhythm_runtime.storage.engine import Engine, VersionUnavailable

    url, _ = own_db
    store = Store(url)
    sources = {"waits": "await Timer.delay(3600)\nreturn 1\n", "ends": "return Inputs.n * 2\n",
               "unloadable": "return 0\n"}
    modules = {}
    for name, source in sources.items():
        code = compile_source(source, f"{name}.flow").code
        modules[name] = load_module(code, name)
        store.register_version(name, modules[name].VERSION, "", code, module_hash(code))

    def module_for(conn, name, version):
        if name == "unloadable":
            raise VersionUnavailable("the stored module of workflow 'unloadable' does not load: SyntaxError")
        return modules[name]

    try:
        names = ["waits", "ends", "unloadable", "waits", "ends"]
        ids = [store.start_run(name, {"n": n})[0] for n, name in enumerate(names)]
        assert store.advance_runnable(Engine(module_for, {}, 1000), 10) == 5
        runs = [store.get_run(run_id) for run_id in ids]
        assert [(r["status"], r["output"]) for r in runs] == [("suspended", None), ("completed", 2), ("failed", None),
                                                              ("suspended", None), ("completed", 8)]
        assert runs[2]["error"]["type"] == "VersionError" and "does not load" in runs[2]["error"]["message"]
        assert [(r["activations"], r["waiting"] != []) for r in runs] == [(1, True), (1, False), (1, False),
                                                                          (1, True), (1, False)]
        timers = query(url, "SELECT run_id FROM rhythm.timers WHERE fired_at IS NULL ORDER BY run_id")
        assert [t["run_id"] for t in timers] == sorted([ids[0], ids[3]])
        steps = query(url, "SELECT run_id, details->>'status' AS status FROM rhythm.history ORDER BY run_id")
        assert sorted((s["run_id"], s["status"]) for s in steps) == sorted(zip(ids, [r["status"] for r in runs]))
    finally:
        store.close()


def test_a_batch_trims_each_runs_history_to_the_limit(own_db):
    """Runs saved together keep their newest steps only, as a run saved alone does."""
    from rhythm_compiler import compile_source
    from rhythm_runtime.execution.modules import load_module, module_hash
    from rhythm_runtime.storage.engine import Engine

    url, _ = own_db
    store = Store(url)
    code = compile_source("let n = 0\nwhile (n < 4) {\n  await Timer.delay(0)\n  n = n + 1\n}\nreturn n\n",
                          "ticks.flow").code
    module = load_module(code, "ticks")
    store.register_version("ticks", module.VERSION, "", code, module_hash(code))
    try:
        ids = [store.start_run("ticks", {})[0] for _ in range(2)]
        engine = Engine(lambda conn, name, version: module, {}, 1000)
        engine.history_limit = 2
        for _ in range(5):
            assert store.advance_runnable(engine, 10) == 2
            store.fire_timers()
        assert [store.get_run(run_id)["output"] for run_id in ids] == [4, 4]
        rows = query(url, "SELECT run_id, seq FROM rhythm.history ORDER BY run_id, seq")
        assert sorted((r["run_id"], r["seq"]) for r in rows) == sorted((i, seq) for i in ids for seq in (4, 5))
    finally:
        store.close()


def test_a_batch_advances_a_parent_with_the_outcome_its_child_delivered_in_the_same_batch(own_db):
    """A child and its parent locked by one batch: when the child ends first, the parent (read when the
    batch locked it) is read again before its activation, so it sees the child's result instead of
    saving over it and waiting for it forever. Every run of the batch is saved in one statement per kind."""
    from rhythm_compiler import compile_source
    from rhythm_runtime.execution.modules import load_module, module_hash
    from rhythm_runtime.storage.engine import Engine

    url, _ = own_db
    store = Store(url)
    sources = {"parent": 'const a = Workflow.run("kid", { n: 1 }, { delay: 0.01 })\n'
                         'const b = Workflow.run("kid", { n: 2 }, { delay: 0.01 })\n'
                         'return await Promise.all([a, b])\n',
               "kid": "return Inputs.n * 10\n"}
    modules = {}
    for name, source in sources.items():
        code = compile_source(source, f"{name}.flow").code
        modules[name] = load_module(code, name)
        store.register_version(name, modules[name].VERSION, "", code, module_hash(code))
    try:
        run_id, _ = store.start_run("parent", {})
        engine = Engine(lambda conn, name, version: modules[name], {}, 1000)
        assert store.advance_runnable(engine, 1) == 1  # the parent starts both children, delayed
        time.sleep(0.05)
        assert store.advance_runnable(engine, 1) == 1  # one child ends: the parent is runnable after the other
        assert store.advance_runnable(engine, 10) == 2  # the other child, then the parent
        parent = store.get_run(run_id)
        assert (parent["status"], parent["output"]) == ("completed", [10, 20])
        assert [r["status"] for r in query(url, "SELECT status FROM rhythm.runs")] == ["completed"] * 3
        assert store.advance_runnable(engine, 10) == 0
    finally:
        store.close()


def test_a_batch_of_activations_leases_the_tasks_it_schedules_to_the_free_slots(own_db):
    """The loop's activations insert the tasks they schedule already leased to the loop's free task slots
    (no claim, no NOTIFY; one of a run's tasks is inserted by its snapshot's save, the others alone); past
    those slots they stay pending for any worker."""
    from rhythm_compiler import compile_source
    from rhythm_runtime.api.tasks import TaskSpec
    from rhythm_runtime.execution.modules import load_module, module_hash
    from rhythm_runtime.storage.engine import Engine, InlineClaim

    url, _ = own_db
    store = Store(url)
    code = compile_source('return await Promise.all([Task.run("x", Inputs.n), Task.run("x", -Inputs.n)])\n',
                          "two_tasks.flow").code
    module = load_module(code, "two_tasks")
    store.register_version("two_tasks", module.VERSION, "", code, module_hash(code))
    try:
        ids = [store.start_run("two_tasks", {"n": n})[0] for n in range(1, 4)]
        engine = Engine(lambda conn, name, version: module, {"x": TaskSpec("x", lambda payload: payload)}, 1000)
        claim = InlineClaim("w1", 30.0, frozenset({"x"}), slots=3)
        assert store.advance_runnable(engine, 10, claim) == 3
        taken = claim.taken()
        assert sorted(t["payload"] for t in taken) == [-1, 1, 2] and all(t["attempts"] == 1 for t in taken)
        rows = query(url, "SELECT payload, status, lease_owner FROM rhythm.tasks")
        assert sorted((r["payload"], r["status"], r["lease_owner"] or "") for r in rows) == [
            (-3, "pending", ""), (-2, "pending", ""), (-1, "running", "w1"), (1, "running", "w1"),
            (2, "running", "w1"), (3, "pending", "")]
        assert {t["run_id"] for t in taken} == set(ids[:2])
    finally:
        store.close()


ISOLATED = """let got = null
try {
  got = await Task.run("x", 1)
} catch (e) {
  got = e.message
}
const child = await Workflow.run("isolated_child", {})
return [got, child]
"""


def _one_task_run(url: str) -> tuple:
    """A run awaiting task x (then starting a child inline), advanced to it, the task claimed, and an engine."""
    from rhythm_compiler import compile_source
    from rhythm_runtime.execution.modules import load_module, module_hash
    from rhythm_runtime.storage.engine import Engine

    store = Store(url)
    modules = {}
    for name, source in (("isolated", ISOLATED), ("isolated_child", "return 2\n")):
        code = compile_source(source, f"{name}.flow").code
        modules[name] = load_module(code, name)
        store.register_version(name, modules[name].VERSION, "", code, module_hash(code))
    run_id, _ = store.start_run("isolated", {})
    engine = Engine(lambda conn, name, version: modules[name], {}, 1000)
    assert store.advance_one(engine) is True
    [task] = store.claim_tasks("w1", ["default"], ["x"], 1, 30.0)
    return store, engine, run_id, task


@pytest.mark.parametrize("outcome", ["ok", "failed"])
@pytest.mark.parametrize("failure", ["python", "postgres at commit"])
def test_an_activation_that_fails_after_its_task_keeps_the_outcome_and_the_run(own_db, failure, outcome):
    """No savepoint guards the step: when the activation an outcome wakes fails (a bug in Rhythm after it
    ran, or a write Postgres refuses at COMMIT), all of the step rolls back, the child it started inline
    too, and the outcome is recorded again alone, so the run keeps it and the loop advances the run later."""
    from rhythm_runtime.api.tasks import TaskSpec
    from rhythm_runtime.storage.engine import Engine, InlineClaim

    url, _ = own_db
    store, engine, run_id, task = _one_task_run(url)

    class Broken(Engine):
        def advance(self, conn, row, *args, **kwargs):
            notify = super().advance(conn, row, *args, **kwargs)
            if failure == "python" and not args:  # the parent's activation, after its child's ran inline
                raise ZeroDivisionError("division by zero")
            conn.execute("SELECT 1 / 0")  # pipelined: Postgres refuses it when the step's COMMIT is sent
            return notify

    value = 41 if outcome == "ok" else {"type": "TaskError", "message": "boom", "traceback": "..."}
    try:
        broken = Broken(engine.modules, {}, 1000)
        assert store.finish_task(broken, task, "w1", outcome == "ok", value,
                                 InlineClaim("w1", 30.0, frozenset({"x"}))) == []
        [row] = task_rows(url, run_id)
        assert row["status"] == ("completed" if outcome == "ok" else "failed")
        assert (row["result"] if outcome == "ok" else row["error"]["message"]) == (41 if outcome == "ok" else "boom")
        run = run_row(url, run_id)
        assert run["status"] == "suspended" and run["available_at"] is not None and run["activations"] == 1
        assert run["inbox"][task["await_key"]][1] == ("ok" if outcome == "ok" else "err")
        assert query(url, "SELECT id FROM rhythm.runs WHERE parent_run_id = %s", (run_id,)) == []
        assert store.advance_one(engine) is True  # the loop's turn: the run goes on with the kept outcome
        done = store.get_run(run_id)
        assert (done["status"], done["output"]) == ("completed", [41 if outcome == "ok" else "boom", 2])
    finally:
        store.close()


# -- 6. the project: registering from the command line, a worker without its workflows --------------


def test_rhythm_register_lets_runs_start_before_any_worker(own_db, tmp_path):
    url, _ = own_db
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "brand_new.flow").write_text("return Inputs.n + 1\n", encoding="utf-8")
    env = {**os.environ, "RHYTHM_DATABASE_URL": url}
    cli = lambda *args, cwd=tmp_path: subprocess.run([str(RHYTHM), *args], cwd=cwd, env=env, capture_output=True,
                                                     text=True, timeout=60)
    early = cli("start", "brand_new", "--inputs", '{"n": 1}')
    assert early.returncode == 1 and early.stdout == ""
    assert ("no worker has registered 'brand_new' yet (start or restart a worker, or run `rhythm register`)"
            in early.stderr), early.stderr
    registered = cli("register", cwd=tmp_path / "workflows")  # the project is found above the current directory
    assert registered.returncode == 0, registered.stderr
    [(name, version)] = [line.split() for line in registered.stdout.splitlines()]
    assert name == "brand_new" and len(version) == 16 and "registered 1 workflows" in registered.stderr
    started = cli("start", "brand_new", "--inputs", '{"n": 1}')
    assert started.returncode == 0, started.stderr
    assert run_row(url, started.stdout.strip())["version"] == version


def test_rhythm_register_records_the_apps_tasks_so_runs_route_before_workers_start(own_db, tmp_path):
    """A deploy script registers the GPU service's app: a run started before any worker exists writes its
    task straight to that service's queue."""
    url, _ = own_db
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "thumbs.flow").write_text('return await Task.run("render-thumb", Inputs)\n',
                                                        encoding="utf-8")
    (tmp_path / "gpu.py").write_text(
        "from rhythm import RhythmApp, task\napp = RhythmApp()\n\n"
        "@task('render-thumb', queue='gpu', retries=2)\ndef render(payload):\n    return payload\n",
        encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.rhythm]\napp = "gpu:app"\n', encoding="utf-8")
    env = {**os.environ, "RHYTHM_DATABASE_URL": url}
    registered = subprocess.run([str(RHYTHM), "register"], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=60)
    assert registered.returncode == 0, registered.stderr
    assert "task render-thumb -> gpu" in registered.stdout and "recorded 1 tasks" in registered.stderr
    rows = query(url, "SELECT queue, max_attempts, registered_by FROM rhythm.task_registrations WHERE name = %s",
                 ("render-thumb",))
    assert rows[0]["queue"] == "gpu" and rows[0]["max_attempts"] == 3
    assert rows[0]["registered_by"].startswith("rhythm register (")
    started = subprocess.run([str(RHYTHM), "start", "thumbs", "--inputs", '{"id": 1}'], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr
    worker = CliWorker(tmp_path, url, "gpu:app", "--queues", "gpu")
    try:
        wait_for(lambda: run_row(url, started.stdout.strip())["status"] == "completed", what="the run")
    finally:
        worker.stop()
    assert query(url, "SELECT queue FROM rhythm.tasks WHERE run_id = %s", (started.stdout.strip(),)) == [
        {"queue": "gpu"}]


def test_a_worker_that_cannot_find_its_workflows_says_so_in_one_line(db_url, tmp_path):
    (tmp_path / "workflows").mkdir()
    (tmp_path / "svc.py").write_text("from rhythm import RhythmApp\napp = RhythmApp('flows')\n", encoding="utf-8")
    proc = subprocess.run([str(RHYTHM), "worker", "svc:app"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "RHYTHM_DATABASE_URL": db_url})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"error: workflows directory {tmp_path.resolve()}/flows does not exist (RhythmApp resolves relative "
        f"workflow directories against the project {tmp_path.resolve()})")


def test_the_run_commands_print_what_people_and_scripts_need(client, db_url, tmp_path):
    inputs = tmp_path / "inputs.json"
    inputs.write_text('{"a": 40, "tag": "cli"}', encoding="utf-8")
    done = rhythm_cli(db_url, "start", "tasks_basic", "--inputs", f"@{inputs}", "--wait")
    assert done.returncode == 0 and json.loads(done.stdout) == {"sum": 42}, done.stderr
    run_id = done.stderr.split()[1]
    assert done.stderr == f"run {run_id} completed\n" and run_row(db_url, run_id)["status"] == "completed"
    piped = subprocess.run([str(RHYTHM), "start", "signal_race", "--inputs", "-"], input='{"timeout": 3600}',
                           env={**os.environ, "RHYTHM_DATABASE_URL": db_url}, capture_output=True, text=True,
                           timeout=60)
    waiting = piped.stdout.strip()
    wait_for(lambda: run_row(db_url, waiting)["status"] == "suspended", what="the run to wait")

    status = rhythm_cli(db_url, "status", waiting).stdout.splitlines()
    assert status[1].startswith("waiting at signal_race.flow:2 for race of signal 'x', a timer due in 59m 5"), status
    listed = rhythm_cli(db_url, "list", "--limit", "2").stdout.splitlines()
    assert listed[0].split() == ["RUN", "WORKFLOW", "STATUS", "CREATED", "(UTC)"]
    assert listed[1].split()[:3] == [waiting, "signal_race", "suspended"]
    [row] = json.loads(rhythm_cli(db_url, "list", "--limit", "1", "--json").stdout)
    assert "T" in row["created_at"] and row["id"] == waiting
    bogus = rhythm_cli(db_url, "list", "--status", "bogus")
    assert bogus.returncode == 2 and "'bogus' is not one of" in bogus.stderr
    report = rhythm_cli(db_url, "inspect", waiting, "--json").stdout
    assert '"timeout": 3600\n' in report and "3600.0" not in report  # JSON numbers as JavaScript prints them


def test_rhythm_dev_reloads_with_a_timestamped_line_and_no_stale_module_warning(db_url, tmp_path):
    (tmp_path / "workflows").mkdir()
    flow = tmp_path / "workflows" / "dev_flow.flow"
    flow.write_text("return 1\n", encoding="utf-8")
    (tmp_path / "dev_app.py").write_text("from rhythm import RhythmApp\napp = RhythmApp()\n", encoding="utf-8")
    out = tmp_path / "dev.log"
    with open(out, "wb") as sink:
        proc = subprocess.Popen([str(RHYTHM), "dev", "dev_app:app"], cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT,
                                env={**os.environ, "RHYTHM_DATABASE_URL": db_url})
    try:
        wait_for(lambda: "started" in out.read_text(), 60, "rhythm dev to start")
        flow.write_text("return 2\n", encoding="utf-8")
        wait_for(lambda: "reloaded 1 workflows" in out.read_text(), 30, "the reload")
    finally:
        proc.terminate()
        proc.wait(20)
    text = out.read_text()
    [reloaded] = [line for line in text.splitlines() if "reloaded 1 workflows" in line]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO rhythm: reloaded 1 workflows", reloaded), reloaded
    assert "stale" not in text


def test_a_run_cleaning_up_says_so_and_a_forced_cancel_ends_it(client, db_url):
    handle = client.start_workflow("cancel_stuck", {})
    wait_for(lambda: run_row(db_url, handle.id)["signal_waits"], what="the run to wait for its signal")
    assert handle.cancel() is True
    wait_for(lambda: run_row(db_url, handle.id)["cancel_delivered_at"] is not None, what="the cleanup to start")
    report = rhythm_cli(db_url, "inspect", handle.id).stdout
    assert "suspended at cancel_stuck.flow:5 (state 4) (being cancelled: its catch and finally blocks run first)" \
        in report, report
    assert handle.status() == "suspended"
    assert handle.cancel(force=True) is True
    assert handle.status() == "cancelled" and [r["status"] for r in task_rows(db_url, handle.id)] == ["cancelled"]


def test_a_running_task_sees_that_its_await_was_cancelled(client, db_url, project):
    t = tag()
    handle = client.start_workflow("cancel_running", {"tag": t})
    wait_for(lambda: project.events(task="watch-cancel", tag=t), what="the task to start")
    assert handle.cancel() is True
    with pytest.raises(WorkflowFailed) as caught:
        handle.result(20)
    assert caught.value.status == "cancelled"
    assert project.events(task="release-stock", tag=t)  # the compensation ran; the task notices on its next poll
    wait_for(lambda: project.events(event="saw cancel", tag=t), what="the task to see the cancel")
    rows = {r["name"]: r for r in task_rows(db_url, handle.id)}
    wait_for(lambda: query(db_url, "SELECT status FROM rhythm.tasks WHERE id = %s", (rows["watch-cancel"]["id"],))
             == [{"status": "completed"}], what="the task to finish")
    assert rows["watch-cancel"]["cancel_requested_at"] is not None and rows["release-stock"]["cancel_requested_at"] is None
