"""A dead worker's work moves on in seconds, and the taking-over worker says so (real processes, real Postgres).

* SIGKILL a worker in the middle of a long task and of a long activation: the
  other worker sees the dead worker's database session gone from
  pg_stat_activity and re-runs the task at once (not when its 30 s lease
  expires), as attempt 2 with `lost_leases == 1`; the activation, which holds
  a row lock and no lease, is picked up as soon as Postgres rolls it back.
  The seconds from SIGKILL to each re-run starting are printed (the figure
  for the docs), and asserted only against a generous bound.
* SIGTERM with --shutdown-timeout: running tasks are abandoned after it, their
  leases released at once; a second Ctrl-C abandons them at once.
"""

from __future__ import annotations

import json
import re
import signal
import textwrap
import time

import pytest

from rhythm_runtime.api.client import SyncRhythmClient
from rhythm_runtime.inspection.inspect import inspect_run, render_report

from helpers import CliWorker, query, wait_for, write_flows

APP = """
import json, os, time
from rhythm import RhythmApp, current_task, task

app = RhythmApp("workflows", step_budget=10**10)

def note(**event):
    with open(os.environ["TAKEOVER_LOG"], "a") as f:
        f.write(json.dumps({"pid": os.getpid(), "time": time.time(), **event}) + "\\n")

@task("slow")
def slow(payload):
    ctx = current_task()
    note(task="slow", attempt=ctx.attempt, lost_leases=ctx.lost_leases, tag=payload["tag"])
    time.sleep(payload["seconds"])
    return {"pid": os.getpid(), "attempt": ctx.attempt, "lost_leases": ctx.lost_leases}

@task("mark")
def mark(payload):
    note(task="mark")

@task("after")
def after(payload):
    note(task="after", **payload)
    return os.getpid()
"""

FLOWS = {
    "slow": 'return await Task.run("slow", { seconds: Inputs.seconds, tag: Inputs.tag })\n',
    # The activation after "mark" spins for spinMs on the worker that runs it, holding the run's row lock.
    "spin": """\
await Task.run("mark", {})
const t0 = Date.now()
while (Date.now() < t0 + Inputs.spinMs) {}
return await Task.run("after", { t0: t0 })
""",
}


class Project:
    def __init__(self, root, url):
        self.root, self.url = root, url
        write_flows(root / "workflows", FLOWS)
        (root / "takeover_app.py").write_text(textwrap.dedent(APP))
        self.log = root / "events.log"
        self.log.touch()
        self.workers: list[CliWorker] = []

    def worker(self, *args: str) -> CliWorker:
        self.workers.append(w := CliWorker(self.root, self.url, "takeover_app:app", *args,
                                           env={"TAKEOVER_LOG": str(self.log)}))
        return w

    def events(self, **match) -> list[dict]:
        lines = [json.loads(x) for x in self.log.read_text().splitlines() if x]
        return [e for e in lines if all(e.get(k) == v for k, v in match.items())]


@pytest.fixture
def project(tmp_path, make_database, template_db):
    p = Project(tmp_path, make_database(template=template_db))
    yield p
    for w in p.workers:
        w.kill()


def test_a_killed_workers_task_and_activation_are_taken_over_in_seconds(project):
    victim = project.worker()  # alone at first: it takes the task and the activation
    client = SyncRhythmClient(project.url)
    try:
        slow = client.start_workflow("slow", {"seconds": 60, "tag": "victim"})
        spin = client.start_workflow("spin", {"spinMs": 20000})
        wait_for(lambda: project.events(task="slow", pid=victim.pid), 30, "the victim to start the slow task")
        wait_for(lambda: project.events(task="mark", pid=victim.pid), 30, "the victim to start spinning")
        survivor = project.worker()
        # A worker judges another's session only by heartbeats newer than its own connections (see
        # reclaim_lost_tasks): let the victim beat once more.
        wait_for(lambda: query(project.url, "SELECT 1 FROM rhythm.workers AS v, rhythm.workers AS s WHERE "
                                            "v.pid = %s AND s.pid = %s AND v.heartbeat_at > s.started_at + "
                                            "interval '0.1 seconds'", (victim.pid, survivor.pid)),
                 10, "a heartbeat of the victim after the survivor started")
        assert not project.events(task="after"), "the victim finished spinning before it could be killed"
        killed = time.time()
        victim.proc.send_signal(signal.SIGKILL)

        rerun = wait_for(lambda: project.events(task="slow", pid=survivor.pid), 30, "the task to run again")[0]
        task_takeover = rerun["time"] - killed
        assert (rerun["attempt"], rerun["lost_leases"]) == (2, 1), rerun
        resumed = wait_for(lambda: project.events(task="after"), 60, "the activation to be run again")[0]
        activation_takeover = resumed["t0"] / 1000 - killed
        assert resumed["pid"] == survivor.pid
        print(f"\ntakeover after SIGKILL: task re-run started {task_takeover:.2f}s later, activation re-run "
              f"{activation_takeover:.2f}s later (lease 30s)")
        # Generous bounds for a loaded machine; without the session check the task would wait for its 30 s lease.
        assert task_takeover < 15 and activation_takeover < 15

        # The mark task's result was to commit with the activation it woke (one commit per step), so the kill
        # lost both: the mark task is taken over too, and its re-run advances the run again.
        lines = [x for x in survivor.text().splitlines() if "took over task" in x]
        assert sorted(re.search(r"took over task \d+ \((\w+)\)", x)[1] for x in lines) == ["mark", "slow"], lines
        for line in lines:
            assert f"from worker {victim_id(project, victim.pid)}: its database session ended" in line, line
            assert "after it held the task " in line and "it runs again" in line
        [wait] = inspect_run(project.url, slow.id)["waiting"]
        assert (wait["status"], wait["holder"], wait["lost_leases"]) == ("running", survivor_id(project, survivor),
                                                                        1)
        assert f"held by {wait['holder']}, lease expires " in render_report(inspect_run(project.url, slow.id))
        assert client.get(spin.id).result(60) == survivor.pid
        client.get(slow.id).cancel()
    finally:
        client.close()


def victim_id(project, pid: int) -> str:
    [row] = query(project.url, "SELECT id FROM rhythm.workers WHERE pid = %s", (pid,))
    return row["id"]


def survivor_id(project, worker: CliWorker) -> str:
    return victim_id(project, worker.pid)


def test_shutdown_waits_then_abandons_running_tasks_and_releases_their_leases(project):
    worker = project.worker("--shutdown-timeout", "1")
    client = SyncRhythmClient(project.url)
    try:
        run = client.start_workflow("slow", {"seconds": 60, "tag": "abandoned"})
        wait_for(lambda: project.events(task="slow", tag="abandoned"), 30, "the task to start")
        asked = time.monotonic()
        assert worker.stop(signal.SIGTERM) == 0, worker.text()
        assert time.monotonic() - asked < 15  # the 1 s timeout, not the task's 60 s
        assert "abandoned 1 running task(s) at shutdown and released their leases" in worker.text()
        [row] = query(project.url, "SELECT status, lease_owner, lost_leases FROM rhythm.tasks WHERE run_id = %s",
                      (run.id,))
        assert (row["status"], row["lease_owner"], row["lost_leases"]) == ("pending", None, 1), row

        # A second Ctrl-C does not wait for the (default, 30 s) timeout; another worker runs the task again.
        patient = project.worker()
        rerun = wait_for(lambda: project.events(task="slow", pid=patient.pid), 30, "the task to run again")[0]
        assert (rerun["attempt"], rerun["lost_leases"]) == (2, 1)
        patient.proc.send_signal(signal.SIGINT)
        wait_for(lambda: "stopping: waiting up to 30s for 1 running task(s)" in patient.text(), 10, "the first stop")
        asked = time.monotonic()
        assert patient.stop(signal.SIGINT) == 0, patient.text()
        assert time.monotonic() - asked < 10
        [row] = query(project.url, "SELECT status, lease_owner, lost_leases FROM rhythm.tasks WHERE run_id = %s",
                      (run.id,))
        assert (row["status"], row["lease_owner"], row["lost_leases"]) == ("pending", None, 2), row
        client.get(run.id).cancel()
    finally:
        client.close()
